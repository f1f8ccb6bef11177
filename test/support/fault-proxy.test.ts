import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startAedes } from './brokers.ts';
import type { AedesTestBroker } from './brokers.ts';
import { createFaultProxy } from './fault-proxy.ts';
import type { FaultProxy } from './fault-proxy.ts';
import { connectMqtt, nextEvent, nextMessage } from './mqtt-client.ts';
import { createSeededRandom } from './seeded-random.ts';

let broker: AedesTestBroker;
let direct: MqttClient;

beforeAll(async () => {
  broker = await startAedes();
  direct = await connectMqtt(broker.url);
});

afterAll(async () => {
  await direct?.endAsync(true);
  await broker?.close();
});

/** Runs `body` with a fresh proxy in front of the broker and a client connected through it. */
async function withProxy(
  body: (proxy: FaultProxy, client: MqttClient) => Promise<void>,
  clientOptions: Parameters<typeof connectMqtt>[1] = {},
): Promise<void> {
  const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: broker.port }, seed: 7 });
  let client: MqttClient | undefined;
  try {
    client = await connectMqtt(proxy.url, clientOptions);
    await body(proxy, client);
  } finally {
    await client?.endAsync(true);
    await proxy.close();
  }
}

let topicCount = 0;
const freshTopic = (): string => `fault/${++topicCount}`;

describe('createFaultProxy', () => {
  it('forwards both ways untouched when no fault is set', async () => {
    await withProxy(async (proxy, client) => {
      const topic = freshTopic();
      await client.subscribeAsync(topic, { qos: 1 });
      const got = nextMessage(client, topic);
      await client.publishAsync(topic, 'plain', { qos: 1 });
      expect((await got).toString()).toBe('plain');
      const s = proxy.stats();
      expect(s.accepted).toBe(1);
      expect(s.up.bytes).toBeGreaterThan(0);
      expect(s.down.bytes).toBeGreaterThan(0);
      expect(s.up.writes).toBe(s.up.chunks);
    });
  });

  it('blackhole: a QoS 1 publish does not reach the broker or complete until the link is restored', async () => {
    await withProxy(async (proxy, client) => {
      const topic = freshTopic();
      await direct.subscribeAsync(topic, { qos: 1 });
      let received = 0;
      const count = (t: string): void => { if (t === topic) received++; };
      direct.on('message', count);
      try {
        proxy.blackhole();
        const before = proxy.stats().up;
        let settled = false;
        const publish = client.publishAsync(topic, 'held', { qos: 1 }).then(() => { settled = true; });
        await proxy.waitFor((s) => s.up.chunks > before.chunks);
        // A round trip through the broker on another client lets any forwarded bytes land.
        await direct.publishAsync(`${topic}/probe`, 'x', { qos: 1 });
        const during = proxy.stats();
        expect(during.up.bytes).toBe(before.bytes); // nothing went onward...
        expect(during.up.held).toBeGreaterThan(0); // ...the PUBLISH is held in the proxy
        expect(received).toBe(0);
        expect(settled).toBe(false);
        expect(during.active).toBe(1); // sockets stay open
        const delivered = nextMessage(direct, topic);
        proxy.blackhole(false);
        await publish;
        expect((await delivered).toString()).toBe('held');
        expect(proxy.stats().up.held).toBe(0);
      } finally {
        direct.off('message', count);
      }
    });
  });

  it('one-way blackhole: a publish reaches the broker but its PUBACK is held until restored', async () => {
    await withProxy(async (proxy, client) => {
      const topic = freshTopic();
      await direct.subscribeAsync(topic, { qos: 1 });
      proxy.blackhole(true, 'down');
      const downBefore = proxy.stats().down;
      let settled = false;
      const delivered = nextMessage(direct, topic);
      const publish = client.publishAsync(topic, 'one-way', { qos: 1 }).then(() => { settled = true; });
      expect((await delivered).toString()).toBe('one-way');
      await proxy.waitFor((s) => s.down.chunks > downBefore.chunks); // the PUBACK reached the proxy
      expect(proxy.stats().down.bytes).toBe(downBefore.bytes);
      expect(settled).toBe(false);
      proxy.blackhole(false, 'down');
      await publish;
      expect(settled).toBe(true);
    });
  });

  it('reset: the client sees close and offline, then reconnects through the proxy', async () => {
    await withProxy(async (proxy, client) => {
      const closed = nextEvent(client, 'close');
      const offline = nextEvent(client, 'offline');
      const reconnected = nextEvent(client, 'connect');
      proxy.reset();
      await closed;
      await offline;
      await reconnected;
      const s = proxy.stats();
      expect(s.resets).toBe(1);
      expect(s.accepted).toBe(2);
      const topic = freshTopic();
      await client.subscribeAsync(topic, { qos: 1 });
      const got = nextMessage(client, topic);
      await client.publishAsync(topic, 'again', { qos: 1 });
      expect((await got).toString()).toBe('again');
    }, { reconnectPeriod: 20 });
  });

  it('refuse: new connections are reset until refusing stops; existing ones are untouched', async () => {
    await withProxy(async (proxy, client) => {
      proxy.refuse();
      await expect(connectMqtt(proxy.url)).rejects.toThrow();
      expect(client.connected).toBe(true);
      proxy.reset();
      await proxy.waitFor((s) => s.refused >= 3); // the first connect above plus two reconnect attempts
      expect(client.connected).toBe(false);
      const reconnected = nextEvent(client, 'connect');
      proxy.refuse(false);
      await reconnected;
      expect(proxy.stats().accepted).toBe(2);
    }, { reconnectPeriod: 20 });
  });

  it('sliced writes: a 20 kB message crosses in many small writes and arrives intact both ways', async () => {
    await withProxy(async (proxy, client) => {
      proxy.slice(7);
      const topic = freshTopic();
      const payload = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 31) % 256));
      await client.subscribeAsync(topic, { qos: 1 });
      const got = nextMessage(client, topic);
      await client.publishAsync(topic, payload, { qos: 1 });
      expect((await got).equals(payload)).toBe(true);
      const s = proxy.stats();
      expect(s.up.writes).toBeGreaterThanOrEqual(20_000 / 7);
      expect(s.down.writes).toBeGreaterThanOrEqual(20_000 / 7);
    });
  });

  it('bandwidth cap: no interval carries more than its budget, and a burst spreads over many intervals', async () => {
    await withProxy(async (proxy, client) => {
      proxy.setBandwidth(40_000, { intervalMs: 25 }); // 1,000 bytes per 25 ms slot
      const topic = freshTopic();
      const payload = Buffer.alloc(8_000, 7);
      const got = nextMessage(direct, topic);
      await direct.subscribeAsync(topic, { qos: 1 });
      await client.publishAsync(topic, payload, { qos: 1 });
      expect((await got).equals(payload)).toBe(true);
      const up = proxy.bandwidth('up');
      expect(up.budgetPerSlot).toBe(1_000);
      const total = up.slots.reduce((sum, s) => sum + s.bytes, 0);
      expect(total).toBeGreaterThanOrEqual(8_000);
      for (const s of up.slots) expect(s.bytes).toBeLessThanOrEqual(1_000);
      expect(up.slots.length).toBeGreaterThanOrEqual(8);
    });
  });

  it('latency and jitter: every chunk is held at least its planned delay of latency plus seeded jitter', async () => {
    await withProxy(async (proxy, client) => {
      proxy.setLatency(20, 15);
      const topic = freshTopic();
      await client.subscribeAsync(topic, { qos: 1 });
      const got = nextMessage(client, topic);
      await client.publishAsync(topic, 'slow', { qos: 1 });
      expect((await got).toString()).toBe('slow');
      for (const direction of ['up', 'down'] as const) {
        const holds = proxy.holds(direction).filter((h) => h.planned > 0);
        expect(holds.length).toBeGreaterThanOrEqual(2);
        for (const h of holds) {
          expect(h.planned).toBeGreaterThanOrEqual(20);
          expect(h.actual).toBeGreaterThanOrEqual(h.planned);
        }
        // Holds are planned as latency + jitter unless an earlier chunk is still queued ahead.
        expect(holds.some((h) => h.planned > 20 && h.planned < 35)).toBe(true);
      }
    });
  });

  it('close() drops every connection and stops listening', async () => {
    const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: broker.port } });
    const client = await connectMqtt(proxy.url);
    const closed = nextEvent(client, 'close');
    await proxy.close();
    await closed;
    await expect(connectMqtt(proxy.url)).rejects.toThrow(/ECONNREFUSED/);
    await client.endAsync(true);
    await proxy.close();
  });
});

describe('createSeededRandom', () => {
  it('replays the same sequence from the same seed and another from another seed', () => {
    const draw = (seed: number): number[] => {
      const rng = createSeededRandom(seed);
      return Array.from({ length: 20 }, () => rng.int(1, 100));
    };
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
    for (const n of draw(5)) expect(n).toBeGreaterThanOrEqual(1);
    for (const n of draw(5)) expect(n).toBeLessThanOrEqual(100);
  });
});
