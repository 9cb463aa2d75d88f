// Silences on the page, pure: the matchers of the silence form in Alertmanager's syntax (read,
// written back, and what they match) and the Prometheus durations it takes. Apart from
// lib/alerts.ts so that only the Alerts view, not every page, carries them.
import type { Matcher } from '../api/alerts';
import type { Labels } from '../api/types';
import { labelNames } from './alerts';

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function unquote(s: string, at: number): { value: string; end: number } | { error: string } {
  let out = '';
  for (let i = at + 1; i < s.length; i++) {
    const c = s[i];
    if (c === '"') return { value: out, end: i + 1 };
    if (c === '\\') {
      const n = s[++i];
      if (n === undefined) break;
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
    } else out += c;
  }
  return { error: 'a quoted value is not closed' };
}

/** Matchers in Alertmanager's syntax, as amtool and the Alertmanager UI take them:
 *  `alertname="EngineMemoryHigh", severity=~"warning|critical", job!="x"`, with or without
 *  braces, separated by commas or new lines, values quoted (with \" and \\ escapes) or bare
 *  up to the next comma. A regex must compile; at least one matcher. */
export function parseMatchers(text: string): { matchers: Matcher[] } | { error: string } {
  let s = text.trim();
  if (s.startsWith('{')) {
    if (!s.endsWith('}')) return { error: 'a "{" is not closed' };
    s = s.slice(1, -1);
  }
  const matchers: Matcher[] = [];
  let i = 0;
  /** Skips white space; whether it held a new line (which separates matchers as "," does). */
  const skip = () => {
    let line = false;
    for (; i < s.length && /\s/.test(s[i]); i++) line ||= s[i] === '\n';
    return line;
  };
  for (;;) {
    skip();
    if (i >= s.length) break;
    const n = matchers.length + 1;
    const name = NAME.exec(s.slice(i));
    if (!name) return { error: `matcher ${n}: expected a label name at "${s.slice(i, i + 12)}"` };
    i += name[0].length;
    skip();
    const op = /^(=~|!~|!=|=)/.exec(s.slice(i));
    if (!op) return { error: `matcher ${n}: expected =, !=, =~ or !~ after "${name[0]}"` };
    i += op[0].length;
    skip();
    let value: string;
    if (s[i] === '"') {
      const q = unquote(s, i);
      if ('error' in q) return { error: `matcher ${n}: ${q.error}` };
      value = q.value;
      i = q.end;
    } else {
      const end = s.slice(i).search(/[,\n]/);
      value = (end < 0 ? s.slice(i) : s.slice(i, i + end)).trim();
      i = end < 0 ? s.length : i + end;
    }
    const isRegex = op[0].endsWith('~');
    if (isRegex) {
      try {
        new RegExp(`^(?:${value})$`);
      } catch {
        return { error: `matcher ${n}: "${value}" is not a valid regular expression` };
      }
    }
    matchers.push({ name: name[0], value, isRegex, isEqual: !op[0].startsWith('!') });
    const newline = skip();
    if (i >= s.length) break;
    if (s[i] === ',') i++;
    else if (!newline) return { error: `matcher ${n}: expected "," before "${s.slice(i, i + 12)}"` };
  }
  if (!matchers.length) return { error: 'at least one matcher is needed, e.g. alertname="EngineMemoryHigh"' };
  return { matchers };
}

/** One matcher as parseMatchers reads it: severity=~"warning|critical". */
export function matcherText(m: Matcher): string {
  const op = m.isEqual ? (m.isRegex ? '=~' : '=') : m.isRegex ? '!~' : '!=';
  return `${m.name}${op}${JSON.stringify(m.value)}`;
}

/** Matchers for exactly an alert's labels, alertname first, one per line. */
export function matchersForLabels(labels: Labels): string {
  return labelNames(labels)
    .map((n) => matcherText({ name: n, value: labels[n], isRegex: false, isEqual: true }))
    .join(',\n');
}

/** Whether labels match every matcher (a missing label is ""; regexes are anchored). */
export function matchesLabels(matchers: readonly Matcher[], labels: Labels): boolean {
  return matchers.every((m) => {
    const v = labels[m.name] ?? '';
    const hit = m.isRegex ? new RegExp(`^(?:${m.value})$`).test(v) : v === m.value;
    return hit === m.isEqual;
  });
}

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_MS = [365 * 86400e3, 7 * 86400e3, 86400e3, 3600e3, 60e3, 1e3, 1];

/** A Prometheus duration ("2h", "1h30m", "1d") in milliseconds; null if it is not one or is 0. */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  const m = DURATION.exec(t);
  if (!t || !m) return null;
  const ms = DURATION_MS.reduce((sum, size, i) => sum + Number(m[i + 1] ?? 0) * size, 0);
  return ms > 0 ? ms : null;
}

