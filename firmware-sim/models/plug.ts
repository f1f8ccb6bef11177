/**
 * Smart plug, shaped like the DEBS 2014 Grand Challenge data: each plug sits in a household
 * inside a house and reports instantaneous load `w` (W) and cumulative work `kwh` (kWh).
 * Load follows an on/off appliance cycle with standby draw and noise; work integrates load.
 */
import type { DeviceModel, Reading } from './model.ts';
import { round } from './model.ts';

/** Plugs per household and households per house (DEBS 2014 has ~50 plugs per house). */
export const PLUGS_PER_HOUSEHOLD = 8;
export const HOUSEHOLDS_PER_HOUSE = 4;

interface PlugState {
  readonly house: number;
  readonly household: number;
  readonly plug: number;
  readonly standby: number;
  readonly ratedW: number;
  on: boolean;
  kwh: number;
}

export const plugModel: DeviceModel<PlugState> = {
  name: 'plug',
  units: { w: 'W', kwh: 'kWh' },
  primary: 'w',
  scale: 100,
  init(rng, index) {
    return {
      house: Math.floor(index / (PLUGS_PER_HOUSEHOLD * HOUSEHOLDS_PER_HOUSE)),
      household: Math.floor(index / PLUGS_PER_HOUSEHOLD) % HOUSEHOLDS_PER_HOUSE,
      plug: index % PLUGS_PER_HOUSEHOLD,
      standby: rng.range(0.5, 5),
      ratedW: rng.range(20, 2000),
      on: rng.chance(0.3),
      kwh: round(rng.range(0, 500), 3),
    };
  },
  sample(s, rng, _time, dtMs): Reading {
    // Appliances switch on about every 20 min and run about 5 min on average.
    const dtS = dtMs / 1000;
    if (s.on ? rng.chance(dtS / 300) : rng.chance(dtS / 1200)) s.on = !s.on;
    const w = Math.max(0, s.on ? rng.normal(s.ratedW, s.ratedW * 0.03) : rng.normal(s.standby, 0.2));
    s.kwh += (w * dtMs) / 3_600_000_000;
    return { house: s.house, household: s.household, plug: s.plug, w: round(w, 2), kwh: round(s.kwh, 6) };
  },
};
