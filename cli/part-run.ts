import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Graph } from '../shared/graph/index.ts';
import { bindPartChannels, connectWithBackoff, describeOrphan, disconnect } from '../shared/link/index.ts';
import type { Part } from '../shared/planner/index.ts';
import type { LogOptions } from '../shared/store/index.ts';
import { splitGraph, startRun, type MetricsSnapshot, type SinkBinding, type SourceBinding } from '../shared/runtime/index.ts';
import type { Io } from './io.ts';
import { statusPrinter } from './status.ts';

export interface PartRunOptions {
  readonly part: Part;
  readonly broker: string;
  readonly producer: string | undefined;
  readonly stateDir: string | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly expect: readonly string[] | undefined;
  readonly protocolVersion: 4 | 5;
  readonly drainRate: number | undefined;
  readonly outbox: LogOptions;
  readonly quiet: boolean;
  readonly sources: Record<string, SourceBinding>;
  readonly sinks: Record<string, SinkBinding>;
}

/**
 * Runs one part of an app (its edge or its cloud operators, by the planner's rules), linked
 * to the other part over MQTT channels. A development mode: the fleet does this by itself.
 */
export async function runPart(graph: Graph, o: PartRunOptions, io: Io): Promise<MetricsSnapshot> {
  const part = splitGraph(graph, o.part);
  const producer = o.producer ?? `${hostname()}-${o.part}`;
  const stateDir = o.stateDir ?? join('.sluice-state', graph.app, o.part);
  const client = connectWithBackoff(o.broker, {
    clientId: `sluice-${graph.app}-${o.part}-${producer}`.slice(0, 100),
    protocolVersion: o.protocolVersion,
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    onState: (s) => io.stderr.write(s.type === 'connected'
      ? `sluice: connected to ${o.broker}\n`
      : `sluice: link down (${s.reason}); retrying in ${s.retryInMs} ms\n`),
  });
  const channels = await bindPartChannels(part, {
    client, producer, stateDir, outbox: o.outbox,
    ...(o.expect ? { expectProducers: o.expect } : {}),
    ...(o.drainRate !== undefined ? { maxEventsPerSecond: o.drainRate } : {}),
    // Files can be read again from a record: positions in the outbox let a restart resume there.
    replayableInputs: Object.values(o.sources).every((b) => b.type === 'file'),
  });
  try {
    for (const orphan of channels.orphans) io.stderr.write(`sluice: ${describeOrphan(orphan)}\n`);
    if (channels.noResumeReason && part.outbound.length > 0) io.stderr.write(`sluice: after a crash this part re-reads its input: ${channels.noResumeReason}\n`);
    const { skipped, again } = channels.torn;
    if (skipped + again > 0) {
      io.stderr.write(`sluice: the last run stopped inside a write: ${skipped + again} event(s) of a batch are in the outbox without its position; ${again === 0 ? 'read again, they are skipped' : `${again} will be sent twice (the part has several inputs or outboxes)`}\n`);
    }
    const run = startRun(part.graph, {
      sources: { ...o.sources, ...channels.sources },
      sinks: { ...o.sinks, ...channels.sinks },
      resumeAfter: channels.resumeAfter,
      ...(channels.onSourceProgress ? { onSourceProgress: channels.onSourceProgress } : {}),
      onStatus: statusPrinter(io, o.quiet),
    });
    channels.setFlush(() => run.flushed());
    if (channels.acksOnDelivery) io.stderr.write(`sluice: inbound events are acked on delivery, so a crash of this part loses open state: ${channels.acksOnDelivery}\n`);
    // Stopping also closes the channels: a final drain waiting for acks from a cloud that is gone
    // would otherwise hold the process (the outbox keeps what is unacked for the next run).
    const onSigint = () => { void run.stop(); void channels.close(); };
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigint);
    try {
      const { metrics } = await run.done;
      const st = channels.stats();
      for (const [name, s] of Object.entries(st.outbound)) io.stderr.write(`  channel ${name} out: ${s.appended} appended, ${s.eventsSent} sent, ${s.eventsResent} resent, ${s.droppedUnsent} dropped by the outbox bound, ${s.droppedClosed} pushed after it closed, ${s.droppedTooLarge} too large to store${s.lastTooLarge ? ` (${s.lastTooLarge})` : ''}, acked to seq ${s.ackedSeq}, backlog ${s.backlog}\n`);
      for (const [name, s] of Object.entries(st.inbound)) io.stderr.write(`  channel ${name} in: ${s.events} events, ${s.duplicates} duplicates dropped, ${s.rejectedFrames} bad frames, ${s.upstreamDropped} dropped upstream\n`);
      return metrics;
    } finally {
      process.removeListener('SIGINT', onSigint);
      process.removeListener('SIGTERM', onSigint);
    }
  } finally {
    await channels.close();
    await disconnect(client);
  }
}
