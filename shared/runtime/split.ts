import type { Graph, OperatorSpec } from '../graph/index.ts';
import { planApp, type AppPlan, type ChannelCut, type Part } from '../planner/index.ts';

export type { ChannelCut } from '../planner/index.ts';

export interface GraphPart {
  readonly part: Part;
  /** The operators of this part; cut edges end in `channel:<name>` sources and sinks. */
  readonly graph: Graph;
  readonly inbound: readonly ChannelCut[];
  readonly outbound: readonly ChannelCut[];
  /** The placement of the whole app this part was cut from, with a reason per operator. */
  readonly plan: AppPlan;
}

/** The source or sink name under which a channel is bound. */
export const channelBinding = (cut: ChannelCut) => `channel:${cut.name}`;

/**
 * Cuts a graph into the part one process runs, by the planner's static rules (`planApp`).
 * Each edge between parts becomes a sink here (outbound) or a source here (inbound), named
 * after the channel that carries it, so the same fragment code runs on either side, unaware
 * of where its neighbours are. A split aggregate appears as its partial in the edge part and
 * as its merge (under the aggregate's id) in the cloud part. Every gateway runs the same edge
 * part over its own devices; the cloud part's inbound channels take the minimum watermark
 * over all of them.
 *
 * @example
 * const edge = splitGraph(graph, 'edge');   // bind edge.outbound to channel senders
 * const cloud = splitGraph(graph, 'cloud'); // bind cloud.inbound to channel receivers
 */
export function splitGraph(graph: Graph, part: Part): GraphPart {
  const plan = planApp(graph);
  const { parts, channels: cuts } = plan;
  const byId = new Map(plan.executed.operators.map((o) => [o.id, o]));
  const inbound = cuts.filter((c) => parts.get(c.to) === part);
  const outbound = cuts.filter((c) => parts.get(c.from) === part);
  const operators: OperatorSpec[] = [];
  for (const c of inbound) {
    const up = byId.get(c.from)!;
    operators.push(Object.freeze<OperatorSpec>({
      id: channelBinding(c), name: channelBinding(c), inputs: [], placement: part, parallelism: 1,
      shape: up.shape, time: up.time, valueType: up.valueType,
      config: { kind: 'source', source: { format: 'object', eventTime: undefined, maxDelayMs: 0, parse: undefined, validate: undefined } },
    }));
  }
  for (const op of plan.executed.operators) {
    if (parts.get(op.id) !== part) continue;
    const inputs = op.inputs.map((e) => {
      const cut = inbound.find((c) => c.from === e.from && c.to === op.id);
      return cut ? { ...e, from: channelBinding(cut) } : e;
    });
    operators.push(Object.freeze({ ...op, inputs }));
  }
  for (const c of outbound) {
    const up = byId.get(c.from)!;
    operators.push(Object.freeze<OperatorSpec>({
      id: `sink:${channelBinding(c)}`, name: channelBinding(c), inputs: [{ from: c.from, grouping: 'forward', port: 'in' }],
      placement: part, parallelism: up.parallelism, shape: up.shape, time: up.time, valueType: up.valueType,
      config: { kind: 'sink' },
    }));
  }
  return { part, graph: Object.freeze({ ...graph, operators }), inbound, outbound, plan };
}
