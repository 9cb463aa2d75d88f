import { describe, expect, it } from 'vitest';
import { matcherText, matchersForLabels, matchesLabels, parseDuration, parseMatchers } from './silences';

describe('parseMatchers', () => {
  it('reads Alertmanager matchers, with or without braces, commas or new lines', () => {
    expect(parseMatchers('{alertname="EngineMemoryHigh", severity=~"warning|critical"}')).toEqual({
      matchers: [
        { name: 'alertname', value: 'EngineMemoryHigh', isRegex: false, isEqual: true },
        { name: 'severity', value: 'warning|critical', isRegex: true, isEqual: true },
      ],
    });
    expect(parseMatchers('job != "a, b"\n  instance!~bot-.*\nteam=ops')).toEqual({
      matchers: [
        { name: 'job', value: 'a, b', isRegex: false, isEqual: false },
        { name: 'instance', value: 'bot-.*', isRegex: true, isEqual: false },
        { name: 'team', value: 'ops', isRegex: false, isEqual: true },
      ],
    });
    expect(parseMatchers('a="say \\"hi\\" \\\\ ok",')).toEqual({
      matchers: [{ name: 'a', value: 'say "hi" \\ ok', isRegex: false, isEqual: true }],
    });
  });
  it('says what is wrong and where', () => {
    expect(parseMatchers('')).toEqual({ error: 'at least one matcher is needed, e.g. alertname="EngineMemoryHigh"' });
    expect(parseMatchers('a="x", 9b="y"')).toEqual({ error: 'matcher 2: expected a label name at "9b="y""' });
    expect(parseMatchers('alertname')).toEqual({ error: 'matcher 1: expected =, !=, =~ or !~ after "alertname"' });
    expect(parseMatchers('a="x')).toEqual({ error: 'matcher 1: a quoted value is not closed' });
    expect(parseMatchers('a=~"(x"')).toEqual({ error: 'matcher 1: "(x" is not a valid regular expression' });
    expect(parseMatchers('a="x" b="y"')).toEqual({ error: 'matcher 1: expected "," before "b="y""' });
    expect(parseMatchers('{a="x"')).toEqual({ error: 'a "{" is not closed' });
  });
  it('round-trips an alert’s labels through the form’s text', () => {
    const labels = { severity: 'warning', alertname: 'X', path: 'C:\\tmp "q"' };
    const text = matchersForLabels(labels);
    expect(text).toBe('alertname="X",\npath="C:\\\\tmp \\"q\\"",\nseverity="warning"');
    const r = parseMatchers(text);
    expect('matchers' in r && r.matchers.map(matcherText).join(',\n')).toBe(text);
    expect('matchers' in r && matchesLabels(r.matchers, labels)).toBe(true);
    expect('matchers' in r && matchesLabels(r.matchers, { ...labels, severity: 'critical' })).toBe(false);
  });
});

describe('matchesLabels', () => {
  const labels = { alertname: 'Mem', severity: 'warning' };
  it('anchors regexes, treats a missing label as empty, negates with !', () => {
    const m = (text: string) => {
      const r = parseMatchers(text);
      if ('error' in r) throw new Error(r.error);
      return matchesLabels(r.matchers, labels);
    };
    expect(m('severity=~"warn"')).toBe(false);
    expect(m('severity=~"warn.*"')).toBe(true);
    expect(m('severity=~"critical|warning", alertname="Mem"')).toBe(true);
    expect(m('severity!~"warning"')).toBe(false);
    expect(m('team=""')).toBe(true);
    expect(m('team!=""')).toBe(false);
    expect(m('alertname!="Cpu"')).toBe(true);
  });
});

describe('parseDuration', () => {
  it('reads Prometheus durations', () => {
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration(' 1d ')).toBe(86_400_000);
    expect(parseDuration('1w2d')).toBe(9 * 86_400_000);
    expect(parseDuration('90s500ms')).toBe(90_500);
    expect(parseDuration('30m1h')).toBeNull();
    expect(parseDuration('0s')).toBeNull();
    expect(parseDuration('2 hours')).toBeNull();
    expect(parseDuration('')).toBeNull();
  });
});

