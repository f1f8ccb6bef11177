import { parseDuration, type Duration, type WindowSpec } from '../graph/index.ts';
import { ConfigError } from '../errors.ts';

/**
 * Fixed-size, non-overlapping windows: `[start, start + size)`.
 *
 * @example
 * stream.keyBy((e) => e.client).window(tumbling('1m')).count()
 */
export function tumbling(size: Duration, opts: { offset?: Duration } = {}): WindowSpec {
  const sizeMs = positive(parseDuration(size, 'tumbling(size)'), 'tumbling(size)');
  return Object.freeze({ type: 'tumbling', sizeMs, offsetMs: parseDuration(opts.offset ?? 0, 'tumbling offset') % sizeMs });
}

/**
 * Overlapping windows of `size`, one starting every `slide`; an event lands in size/slide windows.
 *
 * @example
 * stream.keyBy((r) => r.sensor).window(sliding('5m', '1m')).mean((r) => r.value)
 */
export function sliding(size: Duration, slide: Duration, opts: { offset?: Duration } = {}): WindowSpec {
  const sizeMs = positive(parseDuration(size, 'sliding(size)'), 'sliding(size)');
  const slideMs = positive(parseDuration(slide, 'sliding(slide)'), 'sliding(slide)');
  if (slideMs > sizeMs) {
    throw new ConfigError('DSL_BAD_WINDOW', `slide ${slideMs} ms is longer than size ${sizeMs} ms, so some events would fall in no window`, {
      where: 'sliding(size, slide)', fix: 'use a slide no longer than the size',
    });
  }
  return Object.freeze({ type: 'sliding', sizeMs, slideMs, offsetMs: parseDuration(opts.offset ?? 0, 'sliding offset') % slideMs });
}

/**
 * Per-key activity sessions: a session closes after `gap` with no event for its key.
 *
 * @example
 * clicks.keyBy((c) => c.user).window(session('30s')).count()
 */
export function session(gap: Duration): WindowSpec {
  return Object.freeze({ type: 'session', gapMs: positive(parseDuration(gap, 'session(gap)'), 'session(gap)') });
}

function positive(ms: number, where: string): number {
  if (ms > 0) return ms;
  throw new ConfigError('DSL_BAD_WINDOW', 'a window length must be longer than 0', { where, fix: 'pass a positive duration such as "10s"' });
}
