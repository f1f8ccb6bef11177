import type { GraphPart } from '../runtime/index.ts';
import { channelBinding } from '../runtime/index.ts';

/** Inbound channels whose events meet in some operator downstream, and the name their final watermark is kept under. */
export interface InboundGroup {
  readonly name: string;
  readonly channels: readonly string[];
}

/**
 * The part's inbound channels grouped by the operators they feed: two channels that reach a
 * common operator (a join's two sides, a union) are final only together, up to the slower
 * one's watermark; channels that never meet (two pipelines in one app) are final each on its
 * own, so a silent one holds no other back. The only group of a part with one is named `''`
 * (the saved format before groups); otherwise each is named for its channels, joined by '+'.
 *
 * @example
 * inboundGroups(splitGraph(graph, 'cloud')); // [{ name: '', channels: ['0-left_keyBy', '1-right_keyBy'] }]
 */
export function inboundGroups(part: GraphPart): InboundGroup[] {
  const children = new Map<string, string[]>();
  for (const op of part.graph.operators) {
    for (const e of op.inputs) children.set(e.from, [...(children.get(e.from) ?? []), op.id]);
  }
  const reach = (from: string): Set<string> => {
    const seen = new Set<string>();
    const todo = [from];
    for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
      for (const c of children.get(id) ?? []) if (!seen.has(c)) { seen.add(c); todo.push(c); }
    }
    return seen;
  };
  const names = part.inbound.map((c) => c.name);
  const reached = part.inbound.map((c) => reach(channelBinding(c)));
  // Union-find over channels: joined when what they reach overlaps.
  const parent = names.map((_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i]!)));
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      if ([...reached[i]!].some((id) => reached[j]!.has(id))) parent[root(j)] = root(i);
    }
  }
  const groups = new Map<number, string[]>();
  names.forEach((n, i) => groups.set(root(i), [...(groups.get(root(i)) ?? []), n]));
  const all = [...groups.values()].map((channels) => [...channels].sort());
  // Named for all of its channels: a later version that groups them otherwise finds nothing
  // saved under a name it shares with a different group.
  return all.map((channels) => ({ name: all.length === 1 ? '' : channels.join('+'), channels }));
}
