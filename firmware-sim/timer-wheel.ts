/**
 * One timer for a whole fleet: a hashed wheel of fixed-width slots keyed by slot number.
 * Devices are scheduled by id at an absolute time; every slot the wheel hands the due ids to
 * `onDue`. 10,000 devices cost one timer, not 10,000 setIntervals, and because schedules are
 * absolute, a late tick catches up instead of drifting.
 */
import type { Clock, TimerHandle } from './clock.ts';

/** Options for `createTimerWheel`. */
export interface TimerWheelOptions {
  readonly clock: Clock;
  /** Slot width in ms (default 10): the scheduling precision. */
  readonly slotMs?: number;
  /** Called with each id whose time has come, in slot order. */
  readonly onDue: (id: number, now: number) => void;
  /**
   * Ids run per timer callback before the wheel yields to I/O (default 20,000). An overloaded
   * fleet then falls behind smoothly instead of starving its own sockets.
   */
  readonly maxPerRun?: number;
  /** Called after each timer callback has run its due ids (e.g. to flush corked sockets). */
  readonly afterRun?: () => void;
}

/** A running wheel. */
export interface TimerWheel {
  /** Schedules `id` at fleet time `at` (a past time runs on the next slot). */
  schedule(id: number, at: number): void;
  /** Ids waiting in the wheel. */
  size(): number;
  close(): void;
}

/**
 * Creates and starts a timer wheel.
 *
 * @example
 * const wheel = createTimerWheel({ clock: systemClock, onDue: (id, now) => runDevice(id, now) });
 * wheel.schedule(7, Date.now() + 1000);
 */
export function createTimerWheel(options: TimerWheelOptions): TimerWheel {
  const { clock, onDue } = options;
  const slotMs = options.slotMs ?? 10;
  const slots = new Map<number, number[]>();
  let done = Math.floor(clock.now() / slotMs);
  let count = 0;
  let timer: TimerHandle | undefined;
  let closed = false;

  const maxPerRun = options.maxPerRun ?? 20_000;
  const arm = (behind: boolean): void => {
    if (closed) return;
    const now = clock.now();
    timer = clock.setTimer(run, behind ? 0 : (Math.floor(now / slotMs) + 1) * slotMs - now);
  };

  function run(): void {
    timer = undefined;
    const now = clock.now();
    const current = Math.floor(now / slotMs);
    let ran = 0;
    while (done < current && !closed && ran < maxPerRun) {
      done++;
      const ids = slots.get(done);
      if (ids === undefined) continue;
      slots.delete(done);
      count -= ids.length;
      ran += ids.length;
      for (const id of ids) onDue(id, now);
    }
    options.afterRun?.();
    arm(done < current);
  }

  arm(false);
  return {
    schedule(id, at) {
      // Round up: an id never runs before its time, and at most one slot after it.
      const slot = Math.max(done + 1, Math.ceil(at / slotMs));
      let ids = slots.get(slot);
      if (ids === undefined) slots.set(slot, (ids = []));
      ids.push(id);
      count++;
    },
    size: () => count,
    close() {
      closed = true;
      timer?.cancel();
      slots.clear();
      count = 0;
    },
  };
}
