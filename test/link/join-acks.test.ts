import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineApp, tumbling } from '../../shared/dsl/index.ts';
import { bindPartChannels } from '../../shared/link/index.ts';
import { splitGraph, startRun } from '../../shared/runtime/index.ts';
import { channelAckTopic, channelDataTopic, decodeFrame, encodeFrame } from '../../shared/wire/index.ts';
import { linkRig } from '../support/link-rig.ts';

const rig = linkRig('join-acks');

/** A cloud lane over two inbound channels from one gateway, and what the gateway hears back. */
async function cloudLane(name: string, build: Parameters<typeof defineApp>[1], sinks: readonly string[]) {
  const part = splitGraph(defineApp(name, build).graph({}), 'cloud');
  const [l, r] = part.inbound.map((c) => c.name) as [string, string];
  const client = await rig.connect(`${name}-cloud`);
  const edge = await rig.connect(`${name}-edge`);
  const acked: Record<string, number> = { [l]: 0, [r]: 0 };
  const waiters: { test: () => boolean; resolve: () => void }[] = [];
  const until = (test: () => boolean) => new Promise<void>((resolve) => { if (test()) resolve(); else waiters.push({ test, resolve }); });
  let marker = false;
  edge.on('message', (topic, payload) => {
    if (payload.toString() === 'end') marker = true;
    else {
      const f = decodeFrame(payload);
      const channel = topic === channelAckTopic(name, l, 0, 'gw') ? l : r;
      if (f.ok && f.frame.type === 'ack') acked[channel] = Math.max(acked[channel]!, f.frame.ackedSeq);
    }
    for (const w of waiters.splice(0)) if (w.test()) w.resolve(); else waiters.push(w);
  });
  for (const c of [l, r]) await edge.subscribeAsync(channelAckTopic(name, c, 0, 'gw'), { qos: 1 });
  const subscribed = new Promise<void>((resolve) => {
    let n = 0;
    rig.broker.broker.on('subscribe', (subs) => { n += subs.filter((s) => s.topic.includes(`/${name}/`)).length; if (n >= 2) resolve(); });
  });
  const stateDir = join(rig.dir, name);
  const channels = await bindPartChannels(part, { client, producer: 'cloud-0', stateDir, expectProducers: ['gw'] });
  const run = startRun(part.graph, { sources: channels.sources, sinks: { ...channels.sinks, ...Object.fromEntries(sinks.map((k) => [k, { type: 'collect', onEvent: () => {} }])) } });
  channels.setFlush(() => run.flushed());
  await subscribed;
  return {
    l, r, acked, until, stateDir,
    /** A data frame of seqs first..last, events at t = seq, on `channel`. */
    send: (channel: string, first: number, last: number, watermark: number) => edge.publish(channelDataTopic(name, channel, 0), Buffer.from(encodeFrame({
      type: 'data', producer: 'gw', epoch: 0, firstSeq: first, lastSeq: last, watermark, baseSeq: first - 1,
      events: Array.from({ length: last - first + 1 }, (_, i) => ({ ts: first + i, key: 'k', value: { k: 'k', t: first + i, v: 1 } })),
    })), { qos: 1 }),
    /** Resolves once every ack the lane sent before this call has reached the gateway. */
    async allAcksIn() {
      marker = false;
      await client.publishAsync(channelAckTopic(name, l, 0, 'gw'), 'end', { qos: 1 });
      await until(() => marker);
    },
    async stop() {
      const finished = run.stop();
      await channels.close();
      await finished;
    },
  };
}

describe('a cloud part with two inbound channels', () => {
  // The ack gate took the fastest channel's watermark for the part's: a join window that had
  // not fired (the other side lagging) had its events acked, and a redeploy or crash lost them.
  it('acks a join\'s side only once the slower side lets its windows fire', async () => {
    const lane = await cloudLane('join-acks', (a) => {
      const left = a.source<{ k: string; t: number }>('left', { format: 'json', eventTime: 't' }).keyBy((r) => r.k);
      const right = a.source<{ k: string; t: number }>('right', { format: 'json', eventTime: 't' }).keyBy((r) => r.k);
      left.join(right).window(tumbling('10s')).apply((x, y) => ({ x, y })).sink('out');
    }, ['out']);
    const { l, r, acked, until } = lane;
    // Left: events at t 1..10 with its watermark far ahead; right: t 1..3, its watermark at 10,004 —
    // the window [0, 10 s) fires, right's events are final (3 + 10 s <= 10,004), left's are not.
    lane.send(l, 1, 10, 50_000);
    lane.send(r, 1, 3, 10_004);
    await until(() => acked[r] === 3);
    // Acks of one gate cycle go out together: whatever left got, it is on the broker before this.
    await lane.allAcksIn();
    expect(acked).toEqual({ [l]: 0, [r]: 3 });
    // What a restart resumes from is what both channels allow, written before those acks.
    expect(JSON.parse(readFileSync(join(lane.stateDir, 'inbound', 'final-watermark.json'), 'utf8'))).toEqual({ finalWatermark: 10_004 });

    // Right moves on (a heartbeat: no events): left's events are final now, and acked.
    lane.send(r, 4, 3, 20_004);
    await until(() => acked[l] === 10);
    await lane.stop();
  });

  it('acks two pipelines that never meet each on its own: a silent channel holds no other back', async () => {
    const lane = await cloudLane('pipes-acks', (a) => {
      a.source<{ k: string; t: number; v: number }>('temps', { format: 'json', eventTime: 't' }).keyBy((r) => r.k).window(tumbling('10s')).sum((r) => r.v).sink('temp-sums');
      a.source<{ k: string; t: number; v: number }>('vibration', { format: 'json', eventTime: 't' }).keyBy((r) => r.k).window(tumbling('10s')).max((r) => r.v).sink('vib-max');
    }, ['temp-sums', 'vib-max']);
    const { l, r, acked, until } = lane;
    lane.send(l, 1, 10, 50_000); // the vibration channel says nothing
    await until(() => acked[l] === 10);
    await lane.allAcksIn();
    expect(acked).toEqual({ [l]: 10, [r]: 0 });
    // Each group's watermark is kept under its own name.
    expect(JSON.parse(readFileSync(join(lane.stateDir, 'inbound', 'final-watermark.json'), 'utf8'))).toEqual({ groups: { [l]: 50_000 } });
    await lane.stop();
  });
});
