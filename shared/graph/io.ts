import type { OperatorKind, StreamShape, TimeDomain, ValueType } from './types.ts';

/**
 * What each operator kind takes and emits, checked on every edge before anything runs
 * (the shape of eKuiper's io table). `takes` lists the stream shapes an input may have.
 */
export interface KindIo {
  readonly inputs: 'none' | 'one' | 'two' | 'many';
  readonly takes: readonly StreamShape[];
  /** Needs event time on its inputs (event-time windows, joins). Checked separately. */
  readonly describe: string;
}

const ANY_STREAM: readonly StreamShape[] = ['plain', 'keyed', 'windowed'];

export const KIND_IO: Readonly<Record<OperatorKind, KindIo>> = {
  source: { inputs: 'none', takes: [], describe: 'a source' },
  map: { inputs: 'one', takes: ANY_STREAM, describe: 'map' },
  filter: { inputs: 'one', takes: ANY_STREAM, describe: 'filter' },
  flatMap: { inputs: 'one', takes: ANY_STREAM, describe: 'flatMap' },
  keyBy: { inputs: 'one', takes: ANY_STREAM, describe: 'keyBy' },
  aggregate: { inputs: 'one', takes: ANY_STREAM, describe: 'a window aggregate' },
  join: { inputs: 'two', takes: ['keyed'], describe: 'a window join' },
  union: { inputs: 'many', takes: ANY_STREAM, describe: 'union' },
  process: { inputs: 'one', takes: ['keyed'], describe: 'a keyed process function' },
  exec: { inputs: 'one', takes: ANY_STREAM, describe: 'exec' },
  late: { inputs: 'one', takes: ['windowed'], describe: 'a late side output' },
  sink: { inputs: 'one', takes: ANY_STREAM, describe: 'a sink' },
};

/** True when a stream of this shape may feed an operator of this kind. */
export function fits(shape: StreamShape, kind: OperatorKind): boolean {
  return KIND_IO[kind].takes.includes(shape);
}

/** True when a value of type `have` may flow where `want` is required. */
export function typeFits(have: ValueType, want: ValueType): boolean {
  return want === 'any' || have === 'any' || have === want;
}

/** Union of value types: equal types stay, different ones widen to `any`. */
export function widen(a: ValueType, b: ValueType): ValueType {
  return a === b ? a : 'any';
}

export function timeOf(inputs: readonly TimeDomain[]): TimeDomain {
  return inputs.every((t) => t === 'event') ? 'event' : 'none';
}
