import type { Aggregator } from '../graph/index.ts';

/** Receives what a window store decides to emit. `late` marks an update after the first firing. */
export interface WindowEmitter<A> {
  emit(key: unknown, start: number, end: number, acc: A, revision: number): void;
  /** A late event (within allowed lateness) changed an already emitted window. */
  update(key: unknown, start: number, end: number, acc: A, value: unknown, side: 0 | 1, revision: number): void;
}

/** What a window accumulates per key and window, and how it turns that into output values. */
export interface WindowLogic<A> {
  create(): A;
  add(acc: A, value: unknown, side: 0 | 1): A;
  merge(a: A, b: A): A;
  /** Values for a firing, full result. */
  results(key: unknown, start: number, end: number, acc: A, revision: number, emit: (v: unknown) => void): void;
  /** Values for a late update; aggregates emit the full result again, joins only the new pairs. */
  updates(key: unknown, start: number, end: number, acc: A, value: unknown, side: 0 | 1, revision: number, emit: (v: unknown) => void): void;
}

export function aggregateLogic<A>(agg: Aggregator<unknown, A, unknown>): WindowLogic<A> {
  const results: WindowLogic<A>['results'] = (key, windowStart, windowEnd, acc, revision, emit) =>
    emit({ key, windowStart, windowEnd, value: agg.result(acc), revision });
  return {
    create: () => agg.create(),
    add: (acc, v) => agg.add(acc, v),
    merge: (a, b) => agg.merge(a, b),
    results,
    updates: (key, s, e, acc, _v, _side, rev, emit) => results(key, s, e, acc, rev, emit),
  };
}

export interface JoinAcc { left: unknown[]; right: unknown[] }

/** Inner join: every (left, right) pair with equal keys in the same window. */
export function joinLogic(combine: (l: unknown, r: unknown, key: unknown) => unknown): WindowLogic<JoinAcc> {
  return {
    create: () => ({ left: [], right: [] }),
    add: (acc, v, side) => { (side === 0 ? acc.left : acc.right).push(v); return acc; },
    merge: (a, b) => ({ left: a.left.concat(b.left), right: a.right.concat(b.right) }),
    results: (key, _s, _e, acc, _rev, emit) => {
      for (const l of acc.left) for (const r of acc.right) emit(combine(l, r, key));
    },
    updates: (key, _s, _e, acc, v, side, _rev, emit) => {
      if (side === 0) for (const r of acc.right) emit(combine(v, r, key));
      else for (const l of acc.left) emit(combine(l, v, key));
    },
  };
}
