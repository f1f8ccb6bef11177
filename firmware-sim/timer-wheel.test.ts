import { describe, it, expect } from 'vitest';
import { createManualClock } from './clock.ts';
import { createTimerWheel } from './timer-wheel.ts';

describe('createTimerWheel', () => {
  it('runs each id once its slot has passed, in time order, from one timer', () => {
    const clock = createManualClock(1_000_000);
    const seen: Array<[number, number]> = [];
    const wheel = createTimerWheel({ clock, slotMs: 10, onDue: (id, now) => seen.push([id, now]) });
    wheel.schedule(2, 1_000_250);
    wheel.schedule(1, 1_000_105);
    wheel.schedule(3, 1_000_251);
    expect(wheel.size()).toBe(3);
    clock.advance(100);
    expect(seen).toEqual([]);
    clock.advance(20);
    expect(seen.map(([id]) => id)).toEqual([1]);
    clock.advance(200);
    expect(seen.map(([id]) => id)).toEqual([1, 2, 3]);
    expect(seen.every(([, now]) => now >= 1_000_105)).toBe(true);
    expect(wheel.size()).toBe(0);
    wheel.close();
  });

  it('runs a time in the past on the next slot and lets onDue schedule again', () => {
    const clock = createManualClock(0);
    let runs = 0;
    const wheel = createTimerWheel({
      clock, slotMs: 10,
      onDue: (id, now) => {
        runs++;
        if (runs < 5) wheel.schedule(id, now + 100);
      },
    });
    wheel.schedule(9, -500);
    clock.advance(1000);
    expect(runs).toBe(5);
    wheel.close();
  });

  it('stops running ids after close', () => {
    const clock = createManualClock(0);
    let runs = 0;
    const wheel = createTimerWheel({ clock, onDue: () => runs++ });
    wheel.schedule(1, 50);
    wheel.close();
    clock.advance(1000);
    expect(runs).toBe(0);
  });
});
