import type { Aggregator } from '../graph/index.ts';

type Sel<T> = ((value: T) => number) | undefined;
const num = (v: unknown): number => v as number;

/** Counts events. */
export function countAgg(): Aggregator<unknown, number, number> {
  return { create: () => 0, add: (a) => a + 1, merge: (a, b) => a + b, result: (a) => a };
}

/** Sums a number read from each event (the value itself without a selector). */
export function sumAgg<T>(sel: Sel<T>): Aggregator<T, number, number> {
  const f = sel ?? num;
  return { create: () => 0, add: (a, v) => a + f(v), merge: (a, b) => a + b, result: (a) => a };
}

export function minAgg<T>(sel: Sel<T>): Aggregator<T, number, number> {
  const f = sel ?? num;
  return { create: () => Infinity, add: (a, v) => Math.min(a, f(v)), merge: Math.min, result: (a) => a };
}

export function maxAgg<T>(sel: Sel<T>): Aggregator<T, number, number> {
  const f = sel ?? num;
  return { create: () => -Infinity, add: (a, v) => Math.max(a, f(v)), merge: Math.max, result: (a) => a };
}

/** Arithmetic mean; the accumulator is a mutable pair, one per key and window, never per event. */
export function meanAgg<T>(sel: Sel<T>): Aggregator<T, { sum: number; n: number }, number> {
  const f = sel ?? num;
  return {
    create: () => ({ sum: 0, n: 0 }),
    add: (a, v) => { a.sum += f(v); a.n += 1; return a; },
    merge: (a, b) => ({ sum: a.sum + b.sum, n: a.n + b.n }),
    result: (a) => (a.n === 0 ? NaN : a.sum / a.n),
  };
}

const EMPTY = Symbol('empty');

/** Folds events with a user function `(a, b) => c` of the same type. */
export function reduceAgg<T>(fn: (a: T, b: T) => T): Aggregator<T, T | typeof EMPTY, T> {
  return {
    create: () => EMPTY,
    add: (a, v) => (a === EMPTY ? v : fn(a, v)),
    merge: (a, b) => (a === EMPTY ? b : b === EMPTY ? a : fn(a, b)),
    result: (a) => a as T,
  };
}
