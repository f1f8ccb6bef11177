import { ConfigError } from '../errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration as users write it: milliseconds as a number, or text like `'60s'`, `'1m'`, `'500ms'`. */
export type Duration = number | string;

/**
 * Parses a duration into milliseconds.
 *
 * @example
 * parseDuration('1m', 'window size') // 60000
 * parseDuration(250, 'maxDelay')     // 250
 */
export function parseDuration(value: Duration, where: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/.exec(value);
    if (m) return Number(m[1]) * (UNITS[m[2] ?? 'ms'] ?? 1);
  }
  throw new ConfigError('BAD_DURATION', `"${String(value)}" is not a duration`, {
    where,
    fix: 'write a non-negative number of milliseconds or text like "500ms", "10s", "1m", "2h"',
  });
}
