/**
 * What every device model is: a seeded state machine that turns (state, time) into one
 * reading. Models never touch MQTT or wall time; the device simulation drives them.
 */
import type { Random } from '../random.ts';

/** One field of a reading. */
export type FieldValue = number | string | boolean;

/** One reading: field name to value (names become JSON keys and SenML record names). */
export type Reading = Record<string, FieldValue>;

/** The models a fleet can simulate. */
export type ModelName = 'plug' | 'climate' | 'vibration' | 'traffic' | 'gps';

/** A device model: its fields' units, the field sensor faults act on, and its step function. */
export interface DeviceModel<S = unknown> {
  readonly name: ModelName;
  /** SenML unit per numeric field (RFC 8428 section 12.1 names where one exists). */
  readonly units: Readonly<Record<string, string>>;
  /** The numeric field that stuck/spike/drift faults corrupt. */
  readonly primary: string;
  /** A typical magnitude of the primary field, which sizes spikes and drifts. */
  readonly scale: number;
  init(rng: Random, index: number): S;
  /** Advances the state to `time` (ms; `dtMs` since the last sample) and returns a reading. */
  sample(state: S, rng: Random, time: number, dtMs: number): Reading;
}

/** Rounds to a fixed number of decimals, so payloads stay short and comparable. */
export function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
}

export const DAY_MS = 86_400_000;
