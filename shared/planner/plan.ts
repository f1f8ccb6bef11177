import type { AggregateConfig, Edge, Graph, OperatorKind, OperatorSpec } from '../graph/index.ts';
import { outputPart, placeOperators, type Part, type PlacementRule, type Where } from './rules.ts';

/** A graph edge that crosses between parts: it travels as a channel. */
export interface ChannelCut {
  /** Topic-safe and the same in every process that plans the same graph. */
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly grouping: Edge['grouping'];
}

/** The placement of one operator of the app as written, with its reason. */
export interface OperatorPlan {
  readonly id: string;
  readonly kind: OperatorKind;
  readonly where: Where;
  readonly rule: PlacementRule;
  readonly reason: string;
  /** For a split aggregate: the id of its partial at the edge (the merge in the cloud keeps `id`). */
  readonly partial?: string;
}

/** Where every operator runs and which edges cross, as data. */
export interface AppPlan {
  readonly app: string;
  /** In the app's (topological) order. */
  readonly operators: readonly OperatorPlan[];
  /** Edges between the parts, in the order of the executed graph. */
  readonly channels: readonly ChannelCut[];
  /** The graph as executed: each split aggregate replaced by its partial and its merge. */
  readonly executed: Graph;
  /** The part of every operator of `executed`. */
  readonly parts: ReadonlyMap<string, Part>;
}

/**
 * Suffix of the id of a split aggregate's partial; `/` never occurs in a user's names.
 *
 * @example
 * `${aggregateId}${PARTIAL_SUFFIX}`  // 'per-machine/partial', the operator each gateway runs
 */
export const PARTIAL_SUFFIX = '/partial';

/**
 * Plans an app for edge and cloud: places every operator by the static rules, splits each
 * decomposable aggregate into a partial (edge) and a merge (cloud), and names the channels
 * where the graph crosses between parts. Pure and deterministic, so every process that plans
 * the same graph agrees on the channels.
 *
 * @example
 * const plan = planApp(app.graph());
 * for (const op of plan.operators) console.log(op.id, op.where, op.reason);
 * plan.channels  // [{ name: '0-readings_keyBy_aggregate_partial', from: ..., to: ..., grouping: 'key' }]
 */
export function planApp(graph: Graph): AppPlan {
  const placed = placeOperators(graph);
  const operators: OperatorPlan[] = [];
  const executed: OperatorSpec[] = [];
  const parts = new Map<string, Part>();
  for (const op of graph.operators) {
    const p = placed.get(op.id)!;
    if (p.where === 'split' && op.config.kind === 'aggregate') {
      const [partial, merge] = splitAggregate(op, op.config.aggregate);
      executed.push(partial, merge);
      parts.set(partial.id, 'edge');
      parts.set(merge.id, 'cloud');
      operators.push({ id: op.id, kind: op.config.kind, where: p.where, rule: p.rule, reason: p.reason, partial: partial.id });
    } else {
      executed.push(op);
      parts.set(op.id, outputPart(p));
      operators.push({ id: op.id, kind: op.config.kind, where: p.where, rule: p.rule, reason: p.reason });
    }
  }
  const channels: ChannelCut[] = [];
  for (const op of executed) {
    for (const e of op.inputs) {
      if (parts.get(e.from) !== parts.get(op.id)) {
        channels.push({ name: `${channels.length}-${safe(e.from)}`, from: e.from, to: op.id, grouping: e.grouping });
      }
    }
  }
  return { app: graph.app, operators, channels, executed: Object.freeze({ ...graph, operators: executed }), parts };
}

/**
 * The partial runs at each gateway over the aggregate's own input; the merge, under the
 * aggregate's id (so its consumers and its late side output need no rewiring), reads the
 * partials by the same grouping, so all gateways' partials of one key meet in one instance.
 */
function splitAggregate(op: OperatorSpec, a: AggregateConfig): [OperatorSpec, OperatorSpec] {
  const partial: OperatorSpec = Object.freeze({
    ...op, id: `${op.id}${PARTIAL_SUFFIX}`, name: `${op.name}${PARTIAL_SUFFIX}`, placement: 'edge', valueType: 'object',
    config: { kind: 'aggregate' as const, aggregate: Object.freeze({ ...a, stage: 'partial' as const }) },
  });
  const merge: OperatorSpec = Object.freeze({
    ...op, placement: 'cloud',
    inputs: [{ from: partial.id, grouping: op.inputs[0]!.grouping, port: 'in' as const }],
    config: { kind: 'aggregate' as const, aggregate: Object.freeze({ ...a, stage: 'merge' as const }) },
  });
  return [partial, merge];
}

function safe(id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80);
}
