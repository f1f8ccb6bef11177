/**
 * Traffic counter on a road: vehicles counted per reading interval (Poisson around a daily
 * two-peak profile) and the mean speed (km/h), which drops as the road fills.
 */
import type { Random } from '../random.ts';
import type { DeviceModel, Reading } from './model.ts';
import { DAY_MS, round } from './model.ts';

interface TrafficState {
  readonly peakPerHour: number;
  readonly freeSpeed: number;
}

/** Vehicles per hour at this time of day, as a fraction of the peak (rush hours 8:00, 17:00). */
function profile(time: number): number {
  const h = ((time % DAY_MS) / 3_600_000 + 24) % 24;
  const bump = (c: number, w: number): number => Math.exp(-((h - c) ** 2) / (2 * w * w));
  return 0.08 + 0.9 * bump(8, 1.2) + 0.8 * bump(17, 1.5) + 0.3 * bump(13, 3);
}

function poisson(rng: Random, mean: number): number {
  if (mean > 30) return Math.max(0, Math.round(rng.normal(mean, Math.sqrt(mean))));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng.next();
  while (p > limit) {
    k++;
    p *= rng.next();
  }
  return k;
}

export const trafficModel: DeviceModel<TrafficState> = {
  name: 'traffic',
  units: { count: 'count', speed: 'km/h' },
  primary: 'count',
  scale: 10,
  init(rng) {
    return { peakPerHour: rng.range(300, 3000), freeSpeed: rng.range(40, 110) };
  },
  sample(s, rng, time, dtMs): Reading {
    const load = profile(time);
    const count = poisson(rng, (s.peakPerHour * load * dtMs) / 3_600_000);
    const speed = Math.max(3, rng.normal(s.freeSpeed * (1 - 0.6 * load), 3));
    return { count, speed: round(speed, 1) };
  },
};
