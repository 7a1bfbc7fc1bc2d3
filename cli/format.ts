import { CliError, ExitCode } from './errors';

/**
 * A time from the command line: an ISO date (`2026-11-01`, UTC midnight) or date-time
 * (`2026-11-01T12:00:00Z`), `now`, or a duration ago (`30d`, `12h`, `90m`).
 */
export function parseTime(text: string, nowMs: number, flag: string): Date {
  const value = text.trim();
  if (value === 'now') return new Date(nowMs);
  const relative = durationMs(value);
  if (relative !== undefined) return new Date(nowMs - relative);
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const date = new Date(`${value}T00:00:00Z`);
    if (!Number.isNaN(date.getTime())) return date;
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new CliError(`${flag} ${JSON.stringify(text)} is not a time`, ExitCode.usage, `use a date (2026-11-01), a UTC date-time (2026-11-01T12:00:00Z), now, or a duration ago (30d, 12h, 90m)`);
}

/** A duration from the command line: `30d`, `12h`, `90m`, `45s`. */
export function parseDuration(text: string, flag: string): number {
  const ms = durationMs(text.trim());
  if (ms === undefined) throw new CliError(`${flag} ${JSON.stringify(text)} is not a duration`, ExitCode.usage, 'use a number with a unit: 30s, 5m, 2h, 1d');
  return ms;
}

function durationMs(value: string): number | undefined {
  const match = /^(\d+)([dhms])$/.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[match[2] as 'd' | 'h' | 'm' | 's'];
}

/** A plain-text table; `right` lists the columns aligned right (numbers). */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, right: readonly number[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (right.includes(i) ? (c ?? '').padStart(widths[i]) : (c ?? '').padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** "3 min ago", "2 h ago", "5 d ago". */
export function ago(iso: string | undefined, nowMs: number): string {
  const t = Date.parse(iso ?? '');
  if (!Number.isFinite(t)) return 'never';
  const s = Math.max(0, Math.round((nowMs - t) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
