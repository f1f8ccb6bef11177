import { ConfigError } from '../shared/errors.ts';
import type { Graph } from '../shared/graph/index.ts';
import { cloudPartitioning, planApp, type AppPlan, type OperatorPlan } from '../shared/planner/index.ts';
import { helpText, pairs, parseArgs, type FlagSpec } from './args.ts';
import type { Io } from './io.ts';
import { loadApp } from './load-app.ts';

const FLAGS: Record<string, FlagSpec> = {
  json: { type: 'boolean', help: 'print the plan as one JSON document (operators with where/rule/reason, and channels)' },
  param: { type: 'list', value: 'KEY=VALUE', help: 'an app parameter, as for `sluice run` (repeatable)' },
  help: { type: 'boolean', help: 'show this help' },
};

export const PLAN_HELP = helpText(
  'sluice plan <app.ts|artifact.mjs> [--json] [--param KEY=VALUE]...',
  'Shows, without running anything, where each operator of an app runs when the app is split\n' +
  'between gateways (the edge: each gateway runs its own copy over its own devices) and the\n' +
  'cloud, why, and the channels where data crosses from one to the other. The rules:\n' +
  "  - an operator pinned with .place('edge') or .place('cloud') runs there; sources run at the edge;\n" +
  '  - any other (auto) operator without keyed state runs next to its input;\n' +
  '  - auto keyed state (window aggregates, joins, keyed process) runs in the cloud, since one key\n' +
  '    may come from several gateways, except count, sum, min, max and mean over event-time\n' +
  '    tumbling or sliding windows: those split into a partial per gateway and a merge in the cloud.\n' +
  '`sluice run <app> --part edge|cloud` runs each part by this plan.\n' +
  'Example: sluice plan examples/cdn-per-minute.ts',
  FLAGS,
);

export async function planCommand(argv: readonly string[], io: Io): Promise<number> {
  const { flags, positional } = parseArgs('plan', argv, FLAGS);
  if (flags.help) { io.stdout.write(PLAN_HELP); return 0; }
  if (positional.length !== 1) {
    throw new ConfigError('CLI_PLAN_APP', positional.length === 0 ? 'no app given' : `one app expected, got ${positional.length}`, { where: 'the command line', fix: 'sluice plan <app.ts|artifact.mjs>' });
  }
  const app = await loadApp(positional[0]!);
  const graph = app.graph(pairs('param', flags.param as string[] | undefined));
  const plan = planApp(graph);
  io.stdout.write(flags.json ? `${JSON.stringify(planJson(plan), null, 2)}\n` : renderPlan(plan, graph));
  return 0;
}

/**
 * The plan as JSON-ready data: what `--json` prints. Channels carry the part at each end.
 *
 * @example
 * planJson(planApp(graph)).channels[0]  // { name, from, to, grouping, fromPart: 'edge', toPart: 'cloud' }
 */
export function planJson(plan: AppPlan) {
  return {
    app: plan.app,
    operators: plan.operators,
    channels: plan.channels.map((c) => ({ ...c, fromPart: plan.parts.get(c.from), toPart: plan.parts.get(c.to) })),
    cloudPartitioning: cloudPartitioning(plan),
  };
}

/**
 * The plan as a person reads it: one block per operator (runs, why), then the channels.
 *
 * @example
 * io.stdout.write(renderPlan(planApp(graph), graph));
 */
export function renderPlan(plan: AppPlan, graph: Graph): string {
  const specs = new Map(graph.operators.map((o) => [o.id, o]));
  const lines = [`Placement of app "${plan.app}" (${plan.operators.length} operators):`, ''];
  for (const op of plan.operators) {
    lines.push(op.id, `  runs: ${runs(op, specs.get(op.id)?.placement)}`, `  why:  ${op.reason}`);
  }
  lines.push('', plan.channels.length === 0
    ? 'No channels: the whole app runs in one part.'
    : `Channels where data crosses (${plan.channels.length}):`);
  for (const c of plan.channels) {
    lines.push(`  ${c.name}: ${c.from} (${plan.parts.get(c.from)}) -> ${c.to} (${plan.parts.get(c.to)}), grouped by ${c.grouping}`);
  }
  if (plan.channels.length > 0) {
    const p = cloudPartitioning(plan);
    lines.push('', `Cloud part: ${p.byKey ? 'in partitions by key, spread over the cloud workers (sluice deploy --partitions N)' : 'one partition, on one cloud worker'} — ${p.reason}.`);
  }
  return `${lines.join('\n')}\n`;
}

function runs(op: OperatorPlan, placement: unknown): string {
  if (op.where === 'split') return `split: a partial at the edge on every selected gateway ("${op.partial}"), the final merge in the cloud`;
  if (op.where === 'cloud') return 'cloud';
  const sel = typeof placement === 'object' && placement !== null ? (placement as { selector: string }).selector : undefined;
  return sel ? `edge, on every gateway selected by "${sel}"` : 'edge, on every selected gateway';
}
