/**
 * firmware-sim: simulated constrained devices and fleets. Speaks only MQTT and shared/wire.
 * Pure parts (`generate`, models, faults, replay parsing) need no broker; `createFleet` runs
 * devices live; `simCommand` is the `sluice sim` CLI.
 */
export { createFleet } from './fleet.ts';
export type { Fleet, FleetEvent, FleetOptions, FleetStats } from './fleet.ts';
export { generate } from './generate.ts';
export type { GenerateOptions } from './generate.ts';
export { DeviceSim } from './device-sim.ts';
export type { SimAction, TruthRecord } from './device-sim.ts';
export { parseSimOptions, deviceId } from './options.ts';
export type { SimConfig, SimOptions } from './options.ts';
export { parseFaults, parseFaultList, FAULT_CLI_NAMES } from './faults.ts';
export type { FaultConfig, FaultKind, FaultOptions } from './faults.ts';
export { parseReplay } from './replay.ts';
export type { ReplayData, ReplayDevice, ReplayRow } from './replay.ts';
export { loadReplay } from './replay-file.ts';
export { MODELS, MODEL_NAMES } from './models/index.ts';
export type { DeviceModel, ModelName, Reading } from './models/index.ts';
export { createRandom } from './random.ts';
export type { Random } from './random.ts';
export { createManualClock, systemClock } from './clock.ts';
export type { Clock, ManualClock, TimerHandle } from './clock.ts';
export { createTimerWheel } from './timer-wheel.ts';
export type { TimerWheel, TimerWheelOptions } from './timer-wheel.ts';
export { simCommand } from './cli.ts';
