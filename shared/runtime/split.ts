import type { Edge, Graph, OperatorSpec } from '../graph/index.ts';
import { assignParts, type Part } from '../planner/index.ts';

/** A graph edge that crosses between parts: it travels as a channel. */
export interface ChannelCut {
  /** Topic-safe and the same in every process that splits the same graph. */
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly grouping: Edge['grouping'];
}

export interface GraphPart {
  readonly part: Part;
  /** The operators of this part; cut edges end in `channel:<name>` sources and sinks. */
  readonly graph: Graph;
  readonly inbound: readonly ChannelCut[];
  readonly outbound: readonly ChannelCut[];
}

/** The source or sink name under which a channel is bound. */
export const channelBinding = (cut: ChannelCut) => `channel:${cut.name}`;

/**
 * Cuts a graph into the part one process runs. Each edge between parts becomes a sink here
 * (outbound) or a source here (inbound), named after the channel that carries it, so the
 * same fragment code runs on either side, unaware of where its neighbours are.
 *
 * @example
 * const edge = splitGraph(graph, 'edge');   // bind edge.outbound to channel senders
 */
export function splitGraph(graph: Graph, part: Part): GraphPart {
  const parts = assignParts(graph);
  const byId = new Map(graph.operators.map((o) => [o.id, o]));
  const cuts: ChannelCut[] = [];
  for (const op of graph.operators) {
    op.inputs.forEach((e) => {
      if (parts.get(e.from)!.part !== parts.get(op.id)!.part) {
        cuts.push({ name: `${cuts.length}-${safe(e.from)}`, from: e.from, to: op.id, grouping: e.grouping });
      }
    });
  }
  const inbound = cuts.filter((c) => parts.get(c.to)!.part === part);
  const outbound = cuts.filter((c) => parts.get(c.from)!.part === part);
  const operators: OperatorSpec[] = [];
  for (const c of inbound) {
    const up = byId.get(c.from)!;
    operators.push(Object.freeze<OperatorSpec>({
      id: channelBinding(c), name: channelBinding(c), inputs: [], placement: part, parallelism: 1,
      shape: up.shape, time: up.time, valueType: up.valueType,
      config: { kind: 'source', source: { format: 'object', eventTime: undefined, maxDelayMs: 0, parse: undefined, validate: undefined } },
    }));
  }
  for (const op of graph.operators) {
    if (parts.get(op.id)!.part !== part) continue;
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
  return { part, graph: Object.freeze({ ...graph, operators }), inbound, outbound };
}

function safe(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80);
}
