/**
 * Temperature/humidity node: a daily temperature cycle around the node's own mean with a
 * slow AR(1) weather term; relative humidity falls as temperature rises, clamped to 0..100.
 */
import type { DeviceModel, Reading } from './model.ts';
import { DAY_MS, round } from './model.ts';

interface ClimateState {
  readonly mean: number;
  readonly swing: number;
  readonly phase: number;
  weather: number;
}

export const climateModel: DeviceModel<ClimateState> = {
  name: 'climate',
  units: { temp: 'Cel', hum: '%RH' },
  primary: 'temp',
  scale: 5,
  init(rng) {
    return { mean: rng.range(15, 25), swing: rng.range(1, 5), phase: rng.range(0, 2 * Math.PI), weather: 0 };
  },
  sample(s, rng, time): Reading {
    s.weather = 0.995 * s.weather + rng.normal(0, 0.05);
    const temp = s.mean + s.swing * Math.sin((2 * Math.PI * time) / DAY_MS + s.phase) + s.weather + rng.normal(0, 0.05);
    const hum = Math.min(100, Math.max(0, 55 - 2 * (temp - s.mean) + rng.normal(0, 0.5)));
    return { temp: round(temp, 2), hum: round(hum, 1) };
  },
};
