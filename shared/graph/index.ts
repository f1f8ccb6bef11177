/** The app model: operator specs, edges, validation and stable ids. Pure data; no node: imports. */
export type * from './types.ts';
export { assembleGraph, type Draft } from './assemble.ts';
export { KIND_IO, fits, typeFits } from './io.ts';
export { parseDuration, type Duration } from './duration.ts';
