import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { describeError } from '../errors.ts';
import type { Graph } from '../graph/index.ts';
import { addCounts, bindPartChannels, describeOrphan, brokerFinalWatermark, combinedFinalWatermark, fileFinalWatermark, type PartChannels } from '../link/index.ts';
import type { StatusEvent } from '../ops/index.ts';
import { channelBinding, DEAD_LETTER, loadArtifact, splitGraph, startRun, type GraphPart, type Run, type SinkBinding, type SourceBinding } from '../runtime/index.ts';
import type { LogOptions } from '../store/index.ts';
import { partFinalTopic, type AppStatus, type DesiredApp, type NodeRole } from '../wire/index.ts';

/** Sources a node binds for the operators it runs (a gateway: its devices on the local broker). */
export interface BoundSources {
  readonly bindings: Record<string, SourceBinding>;
  /** Ends every bound source, so the run can stop. */
  close(): void;
}

export type SourceBinder = (graph: Graph, app: string) => BoundSources;

export interface AppRunnerOptions {
  readonly desired: DesiredApp;
  readonly role: NodeRole;
  readonly nodeId: string;
  /** The uplink to the cloud's broker, shared by every app of the node. */
  readonly client: MqttClient;
  /** `<data>/apps/<app>`: outboxes, sink files and dead letters of this app on this node. */
  readonly stateDir: string;
  readonly artifactPath: string;
  readonly bindSources?: SourceBinder;
  readonly outbox?: LogOptions;
  readonly onStatus?: (app: string, event: StatusEvent) => void;
  readonly log?: (line: string) => void;
}

/** The file a sink of an app writes on a node: `<stateDir>/sinks/<sink>.jsonl`, appended. */
export function sinkFile(stateDir: string, sink: string): string {
  return join(stateDir, 'sinks', `${sink.replace(/[^A-Za-z0-9_.-]/g, '_')}.jsonl`);
}

/** One run of the app's part: the whole edge part, or one partition of the cloud part. */
interface Lane {
  readonly partition: number;
  readonly run: Run;
  readonly channels: PartChannels;
}

/**
 * One app's part running on one node: the edge part on a gateway (over its own devices), the
 * cloud part on a worker — as one lane per partition the worker owns, each with its own
 * channels, state and final watermark (kept on the broker too, so another worker can take the
 * partition over). Loads the verified artifact, cuts the graph at the placement, links the cut
 * edges to channels over the uplink, and appends every sink's results (and the dead letters)
 * to files under the app's state directory, shared by its lanes, so a restart adds to them.
 *
 * @example
 * const runner = await AppRunner.start({ desired, role: 'edge', nodeId: 'gw-1', client, stateDir, artifactPath });
 * runner.status(); await runner.stop();
 */
export class AppRunner {
  private lastIn = 0;
  private lastAt = performance.now();
  private readonly lanes = new Map<number, Lane>();
  private retired = { eventsIn: 0, deadLetters: 0 };

  private constructor(
    private current: DesiredApp,
    private readonly o: AppRunnerOptions,
    private readonly part: GraphPart,
    private readonly sources: BoundSources,
    private readonly sinks: Record<string, SinkBinding>,
    private readonly streams: WriteStream[],
  ) {}

  get desired(): DesiredApp { return this.current; }

  static async start(o: AppRunnerOptions): Promise<AppRunner> {
    const def = await loadArtifact(o.artifactPath, o.desired.hash);
    const graph = def.graph({ ...o.desired.params });
    const part = splitGraph(graph, o.role);
    const sources = o.bindSources?.(part.graph, o.desired.app) ?? { bindings: {}, close: () => {} };
    const streams: WriteStream[] = [];
    mkdirSync(join(o.stateDir, 'sinks'), { recursive: true });
    const append = (path: string): SinkBinding => {
      const stream = createWriteStream(path, { flags: 'a' });
      streams.push(stream);
      return { type: 'stream', stream };
    };
    const sinks: Record<string, SinkBinding> = { [DEAD_LETTER]: append(join(o.stateDir, 'dead-letter.jsonl')) };
    const channelSinks = new Set(part.outbound.map(channelBinding));
    for (const op of part.graph.operators) {
      if (op.config.kind === 'sink' && !channelSinks.has(op.name)) sinks[op.name] = append(sinkFile(o.stateDir, op.name));
    }
    const runner = new AppRunner(o.desired, o, part, sources, sinks, streams);
    try {
      await runner.setLanes(lanesOf(o.role, o.desired));
      return runner;
    } catch (err) {
      await runner.stop();
      throw err;
    }
  }

  /**
   * Moves a cloud worker to the partitions a new desired state gives it: lanes it no longer
   * owns stop and their state goes (the new owner resumes from the broker); new ones start.
   */
  async update(desired: DesiredApp): Promise<void> {
    this.current = desired;
    await this.setLanes(lanesOf(this.o.role, desired));
  }

  private async setLanes(wanted: readonly number[]): Promise<void> {
    for (const [k, lane] of [...this.lanes]) {
      if (wanted.includes(k)) continue;
      this.lanes.delete(k);
      await this.stopLane(lane);
      await rm(this.laneDir(k), { recursive: true, force: true });
    }
    for (const k of wanted) if (!this.lanes.has(k)) this.lanes.set(k, await this.startLane(k));
  }

  private laneDir(k: number): string {
    return this.o.role === 'cloud' ? join(this.o.stateDir, 'partitions', String(k)) : this.o.stateDir;
  }

  private async startLane(k: number): Promise<Lane> {
    const { o, part } = this;
    const d = this.current;
    const stateDir = this.laneDir(k);
    const channels = await bindPartChannels(part, {
      client: o.client, producer: o.nodeId, stateDir,
      ...(o.outbox ? { outbox: o.outbox } : {}),
      ...(o.role === 'edge' ? { partitions: d.partitions ?? 1 } : {
        partition: k,
        ...(d.producers.length > 0 ? { expectProducers: d.producers } : {}),
        // The worker's own file serves its restart; the retained copy whoever takes the partition over.
        finalWatermark: combinedFinalWatermark([
          fileFinalWatermark(join(stateDir, 'inbound', 'final-watermark.json')),
          brokerFinalWatermark(o.client, partFinalTopic(d.app, k)),
        ]),
      }),
    });
    for (const orphan of channels.orphans) o.log?.(`app ${d.app}: ${describeOrphan(orphan)}`);
    if (channels.resumeWatermark > -Infinity) {
      o.log?.(`app ${d.app} ${o.role === 'cloud' ? `partition ${k} ` : ''}resumes at watermark ${channels.resumeWatermark}, where its results were final`);
    }
    try {
      const run = startRun(part.graph, {
        sources: { ...this.sources.bindings, ...channels.sources },
        sinks: { ...this.sinks, ...channels.sinks },
        onStatus: (e) => o.onStatus?.(d.app, e),
      });
      channels.setFlush(() => run.flushed());
      return { partition: k, run, channels };
    } catch (err) {
      await channels.close();
      throw err;
    }
  }

  private async stopLane(lane: Lane): Promise<void> {
    const finished = lane.run.stop();
    await lane.channels.close();
    await finished.catch(() => {});
    const m = lane.run.metrics();
    this.retired.eventsIn += eventsInOf(m.operators);
    this.retired.deadLetters += m.deadLetters;
  }

  status(): AppStatus {
    const channels: Record<string, { backlog: number; undelivered: number; sent: number; acked: number; dropped: number }> = {};
    const inbound: Record<string, NonNullable<AppStatus['inbound']>[string]> = {};
    let { eventsIn, deadLetters } = this.retired;
    for (const lane of this.lanes.values()) {
      const st = lane.channels.stats();
      for (const [name, s] of Object.entries(st.outbound)) channels[name] = { backlog: s.backlog, undelivered: s.undelivered, sent: s.eventsSent, acked: s.ackedSeq, dropped: s.droppedUnsent + s.droppedClosed + s.droppedTooLarge };
      for (const [name, r] of Object.entries(st.inbound)) {
        const one = { events: r.events, duplicates: r.duplicates, rejected: r.rejectedFrames, resendRequests: r.resendRequests, fenced: r.fencedFrames, ...(r.lastRejection ? { lastRejection: r.lastRejection } : {}) };
        const sum = inbound[name];
        inbound[name] = sum ? addCounts(sum, one) : one;
      }
      const m = lane.run.metrics();
      eventsIn += eventsInOf(m.operators);
      deadLetters += m.deadLetters;
    }
    const now = performance.now();
    const rate = now > this.lastAt ? ((eventsIn - this.lastIn) * 1000) / (now - this.lastAt) : 0;
    this.lastIn = eventsIn;
    this.lastAt = now;
    return {
      app: this.current.app, version: this.current.version, state: 'running', channels, inbound, eventsIn,
      eventsPerSecond: Math.round(rate * 10) / 10, deadLetters,
      ...(this.o.role === 'cloud' ? { partitions: [...this.lanes.keys()].sort((a, b) => a - b) } : {}),
    };
  }

  /** A gateway's last-will arrived: its channels stop waiting for it. */
  markOffline(producer: string): void {
    for (const lane of this.lanes.values()) lane.channels.markOffline(producer);
  }

  /** Stops reading, closes the channels (outboxes keep what is not acked) and the sink files. */
  async stop(): Promise<void> {
    this.sources.close();
    for (const lane of [...this.lanes.values()]) await this.stopLane(lane);
    this.lanes.clear();
    await Promise.all(this.streams.map((s) => new Promise<void>((resolve) => { if (s.closed) resolve(); else s.end(() => resolve()); })));
  }
}

/** The lanes a node runs: a gateway one (partition 0 stands for the whole edge part), a worker those it owns. */
function lanesOf(role: NodeRole, d: DesiredApp): readonly number[] {
  if (role === 'edge') return [0];
  return d.owned ?? Array.from({ length: d.partitions ?? 1 }, (_, k) => k);
}

function eventsInOf(operators: readonly { kind: string; in: number }[]): number {
  let n = 0;
  for (const op of operators) if (op.kind === 'source') n += op.in;
  return n;
}

/** A failed app's status, with the reason in one line. */
export function failedStatus(d: DesiredApp, err: unknown): AppStatus {
  return { app: d.app, version: d.version, state: 'failed', error: describeError(err) };
}
