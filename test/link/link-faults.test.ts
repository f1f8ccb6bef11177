import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithBackoff, createChannelReceiver, disconnect } from '../../shared/link/index.ts';
import { channelAckTopic, channelDataTopic, decodeFrame, encodeFrame, type DataFrame, type Frame } from '../../shared/wire/index.ts';
import { startAedes, type AedesTestBroker } from '../support/brokers.ts';
import { createFaultProxy } from '../support/fault-proxy.ts';

let broker: AedesTestBroker;
beforeAll(async () => { broker = await startAedes(); });
afterAll(async () => { await broker.close(); });

describe('connections', () => {
  it('keepalive finds a silent, blackholed link; the client reconnects once it heals', async () => {
    const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: broker.port } });
    const states: string[] = [];
    let onChange = () => {};
    const client = connectWithBackoff(proxy.url, {
      clientId: 'keepalive-1', keepaliveSeconds: 1,
      onState: (s) => { states.push(s.type); onChange(); },
    });
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    try {
      const next = (type: string) => new Promise<void>((resolve) => {
        const seen = states.length;
        onChange = () => { if (states.slice(seen).includes(type)) resolve(); };
      });
      const down = next('disconnected');
      proxy.blackhole(true);
      await down;
      const up = next('connected');
      proxy.heal();
      await up;
      expect(states).toEqual(['connected', 'disconnected', 'connected']);
    } finally {
      await disconnect(client);
      await proxy.close();
    }
  });
});

describe('a receiver facing gaps, duplicates and stale epochs', () => {
  const frame = (first: number, last: number, over: Partial<DataFrame> = {}): DataFrame => ({
    type: 'data', producer: 'p', epoch: 1, firstSeq: first, lastSeq: last, watermark: last,
    events: Array.from({ length: last - first + 1 }, (_, i) => ({ ts: first + i, key: undefined, value: first + i })), ...over,
  });

  /**
   * A receiver of channel `c` of `app` and a producer 'p' on a client of its own: what the
   * receiver delivers, the control frames it sends back, and a wait for one matching `pred`.
   */
  async function receiverRig(app: string, durable?: (producer: string, seq: number, ack: () => void) => void) {
    const client = await mqtt.connectAsync(broker.url, { clientId: `${app}-rx` });
    const producer = await mqtt.connectAsync(broker.url, { clientId: `${app}-tx` });
    const delivered: number[] = [];
    const control: Frame[] = [];
    let onControl = () => {};
    await producer.subscribeAsync(channelAckTopic(app, 'c', 0, 'p'), { qos: 1 });
    producer.on('message', (_t, payload) => {
      const r = decodeFrame(payload);
      if (r.ok) { control.push(r.frame); onControl(); }
    });
    const rx = createChannelReceiver({
      client, app, channel: 'c', ...(durable ? { durable } : {}),
      onEvents: (_p, events) => { for (const e of events) delivered.push(e.value as number); },
      onWatermark: () => {},
    });
    await rx.start();
    return {
      rx, delivered, control,
      send: (f: DataFrame) => producer.publishAsync(channelDataTopic(app, 'c', 0), Buffer.from(encodeFrame(f)), { qos: 1 }),
      controlMatching: (pred: (f: Frame) => boolean) => new Promise<Frame>((resolve) => {
        const check = () => { const f = control.find(pred); if (f) resolve(f); };
        onControl = check;
        check();
      }),
      async close() {
        rx.close();
        await client.endAsync();
        await producer.endAsync();
      },
    };
  }

  it('holds frames after a gap, asks for the missing seqs, then delivers everything once and in order', async () => {
    const { rx, delivered, control, send, controlMatching, close } = await receiverRig('gaps');
    try {
      await send(frame(1, 3));
      await controlMatching((f) => f.type === 'ack' && f.ackedSeq === 3);
      await send(frame(7, 9));
      const resend = await controlMatching((f) => f.type === 'resend');
      expect(resend).toMatchObject({ type: 'resend', producer: 'p', epoch: 1, fromSeq: 4, toSeq: 6 });
      await send(frame(4, 6));
      await controlMatching((f) => f.type === 'ack' && f.ackedSeq === 9);
      expect(delivered).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // A stale epoch, then a resent frame: neither delivers anything again. MQTT keeps their
      // order, so the re-ack the duplicate causes also means the stale frame was handled.
      await send(frame(10, 10, { epoch: 0 }));
      await send(frame(2, 5));
      const acksOf9 = control.filter((c) => c.type === 'ack' && c.ackedSeq === 9).length;
      await controlMatching(() => control.filter((c) => c.type === 'ack' && c.ackedSeq === 9).length > acksOf9);
      expect(delivered).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(rx.stats()).toMatchObject({ duplicates: 4, fencedFrames: 1, resendRequests: 1, events: 9 });
      // Gone quiet (its last-will, say), the producer comes back under a lower epoch (its outbox
      // made anew on a clock set back): it starts over from its base, not fenced for good.
      rx.markOffline('p');
      await send(frame(1, 2, { epoch: 0, baseSeq: 0 }));
      await controlMatching((f) => f.type === 'ack' && f.epoch === 0 && f.ackedSeq === 2);
      expect(delivered).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2]);
      expect(rx.stats()).toMatchObject({ fencedFrames: 1, epochChanges: 1 });
    } finally {
      await close();
    }
  });

  it('a stale frame of an older epoch, taken once the producer went quiet, does not make the newer epoch deliver again', async () => {
    // Results never durable here (windows still open, say): what is delivered runs ahead of the acks.
    const { rx, delivered, send, controlMatching, close } = await receiverRig('flip', () => {});
    const received = (epoch: number, seq: number) => controlMatching((c) => c.type === 'ack' && c.epoch === epoch && c.receivedSeq === seq);
    try {
      await send(frame(1, 5, { epoch: 2, baseSeq: 0 }));
      await received(2, 5);
      rx.markOffline('p');
      await send(frame(1, 2, { epoch: 1, baseSeq: 0 })); // a stale frame of its older outbox
      await received(1, 2);
      await send(frame(6, 7, { epoch: 2, baseSeq: 0 })); // the producer as it is: nothing acked yet
      await received(2, 7);
      expect(delivered).toEqual([1, 2, 3, 4, 5, 1, 2, 6, 7]);
      expect(rx.stats()).toMatchObject({ resendRequests: 0, duplicates: 0 });
    } finally {
      await close();
    }
  });
});
