import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { systemClock, type Clock } from '../clock.ts';
import { ConfigError } from '../errors.ts';
import type { Graph } from '../graph/index.ts';
import type { DeadLetter, OpContext, SinkTarget, SourceOp, StatusEvent } from '../ops/index.ts';
import type { SinkBinding, SourceBinding } from './bindings.ts';
import { buildFragment } from './fragment.ts';
import { Gate } from './gate.ts';
import { JsonLinesWriter } from './json-lines-writer.ts';
import { readLineBatches } from './line-reader.ts';
import { snapshotMetrics, type MetricsSnapshot } from './metrics.ts';

export const DEAD_LETTER = 'dead-letter';

export interface RunOptions {
  /** A binding for every source of the graph, by source name. */
  readonly sources: Readonly<Record<string, SourceBinding>>;
  /** A binding for every sink, by sink name; `dead-letter` names the dead-letter stream (default stderr). */
  readonly sinks: Readonly<Record<string, SinkBinding>>;
  readonly clock?: Clock;
  /** Values per batch when a source reads from an in-memory iterable (default 1024). */
  readonly batchSize?: number;
  readonly onStatus?: (event: StatusEvent) => void;
  /**
   * Called after each batch of a source has run through the fused chain, with the number of
   * its last record: a downstream outbox may record it to resume from after a crash.
   */
  readonly onSourceProgress?: (source: string, lastRecord: number) => void;
  /** Records numbered up to this, per source, are skipped: their results are already durable. */
  readonly resumeAfter?: Readonly<Record<string, number>>;
}

export interface RunSummary {
  readonly metrics: MetricsSnapshot;
  readonly stopped: boolean;
}

/** A graph executing in this process. */
export interface Run {
  /** Resolves when every bounded input has ended and every result is written. */
  readonly done: Promise<RunSummary>;
  metrics(): MetricsSnapshot;
  /** Stops reading, stops child processes, and resolves `done`. */
  stop(): Promise<RunSummary>;
  /**
   * Resolves once every result produced so far has left the process: sink files written (to the
   * operating system, so they survive a crash of this process) and channel outboxes durable.
   */
  flushed(): Promise<void>;
}

/**
 * Runs a whole graph in this process, binding its named sources and sinks.
 *
 * @example
 * const run = startRun(app.graph({ maxDelay: '60s' }), {
 *   sources: { logs: { type: 'file', path: 'access.log' } },
 *   sinks: { results: { type: 'file', path: 'out.jsonl' } },
 * });
 * const { metrics } = await run.done;
 */
export function startRun(graph: Graph, opts: RunOptions): Run {
  checkBindings(graph, opts);
  const clock = opts.clock ?? systemClock;
  const gate = new Gate();
  const tracked: Promise<void>[] = [];
  const writers: JsonLinesWriter[] = [];
  let deadLetters = 0;
  let stopping = false;
  const startedAt = performance.now();

  const ctx: OpContext = {
    clock,
    batchStart: performance.now(),
    deadLetter: (letter) => { deadLetters++; deadTarget.write(0, undefined, letterRecord(letter)); },
    status: (e) => opts.onStatus?.(e),
    hold: (who) => gate.hold(who),
    release: (who) => gate.release(who),
    track: (p) => { tracked.push(p); },
  };
  const makeTarget = (who: string, b: SinkBinding): SinkTarget => {
    if (b.type === 'target') return b.target;
    if (b.type === 'collect') return { write: (ts, key, value) => b.onEvent(value, ts, key), watermark: b.onWatermark, end: () => Promise.resolve() };
    const stream = b.type === 'file' ? createWriteStream(b.path, { flags: b.append ? 'a' : 'w' }) : b.type === 'stdout' ? process.stdout : b.type === 'stderr' ? process.stderr : b.stream;
    const w = new JsonLinesWriter(stream, gate, who, b.type === 'file', (payload, reason) => ctx.deadLetter({ op: who, reason, payload }));
    writers.push(w);
    return w;
  };
  const deadTarget = makeTarget(DEAD_LETTER, opts.sinks[DEAD_LETTER] ?? { type: 'stderr' });
  const targets = new Map<string, () => SinkTarget>();
  const flushers: SinkTarget[] = [];
  const sinkTarget = (name: string): SinkTarget => {
    let t = targets.get(name);
    if (!t) {
      const binding = opts.sinks[name]!;
      const target = makeTarget(`sink:${name}`, binding);
      // File and stream writers are flushed through `writers`; targets given whole flush themselves.
      if (binding.type === 'target' && target.flushed) flushers.push(target);
      t = sharedTarget(target, sinkInstances(graph, name));
      targets.set(name, t);
    }
    return t();
  };
  const fragment = buildFragment(graph, ctx, sinkTarget);
  const metrics = () => snapshotMetrics(fragment.instances, startedAt, deadLetters, gate.waits);

  const drive = async (name: string, op: SourceOp, binding: SourceBinding): Promise<void> => {
    if (binding.type === 'push') {
      await binding.attach({
        events: (items) => {
          if (stopping) return;
          op.beginBatch();
          for (const e of items) op.push(e.ts, e.key, e.value);
        },
        watermark: (wm) => { if (!stopping) op.watermark(wm); },
      });
      return;
    }
    try {
      const resume = opts.resumeAfter?.[name] ?? 0;
      if (resume > 0) ctx.status({ type: 'source-resumed', op: name, after: resume });
      for await (const batch of batches(binding, opts.batchSize ?? 1024)) {
        if (stopping) return;
        op.beginBatch();
        const { items, from, to, first } = batch;
        // Records already durable downstream before a restart are not fed again.
        const start = Math.max(from, from + resume - first + 1);
        if (batch.lines) for (let i = start; i < to; i++) op.ingestLine(items[i] as string, first + i - from);
        else for (let i = start; i < to; i++) op.ingestValue(items[i], first + i - from);
        if (to > from) opts.onSourceProgress?.(name, first + (to - from) - 1);
        const wait = gate.whenOpen();
        if (wait) await wait;
      }
    } catch (err) {
      ctx.status({ type: 'source-error', op: name, message: (err as Error).message });
    }
    if (!stopping) {
      ctx.status({ type: 'source-ended', op: name, records: op.m.in });
      op.finish();
    }
  };

  const finishAll = async (): Promise<RunSummary> => {
    await Promise.all([...fragment.sources].map(([name, op]) => drive(name, op, opts.sources[name]!)));
    // Async operators add work while the final watermark travels: wait until none is left.
    while (tracked.length > 0) await Promise.all(tracked.splice(0));
    for (const op of fragment.all) op.close();
    // Ends every file and stream writer, including the dead-letter one (ends are idempotent).
    await Promise.all(writers.map((w) => w.end()));
    return { metrics: metrics(), stopped: stopping };
  };
  const done = finishAll();
  return {
    done,
    metrics,
    async flushed() {
      await Promise.all([...writers.map((w) => w.flushed()), ...flushers.map((t) => t.flushed!())]);
    },
    async stop() {
      stopping = true;
      for (const op of fragment.all) op.close();
      gate.releaseAll();
      return done;
    },
  };
}

/**
 * One target shared by a sink's instances: each instance gets its own view, called once per
 * instance. The target ends after the last instance ends, and its watermark is the minimum over
 * the instances', passed on as it moves (a channel sink carries it to the other side mid-stream).
 */
function sharedTarget(t: SinkTarget, instances: number): () => SinkTarget {
  let left = instances;
  let ended: Promise<void> | undefined;
  const marks: number[] = [];
  let sent = -Infinity;
  return () => {
    const i = marks.push(-Infinity) - 1;
    return {
      write: (ts, key, value) => t.write(ts, key, value),
      ...(t.flushed ? { flushed: () => t.flushed!() } : {}),
      watermark: (wm) => {
        if (!t.watermark || wm <= marks[i]!) return;
        marks[i] = wm;
        const min = marks.length < instances ? -Infinity : Math.min(...marks);
        if (min > sent) { sent = min; t.watermark(min); }
      },
      end: () => (--left <= 0 ? (ended ??= t.end()) : Promise.resolve()),
    };
  };
}

function sinkInstances(graph: Graph, name: string): number {
  return graph.operators.find((o) => o.config.kind === 'sink' && o.name === name)?.parallelism ?? 1;
}

function letterRecord(l: DeadLetter): unknown {
  const payload = l.payload instanceof Uint8Array ? Buffer.from(l.payload).toString('base64') : l.payload;
  return { deadLetter: true, op: l.op, reason: l.reason, payload, at: new Date().toISOString() };
}

/** items[from..to) are one batch; `first` numbers its first record for dead letters. */
interface Batch { items: readonly unknown[]; from: number; to: number; lines: boolean; first: number }

async function* batches(b: SourceBinding, size: number): AsyncGenerator<Batch> {
  let n = 1;
  if (b.type === 'values' || b.type === 'lines') {
    const source = b.type === 'values' ? b.values : b.lines;
    const lines = b.type === 'lines';
    if (Array.isArray(source)) {
      // Arrays are batched in place: no copy.
      for (let from = 0; from < source.length; from += size) {
        const to = Math.min(source.length, from + size);
        yield { items: source, from, to, lines, first: from + 1 };
        if (to < source.length) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      return;
    }
    if (Symbol.iterator in source) {
      // Synchronous input is cut into batches without a promise per value.
      const it = (source as Iterable<unknown>)[Symbol.iterator]();
      for (;;) {
        const items: unknown[] = [];
        let r: IteratorResult<unknown> | undefined;
        while (items.length < size && !(r = it.next()).done) items.push(r.value);
        if (items.length > 0) { yield { items, from: 0, to: items.length, lines, first: n }; n += items.length; }
        if (items.length < size) return;
        // Let timers, child-process output and sink writes run between batches.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    // An async source (a live feed) delivers each value as it arrives: holding a partial batch
    // back until it fills would delay values without bound.
    for await (const v of source as AsyncIterable<unknown>) {
      yield { items: [v], from: 0, to: 1, lines, first: n };
      n++;
    }
    return;
  }
  if (b.type === 'push') return; // driven by its pusher, not read here
  const stream = b.type === 'file' ? createReadStream(b.path, { highWaterMark: 256 * 1024 }) : b.type === 'stdin' ? process.stdin : b.stream;
  for await (const lines of readLineBatches(stream)) {
    yield { items: lines, from: 0, to: lines.length, lines: true, first: n };
    n += lines.length;
  }
}

function checkBindings(graph: Graph, opts: RunOptions): void {
  const sources = graph.operators.filter((o) => o.config.kind === 'source').map((o) => o.name);
  const sinks = graph.operators.filter((o) => o.config.kind === 'sink').map((o) => o.name);
  for (const s of sources) {
    const b = opts.sources[s];
    if (!b) throw new ConfigError('RUN_UNBOUND_SOURCE', `source "${s}" has no input`, { where: `app "${graph.app}"`, fix: `bind it: --in ${s}=FILE (or - for stdin)` });
    if (b.type === 'file' && !existsSync(b.path)) {
      throw new ConfigError('RUN_NO_FILE', `input file ${b.path} does not exist`, { where: `source "${s}"`, fix: 'check the path given to --in' });
    }
  }
  for (const s of sinks) {
    if (!opts.sinks[s]) throw new ConfigError('RUN_UNBOUND_SINK', `sink "${s}" has no output`, { where: `app "${graph.app}"`, fix: `bind it: --out ${s}=FILE (or - for stdout)` });
  }
  for (const name of Object.keys(opts.sources)) {
    if (!sources.includes(name)) throw new ConfigError('RUN_UNKNOWN_SOURCE', `the app has no source "${name}"`, { where: '--in', fix: `its sources are: ${sources.join(', ')}` });
  }
  for (const name of Object.keys(opts.sinks)) {
    if (name !== DEAD_LETTER && !sinks.includes(name)) throw new ConfigError('RUN_UNKNOWN_SINK', `the app has no sink "${name}"`, { where: '--out', fix: `its sinks are: ${[...sinks, DEAD_LETTER].join(', ')}` });
  }
}
