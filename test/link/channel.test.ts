import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChannelReceiver, createChannelSender } from '../../shared/link/index.ts';
import { Encoder } from 'cbor-x';
import { createManualClock } from '../../shared/clock.ts';
import { createMemoryLog, openDiskLog } from '../../shared/store/index.ts';
import type { FrameEvent } from '../../shared/wire/index.ts';
import { startAedes, type AedesTestBroker } from '../support/brokers.ts';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';

/** An outbox record as the sender writes one: CBOR [ts, key, value]. */
const cborEvents = new Encoder({ useRecords: false });
const encodeEvent = (i: number) => cborEvents.encode([i, undefined, i]);

let broker: AedesTestBroker;
let dir: string;
const cleanup: (() => Promise<void> | void)[] = [];
beforeAll(async () => {
  broker = await startAedes();
  dir = mkdtempSync(join(tmpdir(), 'sluice-link-'));
});
afterEach(async () => { for (const f of cleanup.splice(0).reverse()) await f(); });
afterAll(async () => {
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

async function connect(url: string, id: string): Promise<MqttClient> {
  const c = mqtt.connect(url, { clientId: id, reconnectPeriod: 50, connectTimeout: 2000, keepalive: 5 });
  cleanup.push(() => { c.end(true); });
  await new Promise<void>((resolve) => c.once('connect', () => resolve()));
  return c;
}

/** A receiver that records every delivered event and the newest watermark. */
async function receiver(app: string, client: MqttClient, expect?: string[]) {
  const got: { producer: string; e: FrameEvent }[] = [];
  const marks: number[] = [];
  let behindWatermark = 0;
  const rx = createChannelReceiver({
    client, app, channel: 'readings',
    onEvents: (producer, events) => {
      for (const e of events) {
        if (marks.length > 0 && e.ts < marks.at(-1)!) behindWatermark++;
        got.push({ producer, e });
      }
    },
    onWatermark: (wm) => marks.push(wm),
    idleMs: 60_000,
    ...(expect ? { expect } : {}),
  });
  await rx.start();
  cleanup.push(() => rx.close());
  return { rx, got, marks, behind: () => behindWatermark };
}

describe('a channel over MQTT with a disk outbox and end-to-end acks', () => {
  it('delivers every event exactly once, in order, through resets and a blackhole; the outbox trims on ack', async () => {
    const proxy: FaultProxy = await createFaultProxy({ target: { host: '127.0.0.1', port: broker.port }, seed: 7 });
    cleanup.push(() => proxy.close());
    const rxClient = await connect(broker.url, 'rx-1');
    const { rx, got, marks, behind } = await receiver('exact', rxClient);
    const txClient = await connect(proxy.url, 'tx-1');
    const log = await openDiskLog(join(dir, 'outbox-1'), { groupCommitMs: 5 });
    cleanup.push(() => log.close());
    const tx = createChannelSender({ client: txClient, app: 'exact', channel: 'readings', producer: 'gw-1', log, maxEventsPerFrame: 200, ackTimeoutMs: 500 });
    cleanup.push(() => tx.close());

    const n = 20_000;
    for (let i = 0; i < n; i++) {
      tx.push(i, `k${i % 10}`, { i });
      if (i % 1000 === 999) {
        tx.watermark(i - 100);
        await tx.flushed();
        if (i % 5000 === 4999) proxy.reset();
        // A blackhole from 10,000 to 12,000: frames sent meanwhile are held, not delivered.
        if (i === 9999) proxy.blackhole(true);
        if (i === 11_999) {
          await proxy.waitFor((st) => st.up.held > 0);
          proxy.blackhole(false);
        }
      }
    }
    tx.watermark(Infinity);
    await tx.drained();
    expect(got.map((g) => g.e.ts)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(got.every((g) => g.producer === 'gw-1')).toBe(true);
    expect(marks.at(-1)).toBe(Infinity);
    // A frame carries only the watermark of events appended before it, so none arrives late.
    expect(behind()).toBe(0);
    expect(log.stats().records).toBe(0);
    expect(log.stats().ackedSeq).toBe(n);
    expect(tx.stats().ackedSeq).toBe(n);
    expect(proxy.stats().resets).toBeGreaterThan(0);
    expect(rx.stats().rejectedFrames).toBe(0);
  });

  it('applies every ack to the outbox at once, while the outbox cursor waits for its turn to be written', async () => {
    const rxClient = await connect(broker.url, 'rx-trim');
    await receiver('trim', rxClient);
    const txClient = await connect(broker.url, 'tx-trim');
    // A cursor written at most once a minute: only the first ack's write happens in this test.
    const disk = await openDiskLog(join(dir, 'outbox-trim'), { groupCommitMs: 1, cursorIntervalMs: 60_000 });
    cleanup.push(() => disk.close());
    let onTrim: (seq: number) => void = () => {};
    const log = new Proxy(disk, {
      get(target, key) {
        if (key === 'ack') return (seq: number) => { onTrim(seq); return target.ack(seq); };
        const v: unknown = Reflect.get(target, key, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const tx = createChannelSender({ client: txClient, app: 'trim', channel: 'readings', producer: 'gw-t', log, maxEventsPerFrame: 100 });
    cleanup.push(() => tx.close());
    for (let upTo = 100; upTo <= 300; upTo += 100) {
      const trimmed = new Promise<void>((resolve) => { onTrim = (seq) => { if (seq >= upTo) resolve(); }; });
      for (let i = upTo - 100; i < upTo; i++) tx.push(i, undefined, { i });
      await trimmed; // never, for the third batch, if trims queued behind the cursor's writes
      expect(disk.stats().ackedSeq).toBe(upTo);
    }
  });

  it('a producer whose outbox was made anew (a wiped or replaced gateway) numbers from 1 again: its events are delivered, not taken for ones the receiver has', async () => {
    const { rx, got } = await receiver('anew', await connect(broker.url, 'rx-anew'));
    const txClient = await connect(broker.url, 'tx-anew');
    const send = async (outbox: string, from: number, n: number) => {
      const log = await openDiskLog(join(dir, outbox));
      const tx = createChannelSender({ client: txClient, app: 'anew', channel: 'readings', producer: 'gw-a', log });
      for (let i = from; i < from + n; i++) tx.push(i, undefined, i);
      await tx.drained();
      await tx.close();
      await log.close();
      return log.epoch;
    };
    const first = await send('outbox-anew-1', 0, 100);
    const second = await send('outbox-anew-2', 1000, 60);
    expect(second).toBeGreaterThan(first);
    const values = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
    expect(got.map((g) => g.e.value)).toEqual([...values(0, 100), ...values(1000, 60)]);
    expect(rx.stats()).toMatchObject({ epochChanges: 1, duplicates: 0 });
  });

  it('counts what is pushed after close() and stores none of it; what was pushed in the tick before goes to the outbox', async () => {
    const txClient = await connect(broker.url, 'tx-closed');
    const log = createMemoryLog();
    const tx = createChannelSender({ client: txClient, app: 'closed', channel: 'readings', producer: 'gw-c', log });
    tx.push(1, undefined, { i: 1 });
    await tx.close();
    tx.push(2, undefined, { i: 2 });
    tx.push(3, undefined, { i: 3 });
    await tx.flushed();
    expect(log.stats().durableSeq).toBe(1);
    expect(tx.stats().droppedClosed).toBe(2);
  });

  it('a watermark that moves with no new events still reaches the receiver, and drained() waits for it', async () => {
    const client = await connect(broker.url, 'rx-5');
    const { marks } = await receiver('end', client);
    const tx = createChannelSender({ client, app: 'end', channel: 'readings', producer: 'gw-5', log: createMemoryLog() });
    cleanup.push(() => tx.close());
    tx.push(10, undefined, 'only');
    await tx.drained();
    // Every event is acked already; the end of input travels alone.
    tx.watermark(Infinity);
    await tx.drained();
    expect(marks.at(-1)).toBe(Infinity);
  });

  it('a backlog drains no faster than the rate cap allows', async () => {
    const clock = createManualClock(0);
    const client = await connect(broker.url, 'rx-6');
    let got = 0;
    let onGot = () => {};
    const rx = createChannelReceiver({ client, app: 'rate', channel: 'readings', onEvents: (_p, evs) => { got += evs.length; onGot(); }, onWatermark: () => {} });
    await rx.start();
    cleanup.push(() => rx.close());
    const log = createMemoryLog();
    for (let i = 0; i < 3000; i++) await log.append(new Uint8Array(encodeEvent(i)));
    const gotAtLeast = (n: number) => new Promise<void>((resolve) => { onGot = () => { if (got >= n) resolve(); }; onGot(); });
    // 1,000 events/s with frames of at most 500: the bucket holds one frame's worth.
    const tx = createChannelSender({ client, app: 'rate', channel: 'readings', producer: 'gw-6', log, clock, maxEventsPerSecond: 1000, maxEventsPerFrame: 500 });
    cleanup.push(() => tx.close());
    await gotAtLeast(500);
    for (let step = 1; step <= 5; step++) {
      // Whatever arrived never exceeds what the clock has allowed so far.
      expect(tx.stats().eventsSent).toBeLessThanOrEqual(500 + (step - 1) * 500);
      clock.advance(500);
      await gotAtLeast(500 + step * 500);
    }
    expect(got).toBe(3000);
  });

  it('a malformed frame is counted and dropped; the channel goes on', async () => {
    const client = await connect(broker.url, 'rx-2');
    const { rx, got } = await receiver('bad', client);
    await client.publishAsync('sluice/v1/bad/ch/readings/0/data', Buffer.from('not cbor at all'), { qos: 1 });
    const log = createMemoryLog();
    const tx = createChannelSender({ client, app: 'bad', channel: 'readings', producer: 'gw-2', log });
    cleanup.push(() => tx.close());
    tx.push(1, undefined, 'after');
    await tx.drained();
    expect(got.map((g) => g.e.value)).toEqual(['after']);
    expect(rx.stats().rejectedFrames).toBe(1);
    expect(rx.stats().lastRejection).toMatch(/CBOR|map/);
  });

  it('the watermark is the minimum over live producers; one gone offline stops holding it back', async () => {
    const client = await connect(broker.url, 'rx-3');
    const { rx, marks } = await receiver('wm', client, ['a', 'b']);
    const a = createChannelSender({ client, app: 'wm', channel: 'readings', producer: 'a', log: createMemoryLog() });
    const b = createChannelSender({ client, app: 'wm', channel: 'readings', producer: 'b', log: createMemoryLog() });
    cleanup.push(() => a.close(), () => b.close());
    a.push(100, undefined, 1); a.watermark(100);
    b.push(50, undefined, 2); b.watermark(50);
    await Promise.all([a.drained(), b.drained()]);
    expect(marks.at(-1)).toBe(50);
    a.push(300, undefined, 3); a.watermark(300);
    await a.drained();
    expect(marks.at(-1)).toBe(50);
    rx.markOffline('b');
    expect(marks.at(-1)).toBe(300);
  });

  it('drop-oldest during an outage: sent = delivered + declared drops, exactly', async () => {
    const client = await connect(broker.url, 'rx-4');
    const { rx, got } = await receiver('drop', client);
    const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: broker.port } });
    cleanup.push(() => proxy.close());
    const txClient = await connect(proxy.url, 'tx-4');
    // An outage: the link drops and reconnects are refused until it is restored.
    const offline = new Promise<void>((resolve) => txClient.once('offline', () => resolve()));
    proxy.refuse(true);
    proxy.reset();
    await offline;
    const log = createMemoryLog({ maxBytes: 20_000, overflow: 'drop-oldest' });
    const tx = createChannelSender({ client: txClient, app: 'drop', channel: 'readings', producer: 'gw-4', log });
    cleanup.push(() => tx.close());
    const n = 2000;
    for (let i = 0; i < n; i++) {
      tx.push(i, undefined, { i, pad: 'x'.repeat(40) });
      if (i % 100 === 99) await tx.flushed();
    }
    const evicted = log.stats().evicted.size;
    expect(evicted).toBeGreaterThan(0);
    proxy.refuse(false);
    await tx.drained();
    expect(got.length + evicted).toBe(n);
    expect(rx.stats().upstreamDropped).toBe(evicted);
    // What arrived is the newest events, in order.
    expect(got.map((g) => g.e.ts)).toEqual(Array.from({ length: got.length }, (_, i) => n - got.length + i));
  });
});
