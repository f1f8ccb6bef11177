import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineApp } from '../../shared/dsl/index.ts';
import { bindPartChannels } from '../../shared/link/index.ts';
import { splitGraph, startRun } from '../../shared/runtime/index.ts';
import { channelAckTopic, channelDataTopic, decodeFrame, encodeFrame, type FrameEvent } from '../../shared/wire/index.ts';
import { linkRig } from '../support/link-rig.ts';

const rig = linkRig('lane-stop');

/** Holds the part's flush (a sink whose writes are slow to land) until the test lets it go. */
function heldFlush(flush: () => Promise<void>) {
  let release = () => {};
  let held: Promise<void> | undefined = new Promise<void>((resolve) => { release = resolve; });
  let begun = () => {};
  const flushBegun = new Promise<void>((resolve) => { begun = resolve; });
  return {
    flush: () => { if (!held) return flush(); begun(); return held.then(flush); },
    flushBegun,
    release: () => { held = undefined; release(); },
  };
}

const events = (from: number, to: number): FrameEvent[] => Array.from({ length: to - from + 1 }, (_, i) => ({ ts: from + i, value: { n: from + i } }));

describe('a cloud lane stopped while frames still arrive (a redeploy, a partition moving away)', () => {
  // The run stops first and drops what it is given from then on; the channels used to keep
  // delivering until their last acks were out, and the ack gate acked what the run had dropped.
  it('acks only what its run wrote: a frame that comes during the stop stays with its producer', async () => {
    const app = defineApp('lane-stop', (a) => {
      a.source<{ n: number }>('readings', { format: 'json', eventTime: 'n' }).map((r) => r).place('cloud').sink('out');
    });
    const part = splitGraph(app.graph({}), 'cloud');
    const cut = part.inbound[0]!;
    const producer = 'gw-s';
    const client = await rig.connect('lane-stop-cloud');
    const edge = await rig.connect('lane-stop-edge');
    const ackTopic = channelAckTopic('lane-stop', cut.name, 0, producer);
    const dataTopic = channelDataTopic('lane-stop', cut.name, 0);
    const acked: number[] = [];
    let marker = () => {};
    const markerSeen = new Promise<void>((resolve) => { marker = resolve; });
    edge.on('message', (_t, payload) => {
      if (payload.toString() === 'end') { marker(); return; }
      const r = decodeFrame(payload);
      if (r.ok && r.frame.type === 'ack') acked.push(r.frame.ackedSeq);
    });
    await edge.subscribeAsync(ackTopic, { qos: 1 });

    const written: number[] = [];
    let wroteTen = () => {};
    const tenWritten = new Promise<void>((resolve) => { wroteTen = resolve; });
    const channels = await bindPartChannels(part, { client, producer: 'cloud-0', stateDir: join(rig.dir, 'cloud'), expectProducers: [producer] });
    const subscribed = new Promise<void>((resolve) => {
      rig.broker.broker.on('subscribe', (subs) => { if (subs.some((s) => s.topic === dataTopic)) resolve(); });
    });
    const run = startRun(part.graph, {
      sources: channels.sources,
      sinks: {
        ...channels.sinks,
        out: { type: 'target', target: { write: (_ts, _k, v) => { written.push((v as { n: number }).n); if (written.length === 10) wroteTen(); }, watermark: () => {}, end: () => Promise.resolve() } },
      },
    });
    const held = heldFlush(() => run.flushed());
    channels.setFlush(held.flush);
    await subscribed;

    const frame = (first: number, last: number) => Buffer.from(encodeFrame({ type: 'data', producer, epoch: 0, firstSeq: first, lastSeq: last, watermark: last, events: events(first, last), baseSeq: first - 1 }));
    // Frame A is written; its ack waits for the sink's flush, which is slow.
    edge.publish(dataTopic, frame(1, 10), { qos: 1 });
    await tenWritten;
    await held.flushBegun;

    // The lane stops (as AppRunner.stopLane does), and frame B comes while its last acks wait.
    const finished = run.stop();
    const closing = channels.close();
    const bSeen = new Promise<void>((resolve) => client.on('message', (topic) => { if (topic === dataTopic) resolve(); }));
    edge.publish(dataTopic, frame(11, 20), { qos: 1 });
    await bSeen;
    held.release();
    await closing;
    await finished;

    // Every ack the lane sent is on the broker before this marker, from the same client.
    await client.publishAsync(ackTopic, 'end', { qos: 1 });
    await markerSeen;
    expect(written).toEqual(events(1, 10).map((e) => e.ts));
    expect(Math.max(...acked)).toBe(10);
  });
});
