import { Histogram, type Operator } from '../ops/index.ts';

/** One operator's figures, summed over its instances. */
export interface OperatorMetrics {
  id: string;
  kind: string;
  instances: number;
  /** Events in per instance: shows how a grouping spread the load (skew). */
  inPerInstance: number[];
  in: number;
  out: number;
  /** Beyond allowed lateness: to the late side output, or dropped and counted here. */
  late: number;
  lateUpdates: number;
  dropped: number;
  deadLettered: number;
  restarts: number;
  /** Events per second over the run so far. */
  rateIn: number;
  rateOut: number;
  /** Time from the ingestion of a source batch to this operator, sampled; milliseconds. */
  latencyMs: { p50: number; p99: number; max: number; samples: number };
  /** Keys or (window, key) accumulators held, for stateful operators. */
  state?: number;
}

export interface MetricsSnapshot {
  elapsedMs: number;
  operators: OperatorMetrics[];
  deadLetters: number;
  /** How often sources waited for a full queue downstream to drain. */
  backpressureWaits: number;
}

/**
 * Reads the metrics of a running fragment. Cheap: counters are plain fields on the operators.
 *
 * @example
 * const m = snapshotMetrics(fragment.instances, startedAt, deadLetters, gate.waits);
 * console.log(m.operators.find((o) => o.id === 'parse')?.rateIn);
 */
export function snapshotMetrics(
  instances: ReadonlyMap<string, readonly Operator[]>, startedAt: number, deadLetters: number, waits: number,
): MetricsSnapshot {
  const elapsedMs = Math.max(1, performance.now() - startedAt);
  const operators: OperatorMetrics[] = [];
  for (const [id, ops] of instances) {
    const h = new Histogram();
    const m: OperatorMetrics = {
      id, kind: ops[0]!.m.kind, instances: ops.length, inPerInstance: ops.map((o) => o.m.in), in: 0, out: 0, late: 0, lateUpdates: 0, dropped: 0,
      deadLettered: 0, restarts: 0, rateIn: 0, rateOut: 0, latencyMs: { p50: 0, p99: 0, max: 0, samples: 0 },
    };
    let state: number | undefined;
    for (const op of ops) {
      const c = op.m;
      m.in += c.in; m.out += c.out; m.late += c.late; m.lateUpdates += c.lateUpdates;
      m.dropped += c.dropped; m.deadLettered += c.deadLettered; m.restarts += c.restarts;
      h.absorb(c.latency);
      const sized = op as Partial<{ stateSize(): number }>;
      if (typeof sized.stateSize === 'function') state = (state ?? 0) + sized.stateSize();
    }
    m.rateIn = (m.in * 1000) / elapsedMs;
    m.rateOut = (m.out * 1000) / elapsedMs;
    m.latencyMs = { p50: h.quantileMs(0.5), p99: h.quantileMs(0.99), max: h.maxMs, samples: h.count };
    if (state !== undefined) m.state = state;
    operators.push(m);
  }
  return { elapsedMs, operators, deadLetters, backpressureWaits: waits };
}
