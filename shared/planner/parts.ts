import type { Graph, OperatorSpec } from '../graph/index.ts';

export type Part = 'edge' | 'cloud';

export interface PartAssignment {
  readonly part: Part;
  readonly reason: string;
}

/**
 * Splits a graph into an edge and a cloud part from its placement hints, for running one app
 * as two processes. Pins decide; a source without one sits at the edge, where devices are; any
 * other `auto` operator runs next to its first input, so data crosses only where a pin asks.
 * Deterministic and pure: the same graph always gives the same split.
 *
 * @example
 * assignParts(graph).get('per-house')  // { part: 'cloud', reason: 'pinned to cloud' }
 */
export function assignParts(graph: Graph): ReadonlyMap<string, PartAssignment> {
  const out = new Map<string, PartAssignment>();
  for (const op of graph.operators) out.set(op.id, assign(op, out));
  return out;
}

function assign(op: OperatorSpec, done: ReadonlyMap<string, PartAssignment>): PartAssignment {
  // A late side output is part of its window's state: it stays with the window.
  if (op.config.kind === 'late') {
    const w = done.get(op.inputs[0]!.from)!;
    return { part: w.part, reason: 'with its window' };
  }
  const p = op.placement;
  if (p === 'edge' || p === 'cloud') return { part: p, reason: `pinned to ${p}` };
  if (typeof p === 'object') return { part: 'edge', reason: `node selector "${p.selector}" names gateways` };
  if (op.config.kind === 'source') return { part: 'edge', reason: 'a source sits where its devices are' };
  const first = op.inputs[0];
  const up = first ? done.get(first.from) : undefined;
  return up ? { part: up.part, reason: `next to its input "${first!.from}"` } : { part: 'edge', reason: 'no input' };
}
