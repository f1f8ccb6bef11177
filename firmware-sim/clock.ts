/**
 * Time as the simulator sees it. The live fleet uses `systemClock`; tests pass a manual clock
 * and move it by hand, so schedules run without real waiting.
 */

/** A handle returned by `Clock.setTimer`. */
export interface TimerHandle {
  cancel(): void;
}

/** Milliseconds since the epoch plus one-shot timers. */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, delayMs: number): TimerHandle;
}

/** The real clock: `Date.now()` and unref'd Node timers (a running fleet keeps its own refs). */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimer(fn: () => void, delayMs: number): TimerHandle {
    const t = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(t) };
  },
});

/** A clock that only moves when told to. */
export interface ManualClock extends Clock {
  /** Moves time forward, running every timer that falls due, in time order. */
  advance(ms: number): void;
}

/**
 * Creates a manual clock starting at `start` ms.
 *
 * @example
 * const clock = createManualClock(1_700_000_000_000);
 * const fleet = createFleet({ ..., clock });
 * clock.advance(1000);
 */
export function createManualClock(start: number): ManualClock {
  let now = start;
  let nextId = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimer(fn, delayMs) {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, delayMs), fn });
      return { cancel: () => timers.delete(id) };
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        let dueId = -1;
        let dueAt = Infinity;
        for (const [id, t] of timers) {
          if (t.at <= until && t.at < dueAt) {
            dueAt = t.at;
            dueId = id;
          }
        }
        const due = timers.get(dueId);
        if (due === undefined) break;
        timers.delete(dueId);
        now = Math.max(now, due.at);
        due.fn();
      }
      now = until;
    },
  };
}
