/**
 * What a user asks of a simulation (`SimOptions`), parsed into a frozen `SimConfig`. The same
 * config drives the pure `generate()` and the live fleet, so both produce the same sequence.
 */
import { ConfigError } from '../shared/errors.ts';
import { PAYLOAD_FORMATS } from '../shared/wire/index.ts';
import type { PayloadFormat } from '../shared/wire/index.ts';
import { MODEL_NAMES, MODELS } from './models/index.ts';
import type { DeviceModel, ModelName } from './models/index.ts';
import { parseFaults } from './faults.ts';
import type { FaultConfig, FaultOptions } from './faults.ts';
import type { ReplayData } from './replay.ts';

/** What to simulate. */
export interface SimOptions {
  /** The device model; required unless `replay` is given. */
  readonly model?: ModelName;
  /** How many devices (default 1; with `replay`, at most this many of the dataset's sensors). */
  readonly devices?: number;
  /** Readings per second per device (default 1). Ignored by replay, which follows the data. */
  readonly rate?: number;
  /** Seed of every random choice (default 1). */
  readonly seed?: number;
  readonly faults?: FaultOptions;
  /** Payload format (default json). */
  readonly format?: PayloadFormat;
  /** Topic root: data on `<root>/<model>/<id>`, ground truth on `<root>-truth/<model>/<id>` (default "sim"). */
  readonly topicRoot?: string;
  /** A parsed dataset to replay instead of a model (see `loadReplay`). */
  readonly replay?: ReplayData;
  /** Replay time scaling: 10 plays a dataset ten times faster than real time (default 1). */
  readonly speed?: number;
}

/** Parsed, frozen simulation settings. */
export interface SimConfig {
  readonly model: DeviceModel | undefined;
  readonly modelName: string;
  readonly devices: number;
  readonly rate: number;
  readonly periodMs: number;
  readonly seed: number;
  readonly faults: FaultConfig;
  readonly format: PayloadFormat;
  readonly topicRoot: string;
  readonly truthRoot: string;
  readonly replay: ReplayData | undefined;
  readonly speed: number;
}

function bad(field: string, what: string, fix: string): never {
  throw new ConfigError('SIM_OPTION', what, { where: `options.${field}`, fix });
}

/**
 * Checks and freezes simulation options; throws a ConfigError naming the bad field.
 *
 * @example
 * const config = parseSimOptions({ model: 'plug', devices: 100, rate: 1, seed: 7 });
 */
export function parseSimOptions(options: SimOptions): SimConfig {
  const { replay } = options;
  const modelName = options.model;
  if (replay === undefined && modelName === undefined) bad('model', 'no device model given', `set model to one of ${MODEL_NAMES.join(', ')}, or pass replay`);
  if (modelName !== undefined && !MODEL_NAMES.includes(modelName)) bad('model', `unknown model "${String(modelName)}"`, `use one of ${MODEL_NAMES.join(', ')}`);
  const devices = options.devices ?? (replay ? replay.devices.length : 1);
  if (!Number.isInteger(devices) || devices < 1 || devices > 1_000_000) bad('devices', `devices must be an integer in 1..1000000, got ${String(devices)}`, 'pass a device count such as 100');
  const rate = options.rate ?? 1;
  if (!Number.isFinite(rate) || rate <= 0 || rate > 1000) bad('rate', `rate must be in (0, 1000] Hz, got ${String(rate)}`, 'pass readings per second per device, such as 1 or 0.2');
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) bad('seed', `seed must be an integer, got ${String(seed)}`, 'pass a whole number such as 42');
  const format = options.format ?? 'json';
  if (!PAYLOAD_FORMATS.includes(format)) bad('format', `unknown format "${String(format)}"`, `use one of ${PAYLOAD_FORMATS.join(', ')}`);
  const topicRoot = options.topicRoot ?? 'sim';
  if (topicRoot === '' || /[#+]/.test(topicRoot)) bad('topicRoot', `topic root "${topicRoot}" is empty or has a wildcard`, 'use a plain topic level such as "sim"');
  const speed = options.speed ?? 1;
  if (!Number.isFinite(speed) || speed <= 0) bad('speed', `speed must be a positive number, got ${String(speed)}`, 'pass a time scale such as 1 (real time) or 60');
  return Object.freeze({
    model: replay ? undefined : MODELS[modelName as ModelName],
    modelName: replay ? replay.model : (modelName as string),
    devices: replay ? Math.min(devices, replay.devices.length) : devices,
    rate,
    periodMs: 1000 / rate,
    seed,
    faults: parseFaults(options.faults),
    format,
    topicRoot,
    truthRoot: `${topicRoot}-truth`,
    replay,
    speed,
  });
}

/** The id of device `index`: `<model>-<index, five digits>`, or the sensor id of a replay. */
export function deviceId(config: SimConfig, index: number): string {
  const replayed = config.replay?.devices[index];
  if (replayed !== undefined) return replayed.id;
  return `${config.modelName}-${String(index).padStart(5, '0')}`;
}
