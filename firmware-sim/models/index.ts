/** The device models: pick one by name. */
import type { DeviceModel, ModelName } from './model.ts';
import { plugModel } from './plug.ts';
import { climateModel } from './climate.ts';
import { vibrationModel } from './vibration.ts';
import { trafficModel } from './traffic.ts';
import { gpsModel } from './gps.ts';

export type { DeviceModel, FieldValue, ModelName, Reading } from './model.ts';
export { plugModel, PLUGS_PER_HOUSEHOLD, HOUSEHOLDS_PER_HOUSE } from './plug.ts';
export { climateModel } from './climate.ts';
export { vibrationModel } from './vibration.ts';
export { trafficModel } from './traffic.ts';
export { gpsModel } from './gps.ts';

/** Every model, by name. */
export const MODELS: Readonly<Record<ModelName, DeviceModel>> = Object.freeze({
  plug: plugModel as DeviceModel,
  climate: climateModel as DeviceModel,
  vibration: vibrationModel as DeviceModel,
  traffic: trafficModel as DeviceModel,
  gps: gpsModel as DeviceModel,
});

/** The model names, for option parsing and help text. */
export const MODEL_NAMES: readonly ModelName[] = Object.freeze(Object.keys(MODELS) as ModelName[]);
