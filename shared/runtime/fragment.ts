import { ConfigError } from '../errors.ts';
import type { Edge, Graph, OperatorSpec } from '../graph/index.ts';
import { WatermarkMerge, type Collector, type OpContext, type Operator, type SinkTarget, type SourceOp, type WindowMergeOp, type WindowOp } from '../ops/index.ts';
import { Fanout, KeyRouter, Port, RoundRobin, ToFirst } from './routers.ts';
import { translate } from './translate.ts';

/** The running operator instances of a graph, wired together. */
export interface Fragment {
  readonly instances: ReadonlyMap<string, readonly Operator[]>;
  readonly sources: ReadonlyMap<string, SourceOp>;
  readonly all: readonly Operator[];
}

/**
 * Instantiates every operator `parallelism` times and wires the edges: forward edges connect
 * instance i to i; key, shuffle, broadcast and global edges route from each upstream instance
 * to all downstream ones. With parallelism 1 and one input, the upstream calls the operator
 * directly: operators are fused into one synchronous chain, with no queue between them.
 */
export function buildFragment(graph: Graph, ctx: OpContext, sinkTarget: (name: string) => SinkTarget): Fragment {
  const instances = new Map<string, Operator[]>();
  const outputs = new Map<Operator, Collector[]>();
  const lateOutputs = new Map<Operator, Collector[]>();
  const specs = new Map(graph.operators.map((s) => [s.id, s]));
  for (const spec of graph.operators) {
    if (spec.config.kind === 'source' && spec.parallelism !== 1) {
      throw new ConfigError('RUNTIME_SOURCE_PARALLELISM', `source "${spec.name}" has parallelism ${spec.parallelism}`, {
        where: `source "${spec.name}"`, fix: 'a source reads one input: keep it at 1 and raise the parallelism of the operators after it',
      });
    }
    const ops = Array.from({ length: spec.parallelism }, (_, i) => translate(spec, i, ctx, sinkTarget));
    instances.set(spec.id, ops);
    const ports = ops.map((op) => inputPorts(spec, op, specs));
    spec.inputs.forEach((edge, e) => {
      const ups = instances.get(edge.from)!;
      const outs = spec.config.kind === 'late' ? lateOutputs : outputs;
      ups.forEach((up, u) => {
        const targets = edge.grouping === 'forward' ? [ports[u]!.get(`${e}:${u}`)!] : ports.map((p) => p.get(`${e}:${u}`)!);
        add(outs, up, router(edge.grouping, targets));
      });
    });
  }
  for (const [op, outs] of outputs) op.out = outs.length === 1 ? outs[0]! : new Fanout(outs);
  for (const [op, outs] of lateOutputs) (op as WindowOp | WindowMergeOp).lateOut = outs.length === 1 ? outs[0]! : new Fanout(outs);
  const sources = new Map<string, SourceOp>();
  for (const spec of graph.operators) {
    if (spec.config.kind === 'source') sources.set(spec.name, instances.get(spec.id)![0] as SourceOp);
  }
  return { instances, sources, all: [...instances.values()].flat() };
}

/** The input slots of one instance, keyed `edge:upstreamInstance`; watermarks merge over all slots. */
function inputPorts(spec: OperatorSpec, op: Operator, specs: Map<string, OperatorSpec>): Map<string, Collector> {
  const slots: { key: string; port: Edge['port'] }[] = [];
  spec.inputs.forEach((edge, e) => {
    const up = specs.get(edge.from)!;
    if (edge.grouping === 'forward') slots.push({ key: `${e}:${(op.m.instance)}`, port: edge.port });
    else for (let u = 0; u < up.parallelism; u++) slots.push({ key: `${e}:${u}`, port: edge.port });
  });
  const ports = new Map<string, Collector>();
  if (slots.length === 1 && slots[0]!.port !== 'right') {
    ports.set(slots[0]!.key, op); // fused: the upstream calls this operator directly
    return ports;
  }
  const merge = new WatermarkMerge(slots.length, (wm) => op.watermark(wm));
  slots.forEach((slot, i) => {
    const deliver = slot.port === 'right' ? (op as WindowOp).pushRight.bind(op) : op.push.bind(op);
    ports.set(slot.key, new Port(deliver, merge, i));
  });
  return ports;
}

function router(grouping: Edge['grouping'], targets: Collector[]): Collector {
  if (targets.length === 1) return targets[0]!;
  switch (grouping) {
    case 'key': return new KeyRouter(targets);
    case 'shuffle': return new RoundRobin(targets);
    case 'global': return new ToFirst(targets);
    case 'broadcast': case 'forward': return new Fanout(targets);
  }
}

function add(m: Map<Operator, Collector[]>, op: Operator, c: Collector): void {
  const l = m.get(op);
  if (l) l.push(c);
  else m.set(op, [c]);
}
