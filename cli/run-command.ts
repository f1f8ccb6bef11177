import { writeFile } from 'node:fs/promises';
import { ConfigError } from '../shared/errors.ts';
import type { Graph } from '../shared/graph/index.ts';
import type { LogOptions, OverflowPolicy } from '../shared/store/index.ts';
import {
  DEAD_LETTER, sinkFromArg, sourceFromArg, splitGraph, startRun, type MetricsSnapshot, type SinkBinding, type SourceBinding,
} from '../shared/runtime/index.ts';
import { helpText, pairs, parseArgs, type FlagSpec } from './args.ts';
import type { Io } from './io.ts';
import { loadApp } from './load-app.ts';
import { runPart } from './part-run.ts';
import { statusPrinter } from './status.ts';

const FLAGS: Record<string, FlagSpec> = {
  in: { type: 'list', value: 'NAME=PATH|-', help: 'bind source NAME to a file, or - for stdin (repeatable)' },
  out: { type: 'list', value: 'NAME=PATH|-', help: `bind sink NAME to a file (with --part, appended to), or - for stdout (repeatable); an app's only sink defaults to stdout; "${DEAD_LETTER}" defaults to stderr` },
  param: { type: 'list', value: 'KEY=VALUE', help: 'an app parameter, read in the app with params.string/number/duration (repeatable)' },
  metrics: { type: 'string', value: 'PATH|-', help: 'write the final per-operator metrics as JSON' },
  part: { type: 'string', value: 'edge|cloud', help: 'run only this part of the app (placed as `sluice plan` shows), linked to the other part over MQTT' },
  broker: { type: 'string', value: 'URL', help: 'MQTT broker linking the parts, e.g. mqtt://127.0.0.1:1883 (with --part)' },
  producer: { type: 'string', value: 'ID', help: 'this process\'s id on its outbound channels (default <hostname>-<part>)' },
  state: { type: 'string', value: 'DIR', help: 'where disk outboxes live (default .sluice-state/<app>/<part>)' },
  expect: { type: 'string', value: 'ID,ID', help: 'producers the inbound channels wait for before their watermark moves' },
  username: { type: 'string', value: 'U', help: 'broker username' },
  password: { type: 'string', value: 'P', help: 'broker password' },
  'drain-rate': { type: 'string', value: 'N', help: 'send at most N events/s per outbound channel, so a backlog drains without starving live data (default: no cap)' },
  'outbox-max-bytes': { type: 'string', value: 'N', help: 'bound each outbox to N bytes (default 256 MiB on disk, 64 MiB in memory)' },
  'outbox-overflow': { type: 'string', value: 'POLICY', help: 'when an outbox is full: drop-oldest (default), reject (hold the sources) or priority' },
  'mqtt-version': { type: 'string', value: '4|5', help: 'MQTT protocol: 4 is 3.1.1 (default, what the embedded broker speaks), 5 is MQTT 5' },
  quiet: { type: 'boolean', help: 'print no summary to stderr' },
  help: { type: 'boolean', help: 'show this help' },
};

export const RUN_HELP = helpText(
  'sluice run <app.ts|artifact.mjs> [--in NAME=PATH|-]... [--out NAME=PATH|-]... [--param KEY=VALUE]...\n' +
  '       sluice run <app> --part edge|cloud --broker URL [...]',
  'Runs a whole app in this process: reads its sources to the end, writes its sinks, and prints a\n' +
  'summary of events in, results out, late events and dead letters to stderr. With --part, runs\n' +
  'only the edge or the cloud operators (placed as `sluice plan` shows) and links the two\n' +
  'parts over MQTT, with a disk outbox behind every channel; start the other part the same way.\n' +
  'Example: sluice run examples/cdn-per-minute.ts --in logs=access.log --out results=- --out late=late.jsonl',
  FLAGS,
);

export async function runCommand(argv: readonly string[], io: Io): Promise<number> {
  const { flags, positional } = parseArgs('run', argv, FLAGS);
  if (flags.help) { io.stdout.write(RUN_HELP); return 0; }
  if (positional.length !== 1) {
    throw new ConfigError('CLI_RUN_APP', positional.length === 0 ? 'no app given' : `one app expected, got ${positional.length}`, { fix: 'sluice run <app.ts|artifact.mjs> --in NAME=PATH' });
  }
  const app = await loadApp(positional[0]!);
  const graph = app.graph(pairs('param', flags.param as string[] | undefined));
  const sources = Object.fromEntries(Object.entries(pairs('in', flags.in as string[] | undefined)).map(([k, v]) => [k, sourceFromArg(v)]));
  const sinks: Record<string, SinkBinding> = Object.fromEntries(Object.entries(pairs('out', flags.out as string[] | undefined)).map(([k, v]) => [k, sinkFromArg(v)]));
  // An app with one sink writes to stdout when it is not bound; with several, each must be bound
  // so results, late events and the like never mix on one stream unasked.
  const local = flags.part === undefined ? graph : splitGraph(graph, flags.part === 'cloud' ? 'cloud' : 'edge').graph;
  const sinkNames = local.operators.filter((o) => o.config.kind === 'sink' && !o.name.startsWith('channel:')).map((o) => o.name);
  if (sinkNames.length === 1 && !sinks[sinkNames[0]!]) sinks[sinkNames[0]!] = { type: 'stdout' };
  const part = flags.part as string | undefined;
  let metrics: MetricsSnapshot;
  if (part !== undefined) {
    if (part !== 'edge' && part !== 'cloud') throw new ConfigError('CLI_BAD_PART', `--part ${part} is not a part`, { fix: 'use --part edge or --part cloud' });
    const broker = flags.broker as string | undefined;
    if (!broker) throw new ConfigError('CLI_NO_BROKER', '--part needs --broker URL', { fix: 'start one with `sluice broker` and pass its URL' });
    metrics = await runPart(graph, {
      // A part keeps its results across restarts: its files are appended to, not replaced.
      part, broker, sources, sinks: Object.fromEntries(Object.entries(sinks).map(([k, b]) => [k, b.type === 'file' ? { ...b, append: true } : b])),
      producer: flags.producer as string | undefined, stateDir: flags.state as string | undefined,
      username: flags.username as string | undefined, password: flags.password as string | undefined,
      expect: (flags.expect as string | undefined)?.split(',').filter(Boolean),
      protocolVersion: mqttVersion(flags['mqtt-version'] as string | undefined),
      drainRate: drainRate(flags['drain-rate'] as string | undefined),
      quiet: flags.quiet === true,
      outbox: outboxOptions(flags['outbox-max-bytes'] as string | undefined, flags['outbox-overflow'] as string | undefined),
    }, io);
  } else {
    metrics = await runWhole(graph, sources, sinks, io, flags.quiet === true);
  }
  if (!flags.quiet) io.stderr.write(summary(metrics));
  const m = flags.metrics as string | undefined;
  if (m === '-') io.stdout.write(`${JSON.stringify(metrics)}\n`);
  else if (m) await writeFile(m, JSON.stringify(metrics, null, 2));
  return 0;
}

function drainRate(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n <= 0) throw new ConfigError('CLI_BAD_DRAIN_RATE', `--drain-rate ${v} is not a positive number`, { fix: 'give events per second, e.g. --drain-rate 20000' });
  return n;
}

function outboxOptions(maxBytes: string | undefined, overflow: string | undefined): LogOptions {
  const out: { maxBytes?: number; overflow?: OverflowPolicy } = {};
  if (maxBytes !== undefined) {
    if (!/^\d+$/.test(maxBytes)) throw new ConfigError('CLI_BAD_OUTBOX_BYTES', `--outbox-max-bytes ${maxBytes} is not a number of bytes`, { fix: 'e.g. --outbox-max-bytes 104857600 for 100 MiB' });
    out.maxBytes = Number(maxBytes);
  }
  if (overflow !== undefined) {
    if (overflow !== 'drop-oldest' && overflow !== 'reject' && overflow !== 'priority') {
      throw new ConfigError('CLI_BAD_OVERFLOW', `--outbox-overflow ${overflow} is not a policy`, { fix: 'use drop-oldest, reject or priority' });
    }
    out.overflow = overflow;
  }
  return out;
}

function mqttVersion(v: string | undefined): 4 | 5 {
  if (v === undefined || v === '4' || v === '3.1.1') return 4;
  if (v === '5') return 5;
  throw new ConfigError('CLI_BAD_MQTT_VERSION', `--mqtt-version ${v} is not supported`, { fix: 'use 4 (MQTT 3.1.1) or 5' });
}

async function runWhole(graph: Graph, sources: Record<string, SourceBinding>, sinks: Record<string, SinkBinding>, io: Io, quiet: boolean): Promise<MetricsSnapshot> {
  const run = startRun(graph, { sources, sinks, onStatus: statusPrinter(io, quiet) });
  const onSigint = () => { void run.stop(); };
  process.once('SIGINT', onSigint);
  try {
    return (await run.done).metrics;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** A few lines a person reads after a run: what came in, what went out, what was late or bad. */
export function summary(m: MetricsSnapshot): string {
  const lines = [`sluice: done in ${(m.elapsedMs / 1000).toFixed(2)} s`];
  for (const o of m.operators) {
    if (o.kind === 'source') lines.push(`  source ${o.id}: ${o.in} records, ${o.out} events, ${o.deadLettered} dead-lettered`);
    if (o.kind === 'aggregate' || o.kind === 'join') lines.push(`  window ${o.id}: ${o.in} events, ${o.out} results, ${o.lateUpdates} late updates, ${o.late} too late`);
    if (o.kind === 'sink') lines.push(`  sink ${o.id.replace(/^sink:/, '')}: ${o.in} written`);
    if (o.kind === 'exec' && o.restarts > 0) lines.push(`  exec ${o.id}: restarted ${o.restarts} times`);
  }
  if (m.deadLetters > 0) lines.push(`  ${m.deadLetters} dead letters (bind --out ${DEAD_LETTER}=FILE to keep them in a file)`);
  return `${lines.join('\n')}\n`;
}
