/** Wall-clock time and timers, passed in so tests can drive time by hand. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. Timers are unref'd: a pending timer never keeps a process alive by itself. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number) => {
    const t = globalThis.setTimeout(fn, ms) as { unref?: () => void };
    t.unref?.();
    return t;
  },
  clearTimeout: (h: unknown) => globalThis.clearTimeout(h as Parameters<typeof globalThis.clearTimeout>[0]),
});

/**
 * A clock tests advance by hand; timers fire in time order during `advance`.
 *
 * @example
 * const clock = manualClock(0); clock.setTimeout(f, 100); clock.advance(100); // f ran
 */
export function manualClock(start = 0) {
  let now = start;
  let nextId = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout(fn: () => void, ms: number) { const id = ++nextId; timers.set(id, { at: now + Math.max(0, ms), fn }); return id; },
    clearTimeout(h: unknown) { timers.delete(h as number); },
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        let first: [number, { at: number; fn: () => void }] | undefined;
        for (const e of timers) if (e[1].at <= until && (!first || e[1].at < first[1].at)) first = e;
        if (!first) break;
        timers.delete(first[0]);
        now = first[1].at;
        first[1].fn();
      }
      now = until;
    },
  };
}
