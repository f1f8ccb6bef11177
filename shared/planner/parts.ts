import type { Graph } from '../graph/index.ts';
import { outputPart, placeOperators, type Part } from './rules.ts';

export interface PartAssignment {
  readonly part: Part;
  readonly reason: string;
}

/**
 * The part each operator's output is produced in, with the reason: the two-part view of
 * `placeOperators`, where a split aggregate counts as cloud (its final merge runs there).
 *
 * @example
 * assignParts(graph).get('per-house')  // { part: 'cloud', reason: "pinned to the cloud with .place('cloud')" }
 */
export function assignParts(graph: Graph): ReadonlyMap<string, PartAssignment> {
  const out = new Map<string, PartAssignment>();
  for (const [id, p] of placeOperators(graph)) out.set(id, { part: outputPart(p), reason: p.reason });
  return out;
}
