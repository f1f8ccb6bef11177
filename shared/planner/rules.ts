import type { AggregateConfig, Graph, OperatorSpec } from '../graph/index.ts';

/** The two tiers a process runs: `edge` (one instance per gateway) and `cloud`. */
export type Part = 'edge' | 'cloud';

/** Where an operator runs: one tier, or split into a partial at each gateway and a merge in the cloud. */
export type Where = Part | 'split';

/** Which placement rule decided; stable, for programs (the reason is for people). */
export type PlacementRule =
  | 'pinned'
  | 'selector'
  | 'source'
  | 'follows-input'
  | 'input-in-cloud'
  | 'keyed-spans-gateways'
  | 'decomposable-split'
  | 'not-splittable'
  | 'late-with-window';

export interface OperatorPlacement {
  readonly where: Where;
  readonly rule: PlacementRule;
  /** One sentence a person reads: why the operator runs there. */
  readonly reason: string;
}

/**
 * Built-in aggregates whose accumulators merge exactly, so they can run as partial + merge.
 *
 * @example
 * DECOMPOSABLE.has('mean')    // true: {sum, n} partials add up
 * DECOMPOSABLE.has('reduce')  // false: the user's function may not be associative
 */
export const DECOMPOSABLE: ReadonlySet<AggregateConfig['fn']> = new Set(['count', 'sum', 'min', 'max', 'mean']);

const KEYED_STATE: Readonly<Record<string, string>> = {
  aggregate: 'a window aggregate',
  join: 'a window join',
  process: 'a keyed process function',
};

/**
 * Places each operator of a graph by static rules on its placement hints (issue 5): pins
 * decide; sources run at the edge, on every gateway over its own devices; `auto` stateless
 * operators run next to their input; `auto` keyed state (window aggregate, join, keyed process)
 * runs in the cloud, since its key may span gateways, except a decomposable event-time window
 * aggregate (count, sum, min, max, mean over tumbling or sliding windows), which is split into
 * a partial per gateway and a final merge in the cloud. Pure and deterministic.
 *
 * @example
 * placeOperators(graph).get('readings/keyBy/aggregate')
 * // { where: 'split', rule: 'decomposable-split', reason: 'a mean over tumbling windows is decomposable: ...' }
 */
export function placeOperators(graph: Graph): ReadonlyMap<string, OperatorPlacement> {
  const out = new Map<string, OperatorPlacement>();
  for (const op of graph.operators) out.set(op.id, place(op, out));
  return out;
}

/**
 * The tier an operator's output is produced in: a split aggregate's final result comes from
 * the cloud merge, so its consumers follow it to the cloud.
 *
 * @example
 * outputPart({ where: 'split', rule: 'decomposable-split', reason: '...' })  // 'cloud'
 */
export function outputPart(p: OperatorPlacement): Part {
  return p.where === 'split' ? 'cloud' : p.where;
}

function place(op: OperatorSpec, done: ReadonlyMap<string, OperatorPlacement>): OperatorPlacement {
  const c = op.config;
  if (c.kind === 'late') return lateOutput(done.get(op.inputs[0]!.from)!);
  const keyed = KEYED_STATE[c.kind];
  const p = op.placement;
  if (p === 'cloud') return { where: 'cloud', rule: 'pinned', reason: "pinned to the cloud with .place('cloud')" };
  if (p === 'edge') {
    return {
      where: 'edge', rule: 'pinned',
      reason: keyed
        ? `pinned with .place('edge'): ${keyed} runs whole on every gateway, as the pin asserts its key stays within one gateway`
        : "pinned with .place('edge'): runs on every gateway over its own devices",
    };
  }
  if (typeof p === 'object') {
    return { where: 'edge', rule: 'selector', reason: `node selector "${p.selector}": runs on every gateway it selects, over that gateway's own devices` };
  }
  if (c.kind === 'source') return { where: 'edge', rule: 'source', reason: 'a source runs where its devices are: on every gateway, over its own devices' };
  const inCloud = op.inputs.find((e) => outputPart(done.get(e.from)!) === 'cloud');
  if (inCloud) {
    return { where: 'cloud', rule: 'input-in-cloud', reason: `its input "${inCloud.from}" is produced in the cloud, and data does not flow back to the gateways` };
  }
  if (keyed === undefined) {
    const what = c.kind === 'exec' ? 'keeps no keyed state' : 'stateless';
    return { where: 'edge', rule: 'follows-input', reason: `${what}: runs next to its input "${op.inputs[0]!.from}", at the edge` };
  }
  if (c.kind !== 'aggregate') {
    return { where: 'cloud', rule: 'keyed-spans-gateways', reason: `${keyed} keeps state per key, and a key may span gateways: runs whole in the cloud` };
  }
  return aggregate(c.aggregate);
}

function aggregate(a: AggregateConfig): OperatorPlacement {
  const what = `a ${a.fn === 'custom' ? 'custom aggregate' : a.fn} over ${a.window.type} windows`;
  const notSplit = (why: string): OperatorPlacement =>
    ({ where: 'cloud', rule: 'not-splittable', reason: `${what} keeps state per key, and a key may span gateways; ${why}: runs whole in the cloud` });
  if (!DECOMPOSABLE.has(a.fn)) return notSplit(`a ${a.fn === 'custom' ? 'custom aggregate' : a.fn} is not one of the decomposable aggregates (count, sum, min, max, mean), so it cannot be split`);
  if (a.time !== 'event') return notSplit('processing-time windows fire on the clock of the node that runs them, so gateways and the cloud would cut different windows');
  // Sessions from several gateways would have to be merged by gap in the cloud, and their
  // revisions reconciled; not built, so rather whole than wrong.
  if (a.window.type === 'session') return notSplit('session windows would have to be merged across gateways by gap, which the split does not do');
  return {
    where: 'split', rule: 'decomposable-split',
    reason: `${what} is decomposable: a partial per gateway (per key and window) and a final merge in the cloud, which fires on the slowest gateway's watermark`,
  };
}

function lateOutput(window: OperatorPlacement): OperatorPlacement {
  if (window.where === 'split') {
    return {
      where: 'cloud', rule: 'late-with-window',
      reason: "with its window's final merge in the cloud: only the merge sees every gateway's watermark, so only it knows an event is too late",
    };
  }
  return { where: window.where, rule: 'late-with-window', reason: `with its window, in the ${window.where === 'edge' ? 'edge' : 'cloud'}: too-late events are known only where the window runs` };
}
