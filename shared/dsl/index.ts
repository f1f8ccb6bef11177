/**
 * The fluent API apps are written with. Apps import it as `sluice`:
 *
 * @example
 * import { defineApp, tumbling } from 'sluice';
 */
export { defineApp, isAppDefinition, AppBuilder, Params, type AppDefinition, type AppOptions, type SourceOptions } from './app.ts';
export { Stream, KeyedStream, WindowedStream, WindowOutput, JoinBuilder, type WindowResult, type WindowOptions, type ExecOptions } from './stream.ts';
export { tumbling, sliding, session } from './windows.ts';
export type { Aggregator, ProcessFunction, ProcessContext, Placement, Graph, Reliability } from '../graph/index.ts';
export { SluiceError, ConfigError } from '../errors.ts';
