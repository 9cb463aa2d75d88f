import { describe, expect, it } from 'vitest';
import {
  fixed,
  formatBytes,
  formatClockUTC,
  formatCount,
  formatDateTimeUTC,
  formatDurationMs,
  formatMoney,
  formatPercent,
  formatRate,
  formatRatio,
  formatRelative,
  formatSeconds,
  formatValue,
} from './format';

describe('formatDurationMs', () => {
  it('picks the unit that keeps three digits', () => {
    expect(formatDurationMs(0)).toBe('0 ms');
    expect(formatDurationMs(0.004)).toBe('4 µs');
    expect(formatDurationMs(0.0125)).toBe('12.5 µs');
    expect(formatDurationMs(0.0004)).toBe('400 ns');
    expect(formatDurationMs(1.25)).toBe('1.25 ms');
    expect(formatDurationMs(152)).toBe('152 ms');
    expect(formatDurationMs(1260)).toBe('1.26 s');
    expect(formatDurationMs(60000)).toBe('1 min');
    expect(formatDurationMs(1260000)).toBe('21 min');
    expect(formatDurationMs(5400000)).toBe('1.5 h');
    expect(formatDurationMs(3 * 86400e3)).toBe('3 d');
  });
  it('moves to the next unit when rounding reaches the limit', () => {
    expect(formatDurationMs(999.7)).toBe('1 s');
    expect(formatDurationMs(0.9996)).toBe('1 ms');
  });
  it('keeps the sign and answers a dash for missing values', () => {
    expect(formatDurationMs(-152)).toBe('-152 ms');
    expect(formatDurationMs(null)).toBe('—');
    expect(formatDurationMs(undefined)).toBe('—');
    expect(formatDurationMs(NaN)).toBe('—');
  });
  it('reads seconds too', () => {
    expect(formatSeconds(0.00002)).toBe('20 µs');
    expect(formatSeconds(0.152)).toBe('152 ms');
    expect(formatSeconds(null)).toBe('—');
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(28311552)).toBe('27.0 MiB');
    expect(formatBytes(300 * 1024 * 1024)).toBe('300 MiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
    expect(formatBytes(Infinity)).toBe('—');
  });
});

describe('percentages and ratios', () => {
  it('formats values in percent', () => {
    expect(formatPercent(3.2)).toBe('3.2 %');
    expect(formatPercent(0.4)).toBe('0.40 %');
    expect(formatPercent(64.2)).toBe('64 %');
    expect(formatPercent(0)).toBe('0 %');
    expect(formatPercent(null)).toBe('—');
  });
  it('formats fractions as percent', () => {
    expect(formatRatio(0.64)).toBe('64 %');
    expect(formatRatio(0.0167)).toBe('1.7 %');
    expect(formatRatio(0.007)).toBe('0.70 %');
    expect(formatRatio(1)).toBe('100 %');
    expect(formatRatio(null)).toBe('—');
  });
});

describe('formatRate', () => {
  it('chooses per second, minute or hour', () => {
    expect(formatRate(0)).toBe('0/s');
    expect(formatRate(1)).toBe('1/s');
    expect(formatRate(2.5)).toBe('2.5/s');
    expect(formatRate(0.01)).toBe('36/h');
    expect(formatRate(0.05)).toBe('3/min');
    expect(formatRate(0.5)).toBe('30/min');
    expect(formatRate(0.0001)).toBe('0.36/h');
    expect(formatRate(undefined)).toBe('—');
  });
});

describe('counts and money', () => {
  it('groups and compacts counts', () => {
    expect(formatCount(14)).toBe('14');
    expect(formatCount(1234)).toBe('1,234');
    expect(formatCount(120000)).toBe('120k');
    expect(formatCount(2500000)).toBe('2.5M');
    expect(fixed(-1234567.891, 1)).toBe('-1,234,567.9');
  });
  it('formats money, signed when asked', () => {
    expect(formatMoney(10012.4)).toBe('10,012.40');
    expect(formatMoney(12.4, true)).toBe('+12.40');
    expect(formatMoney(-3.456, true)).toBe('-3.46');
    expect(formatMoney(0, true)).toBe('0.00');
  });
  it('formats chart values', () => {
    expect(formatValue(0)).toBe('0');
    expect(formatValue(0.123456)).toBe('0.1235');
    expect(formatValue(25000)).toBe('25k');
    expect(formatValue(0.00002)).toBe('2.00e-5');
  });
});

describe('times', () => {
  const now = Date.UTC(2025, 11, 5, 16, 0, 0);
  it('formats relative times', () => {
    expect(formatRelative(now - 2000, now)).toBe('just now');
    expect(formatRelative(now - 12000, now)).toBe('12 s ago');
    expect(formatRelative(now - 3 * 60e3 - 5000, now)).toBe('3 min ago');
    expect(formatRelative(now - 2 * 3600e3, now)).toBe('2 h ago');
    expect(formatRelative(now - 3 * 86400e3, now)).toBe('3 d ago');
    expect(formatRelative(now + 30e3, now)).toBe('in 30 s');
    expect(formatRelative(null, now)).toBe('—');
  });
  it('formats UTC clock and date', () => {
    expect(formatClockUTC(now + 65000)).toBe('16:01:05');
    expect(formatDateTimeUTC(now + 65000)).toBe('2025-12-05 16:01:05');
  });
});
