/**
 * Wall-clock time and timers, passed in so tests drive time by hand (commit windows, ages,
 * retries, processing-time windows). Timers keep the process alive unless `background`.
 */
export interface Clock {
  now(): number;
  /** `background` timers (housekeeping) must not keep the process alive on their own. */
  setTimeout(fn: () => void, ms: number, background?: boolean): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock: `Date.now()` and Node timers; background ones are unref'd.
 * @example openDiskLog(dir, { clock: systemClock }) // the default everywhere
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number, background?: boolean): unknown => {
    const t = setTimeout(fn, ms);
    if (background) t.unref();
    return t;
  },
  clearTimeout: (handle: unknown): void => clearTimeout(handle as NodeJS.Timeout),
});

/** A clock tests move by hand: timers fire inside `advance()`, in due order. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  pendingTimers(): number;
}

/**
 * Builds a manual clock starting at `start` ms.
 * @example const clock = createManualClock(); clock.advance(10); // fires due timers
 */
export function createManualClock(start = 0): ManualClock {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        let due: [number, { at: number; fn: () => void }] | undefined;
        for (const entry of timers) if (entry[1].at <= until && (!due || entry[1].at < due[1].at)) due = entry;
        if (!due) break;
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].fn();
      }
      now = until;
    },
    pendingTimers: () => timers.size,
  };
}
