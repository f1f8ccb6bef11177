import type { AppPlan } from './plan.ts';

/** Whether an app's cloud part can run as independent partitions by key, and why. */
export interface CloudPartitioning {
  /** The cloud part splits by key: each inbound channel carries keyed events to a keyed operator. */
  readonly byKey: boolean;
  /** One sentence a person reads. */
  readonly reason: string;
}

/**
 * Decides whether the cloud part of an app can be cut into partitions that run apart, on
 * different workers: every channel into the cloud must carry keyed events (a gateway then
 * sends each event to the partition of its key), and no operator in the cloud may re-key or
 * gather the stream (a `keyBy` or a global edge there would need events of other partitions).
 * Then every key's whole state lives in one partition. Pure and deterministic.
 *
 * @example
 * cloudPartitioning(planApp(graph)) // { byKey: true, reason: 'every channel into the cloud is keyed ...' }
 */
export function cloudPartitioning(plan: AppPlan): CloudPartitioning {
  const inbound = plan.channels;
  if (inbound.length === 0) return { byKey: false, reason: 'no channel reaches the cloud' };
  const unkeyed = inbound.find((c) => c.grouping !== 'key');
  if (unkeyed) return { byKey: false, reason: `the channel into "${unkeyed.to}" is not keyed, so its events may belong anywhere: one partition` };
  for (const op of plan.executed.operators) {
    if (plan.parts.get(op.id) !== 'cloud') continue;
    if (op.config.kind === 'keyBy') return { byKey: false, reason: `"${op.id}" re-keys the stream in the cloud, across partitions: one partition` };
    const gathered = op.inputs.find((e) => e.grouping === 'global' || e.grouping === 'broadcast');
    if (gathered) return { byKey: false, reason: `"${op.id}" reads its input by ${gathered.grouping} grouping, across partitions: one partition` };
  }
  return { byKey: true, reason: 'every channel into the cloud is keyed and the cloud keeps each key in place: partitioned by key' };
}
