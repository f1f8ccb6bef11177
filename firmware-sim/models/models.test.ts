import { describe, it, expect } from 'vitest';
import { createRandom } from '../random.ts';
import { MODELS } from './index.ts';
import type { Reading } from './index.ts';

const START = Date.UTC(2026, 0, 1);

/** A day of readings, one a minute, from device 0 of a model. */
function day(name: keyof typeof MODELS): Reading[] {
  const model = MODELS[name];
  const rng = createRandom(4, 0);
  const state = model.init(rng, 0);
  return Array.from({ length: 1440 }, (_, i) => model.sample(state, rng, START + i * 60_000, 60_000));
}

const nums = (rs: Reading[], field: string): number[] => rs.map((r) => r[field] as number);

describe('device models', () => {
  it('every model has a unit for its primary field', () => {
    for (const model of Object.values(MODELS)) expect(model.units[model.primary]).toBeTypeOf('string');
  });

  it('plug: load is never negative, switches between standby and on, and work only grows', () => {
    const rs = day('plug');
    const w = nums(rs, 'w');
    expect(Math.min(...w)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...w)).toBeGreaterThan(10 * Math.min(...w) + 10);
    const kwh = nums(rs, 'kwh');
    expect(kwh).toEqual([...kwh].sort((a, b) => a - b));
  });

  it('climate: temperature follows a daily cycle and humidity stays within 0..100', () => {
    const rs = day('climate');
    const t = nums(rs, 'temp');
    expect(Math.max(...t) - Math.min(...t)).toBeGreaterThan(1);
    const h = nums(rs, 'hum');
    expect(Math.min(...h)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...h)).toBeLessThanOrEqual(100);
  });

  it('vibration: RMS is highest while the machine runs', () => {
    const rs = day('vibration');
    const mean = (state: string): number => {
      const xs = rs.filter((r) => r.state === state).map((r) => r.rms as number);
      return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    };
    expect(new Set(rs.map((r) => r.state)).size).toBeGreaterThan(1);
    expect(mean('run')).toBeGreaterThan(mean('idle'));
    expect(mean('idle')).toBeGreaterThan(mean('off'));
  });

  it('traffic: counts are whole and peak in the rush hours', () => {
    const c = nums(day('traffic'), 'count');
    expect(c.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
    const hour = (h: number): number => c.slice(h * 60, h * 60 + 60).reduce((a, b) => a + b, 0);
    expect(hour(8)).toBeGreaterThan(2 * hour(3));
  });

  it('gps: the tracker moves, at plausible speeds', () => {
    const rs = day('gps');
    const lat = nums(rs, 'lat');
    expect(new Set(lat).size).toBeGreaterThan(100);
    expect(Math.max(...nums(rs, 'speed'))).toBeLessThan(40);
  });
});
