/**
 * The pure simulation: every action of every device between two fleet times, in time order
 * (ties by device index). No broker, no timers; the live fleet runs the same `DeviceSim`s, so
 * "same seed, same sequence" can be checked here.
 */
import { DeviceSim } from './device-sim.ts';
import type { SimAction } from './device-sim.ts';
import { parseSimOptions } from './options.ts';
import type { SimOptions } from './options.ts';

/** What to generate: simulation options plus a time window. */
export interface GenerateOptions extends SimOptions {
  /** Fleet start time (ms since the epoch); every device starts here. */
  readonly start: number;
  /** Stop before this fleet time (ms). */
  readonly until: number;
}

/**
 * Returns every action (publish, truth, disconnect, connect) with `at` in [start, until).
 *
 * @example
 * const a = generate({ model: 'plug', devices: 10, seed: 7, start: 1.7e12, until: 1.7e12 + 60_000 });
 * const b = generate({ model: 'plug', devices: 10, seed: 7, start: 1.7e12, until: 1.7e12 + 60_000 });
 * // a and b are equal, payload bytes included
 */
export function generate(options: GenerateOptions): SimAction[] {
  const config = parseSimOptions(options);
  const out: SimAction[] = [];
  for (let i = 0; i < config.devices; i++) {
    const sim = new DeviceSim(config, i, options.start, options.start);
    while (sim.nextAt() < options.until) out.push(sim.pop() as SimAction);
  }
  // Each device's actions are in time order and devices were taken in index order, so a
  // stable sort by time orders ties by device, then by the device's own order.
  return out.sort((a, b) => a.at - b.at);
}
