import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createChannelSender } from '../../shared/link/index.ts';
import { openDiskLog, type OutboxLog } from '../../shared/store/index.ts';
import { channelAckTopic, channelDataTopic, decodeFrame, encodeFrame, type Frame } from '../../shared/wire/index.ts';
import { linkRig } from '../support/link-rig.ts';

const rig = linkRig('read-rewind');

/** Lets the test hold the outbox's reads, as a slow disk would, and see when one has begun. */
function holdReads(log: OutboxLog) {
  const read = log.readWith.bind(log);
  let gate: Promise<void> | undefined;
  let open = () => {};
  let begun = () => {};
  log.readWith = (from, n, bytes, use) => {
    if (!gate) return read(from, n, bytes, use);
    begun();
    return gate.then(() => read(from, n, bytes, use));
  };
  return {
    /** Holds the next reads; resolves once one of them has begun. */
    hold: () => {
      gate = new Promise<void>((resolve) => { open = resolve; });
      return new Promise<void>((resolve) => { begun = resolve; });
    },
    release: () => { gate = undefined; open(); },
  };
}

describe('a sender whose position moves back while a backlog read is in flight', () => {
  // A resend request (or a reconnect) that came while the outbox read the next frame from disk
  // made that frame say the seqs between the new position and what it read were dropped by the
  // outbox: the receiver skipped them as declared drops (the redeploy suite lost 24 readings
  // that way, the torn-batch suite 4,000 events).
  it('reads again from where it was sent back: no frame claims the records between were dropped', async () => {
    const app = 'rewind';
    const producer = 'gw-r';
    const client = await rig.connect('rewind-sender');
    const peer = await rig.connect('rewind-peer');
    const frames: Frame[] = [];
    const waiters: { n: number; resolve: () => void }[] = [];
    peer.on('message', (_t, payload) => {
      const r = decodeFrame(payload);
      if (!r.ok) throw new Error(r.reason);
      frames.push(r.frame);
      for (const w of waiters.splice(0)) if (frames.length >= w.n) w.resolve(); else waiters.push(w);
    });
    const framesSeen = (n: number) => new Promise<void>((resolve) => { if (frames.length >= n) resolve(); else waiters.push({ n, resolve }); });
    await peer.subscribeAsync(channelDataTopic(app, 'readings', 0), { qos: 1 });

    const log = await openDiskLog(join(rig.dir, 'outbox'));
    const reads = holdReads(log);
    const ackTopic = channelAckTopic(app, 'readings', 0, producer);
    const sender = createChannelSender({ client, app, channel: 'readings', producer, log, maxInflightFrames: 2, maxEventsPerFrame: 500, ackTimeoutMs: 60_000, heartbeatMs: 60_000 });
    // Subscribed (the SUBACK is in) before any control frame is published to it.
    await client.subscribeAsync(ackTopic, { qos: 1 });
    // The sender's own listener runs before this one: a control frame seen here has been applied.
    const applied: Frame[] = [];
    const controlApplied = (n: number) => new Promise<void>((resolve) => {
      const check = () => { if (applied.length >= n) { client.removeListener('message', check); resolve(); return true; } return false; };
      if (!check()) client.on('message', check);
    });
    client.on('message', (topic, payload) => { if (topic === ackTopic) { const r = decodeFrame(payload); if (r.ok) applied.push(r.frame); } });

    for (let i = 0; i < 3000; i++) sender.push(i, undefined, i);
    await sender.flushed();
    await framesSeen(2); // seqs 1-500 and 501-1000: the in-flight window is full
    expect(frames.map((f) => f.type === 'data' && [f.firstSeq, f.lastSeq])).toEqual([[1, 500], [501, 1000]]);

    // The receiver has both frames: the sender reads the next one, and that read is slow.
    const begun = reads.hold();
    peer.publish(ackTopic, Buffer.from(encodeFrame({ type: 'ack', producer, epoch: log.epoch, ackedSeq: 0, receivedSeq: 1000 })), { qos: 1 });
    await begun;
    // Meanwhile it asks for everything again (its state was lost, say).
    peer.publish(ackTopic, Buffer.from(encodeFrame({ type: 'resend', producer, epoch: log.epoch, fromSeq: 1, toSeq: 1000 })), { qos: 1 });
    await controlApplied(2);
    reads.release();

    await framesSeen(3);
    const next = frames[2]!;
    expect(next.type).toBe('data');
    if (next.type !== 'data') return;
    expect({ firstSeq: next.firstSeq, dropped: next.dropped ?? 0 }).toEqual({ firstSeq: 1, dropped: 0 });
    expect(sender.stats().droppedUnsent).toBe(0);
    await sender.close();
    await log.close();
  });
});
