import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { describeError } from '../errors.ts';
import type { Graph } from '../graph/index.ts';
import { bindPartChannels, type PartChannels } from '../link/index.ts';
import type { StatusEvent } from '../ops/index.ts';
import { DEAD_LETTER, loadArtifact, splitGraph, startRun, type Run, type SinkBinding, type SourceBinding } from '../runtime/index.ts';
import type { LogOptions } from '../store/index.ts';
import type { AppStatus, DesiredApp, NodeRole } from '../wire/index.ts';

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
}

/** The file a sink of an app writes on a node: `<stateDir>/sinks/<sink>.jsonl`, appended. */
export function sinkFile(stateDir: string, sink: string): string {
  return join(stateDir, 'sinks', `${sink.replace(/[^A-Za-z0-9_.-]/g, '_')}.jsonl`);
}

/**
 * One app's part running on one node: the edge part on a gateway (over its own devices), the
 * cloud part on a worker. Loads the verified artifact, cuts the graph at the placement, links
 * the cut edges to channels over the uplink, and appends every sink's results (and the dead
 * letters) to files under the app's state directory, so a restart adds to them.
 *
 * @example
 * const runner = await AppRunner.start({ desired, role: 'edge', nodeId: 'gw-1', client, stateDir, artifactPath });
 * runner.status(); await runner.stop();
 */
export class AppRunner {
  private lastIn = 0;
  private lastAt = performance.now();
  private constructor(
    readonly desired: DesiredApp,
    private readonly run: Run,
    private readonly channels: PartChannels,
    private readonly sources: BoundSources,
    private readonly streams: WriteStream[],
  ) {}

  static async start(o: AppRunnerOptions): Promise<AppRunner> {
    const def = await loadArtifact(o.artifactPath, o.desired.hash);
    const graph = def.graph({ ...o.desired.params });
    const part = splitGraph(graph, o.role);
    const sources = o.bindSources?.(part.graph, o.desired.app) ?? { bindings: {}, close: () => {} };
    const streams: WriteStream[] = [];
    let channels: PartChannels | undefined;
    try {
      channels = await bindPartChannels(part, {
        client: o.client, producer: o.nodeId, stateDir: o.stateDir,
        ...(o.outbox ? { outbox: o.outbox } : {}),
        ...(o.role === 'cloud' && o.desired.producers.length > 0 ? { expectProducers: o.desired.producers } : {}),
      });
      mkdirSync(join(o.stateDir, 'sinks'), { recursive: true });
      const append = (path: string): SinkBinding => {
        const stream = createWriteStream(path, { flags: 'a' });
        streams.push(stream);
        return { type: 'stream', stream };
      };
      const sinks: Record<string, SinkBinding> = { [DEAD_LETTER]: append(join(o.stateDir, 'dead-letter.jsonl')) };
      for (const op of part.graph.operators) {
        if (op.config.kind === 'sink' && !(op.name in channels.sinks)) sinks[op.name] = append(sinkFile(o.stateDir, op.name));
      }
      const run = startRun(part.graph, {
        sources: { ...sources.bindings, ...channels.sources },
        sinks: { ...sinks, ...channels.sinks },
        onStatus: (e) => o.onStatus?.(o.desired.app, e),
      });
      channels.setFlush(() => run.flushed());
      return new AppRunner(o.desired, run, channels, sources, streams);
    } catch (err) {
      sources.close();
      await channels?.close();
      for (const s of streams) s.end();
      throw err;
    }
  }

  status(): AppStatus {
    const st = this.channels.stats();
    const m = this.run.metrics();
    const channels: Record<string, { backlog: number; undelivered: number; sent: number; acked: number; dropped: number }> = {};
    for (const [name, s] of Object.entries(st.outbound)) channels[name] = { backlog: s.backlog, undelivered: s.undelivered, sent: s.eventsSent, acked: s.ackedSeq, dropped: s.droppedUnsent };
    const inbound: Record<string, NonNullable<AppStatus['inbound']>[string]> = {};
    for (const [name, r] of Object.entries(st.inbound)) {
      inbound[name] = { events: r.events, duplicates: r.duplicates, rejected: r.rejectedFrames, resendRequests: r.resendRequests, fenced: r.fencedFrames, ...(r.lastRejection ? { lastRejection: r.lastRejection } : {}) };
    }
    let eventsIn = 0;
    for (const op of m.operators) if (op.kind === 'source') eventsIn += op.in;
    const now = performance.now();
    const rate = now > this.lastAt ? ((eventsIn - this.lastIn) * 1000) / (now - this.lastAt) : 0;
    this.lastIn = eventsIn;
    this.lastAt = now;
    return { app: this.desired.app, version: this.desired.version, state: 'running', channels, inbound, eventsIn, eventsPerSecond: Math.round(rate * 10) / 10, deadLetters: m.deadLetters };
  }

  /** A gateway's last-will arrived: its channels stop waiting for it. */
  markOffline(producer: string): void {
    this.channels.markOffline(producer);
  }

  /** Stops reading, closes the channels (outboxes keep what is not acked) and the sink files. */
  async stop(): Promise<void> {
    this.sources.close();
    const finished = this.run.stop();
    await this.channels.close();
    await finished.catch(() => {});
    await Promise.all(this.streams.map((s) => new Promise<void>((resolve) => { if (s.closed) resolve(); else s.end(() => resolve()); })));
  }
}

/** A failed app's status, with the reason in one line. */
export function failedStatus(d: DesiredApp, err: unknown): AppStatus {
  return { app: d.app, version: d.version, state: 'failed', error: describeError(err) };
}
