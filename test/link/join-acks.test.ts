import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineApp, tumbling } from '../../shared/dsl/index.ts';
import { bindPartChannels } from '../../shared/link/index.ts';
import { splitGraph, startRun } from '../../shared/runtime/index.ts';
import { channelAckTopic, channelDataTopic, decodeFrame, encodeFrame } from '../../shared/wire/index.ts';
import { startAedes, type AedesTestBroker } from '../support/brokers.ts';

let broker: AedesTestBroker;
let dir: string;
const clients: MqttClient[] = [];
beforeAll(async () => {
  broker = await startAedes();
  dir = mkdtempSync(join(tmpdir(), 'sluice-join-acks-'));
});
afterAll(async () => {
  for (const c of clients) await c.endAsync(true);
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a cloud join of two edge streams, each on its own channel', () => {
  // The ack gate took the fastest channel's watermark for the part's: a join window that had
  // not fired (the other side lagging) had its events acked, and a redeploy or crash lost them.
  it('acks a channel only once the slower channel lets its windows fire', async () => {
    const app = defineApp('join-acks', (a) => {
      const left = a.source<{ k: string; t: number }>('left', { format: 'json', eventTime: 't' }).keyBy((r) => r.k);
      const right = a.source<{ k: string; t: number }>('right', { format: 'json', eventTime: 't' }).keyBy((r) => r.k);
      left.join(right).window(tumbling('10s')).apply((x, y) => ({ x, y })).sink('out');
    });
    const part = splitGraph(app.graph({}), 'cloud');
    const [l, r] = part.inbound.map((c) => c.name) as [string, string];
    const client = await mqtt.connectAsync(broker.url, { clientId: 'join-cloud', reconnectPeriod: 0 });
    const edge = await mqtt.connectAsync(broker.url, { clientId: 'join-edge', reconnectPeriod: 0 });
    clients.push(client, edge);
    const acked: Record<string, number> = { [l]: 0, [r]: 0 };
    const waiters: { test: () => boolean; resolve: () => void }[] = [];
    const until = (test: () => boolean) => new Promise<void>((resolve) => { if (test()) resolve(); else waiters.push({ test, resolve }); });
    let marker = false;
    edge.on('message', (topic, payload) => {
      if (payload.toString() === 'end') marker = true;
      else {
        const f = decodeFrame(payload);
        const channel = topic === channelAckTopic('join-acks', l, 0, 'gw') ? l : r;
        if (f.ok && f.frame.type === 'ack') acked[channel] = Math.max(acked[channel]!, f.frame.ackedSeq);
      }
      for (const w of waiters.splice(0)) if (w.test()) w.resolve(); else waiters.push(w);
    });
    for (const c of [l, r]) await edge.subscribeAsync(channelAckTopic('join-acks', c, 0, 'gw'), { qos: 1 });
    const subscribed = new Promise<void>((resolve) => {
      let n = 0;
      broker.broker.on('subscribe', (subs) => { n += subs.filter((s) => s.topic.startsWith('sluice/')).length; if (n >= 2) resolve(); });
    });
    const channels = await bindPartChannels(part, { client, producer: 'cloud-0', stateDir: join(dir, 'cloud'), expectProducers: ['gw'] });
    const run = startRun(part.graph, { sources: channels.sources, sinks: { ...channels.sinks, out: { type: 'collect', onEvent: () => {} } } });
    channels.setFlush(() => run.flushed());
    await subscribed;

    const data = (first: number, last: number, watermark: number) => Buffer.from(encodeFrame({
      type: 'data', producer: 'gw', epoch: 0, firstSeq: first, lastSeq: last, watermark, baseSeq: first - 1,
      events: Array.from({ length: last - first + 1 }, (_, i) => ({ ts: first + i, key: 'k', value: { k: 'k', t: first + i } })),
    }));
    // Left: events at t 1..10 with its watermark far ahead; right: t 1..3, its watermark at 10,004 —
    // the window [0, 10 s) fires, right's events are final (3 + 10 s <= 10,004), left's are not.
    edge.publish(channelDataTopic('join-acks', l, 0), data(1, 10, 50_000), { qos: 1 });
    edge.publish(channelDataTopic('join-acks', r, 0), data(1, 3, 10_004), { qos: 1 });
    await until(() => acked[r] === 3);
    // Acks of one gate cycle go out together: whatever left got, it is on the broker before this.
    await client.publishAsync(channelAckTopic('join-acks', l, 0, 'gw'), 'end', { qos: 1 });
    await until(() => marker);
    expect(acked).toEqual({ [l]: 0, [r]: 3 });
    // What a restart resumes from is what both channels allow, written before those acks.
    expect(JSON.parse(readFileSync(join(dir, 'cloud', 'inbound', 'final-watermark.json'), 'utf8'))).toEqual({ finalWatermark: 10_004 });

    // Right moves on (a heartbeat: no events): left's events are final now, and acked.
    edge.publish(channelDataTopic('join-acks', r, 0), data(4, 3, 20_004), { qos: 1 });
    await until(() => acked[l] === 10);
    const finished = run.stop();
    await channels.close();
    await finished;
  });
});
