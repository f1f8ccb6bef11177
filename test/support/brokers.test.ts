import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { hasMosquitto, startAedes, startMosquitto } from './brokers.ts';
import type { MosquittoBroker } from './brokers.ts';
import { connectMqtt, nextEvent, nextMessage } from './mqtt-client.ts';

describe('startAedes', () => {
  it('round-trips a QoS 1 message through aedes on a free port', async () => {
    const broker = await startAedes();
    const client = await connectMqtt(broker.url);
    try {
      expect(broker.port).toBeGreaterThan(0);
      await client.subscribeAsync('t/1', { qos: 1 });
      const got = nextMessage(client, 't/1');
      await client.publishAsync('t/1', 'hello', { qos: 1 });
      expect((await got).toString()).toBe('hello');
    } finally {
      await client.endAsync(true);
      await broker.close();
    }
  });

  it('restarts on the same port and the mqtt.js client reconnects', async () => {
    const broker = await startAedes();
    const client = await connectMqtt(broker.url, { reconnectPeriod: 20, clean: true });
    try {
      const port = broker.port;
      const closed = nextEvent(client, 'close');
      await broker.stop();
      expect(broker.running).toBe(false);
      await closed;
      const reconnected = nextEvent(client, 'connect');
      await broker.restart();
      await reconnected;
      expect(broker.port).toBe(port);
      await client.subscribeAsync('t/2', { qos: 1 });
      const got = nextMessage(client, 't/2');
      await client.publishAsync('t/2', 'after restart', { qos: 1 });
      expect((await got).toString()).toBe('after restart');
    } finally {
      await client.endAsync(true);
      await broker.close();
    }
  });

  it('close() is idempotent and refuses restart afterwards', async () => {
    const broker = await startAedes();
    await broker.close();
    await broker.close();
    await expect(broker.restart()).rejects.toThrow(/closed/);
  });
});

describe.skipIf(!hasMosquitto())('startMosquitto (skipped when Debian\'s mosquitto is not installed)', () => {
  let mosquitto: MosquittoBroker;
  beforeAll(async () => {
    mosquitto = await startMosquitto({ username: 'edge', password: 's3cret' });
  });
  afterAll(async () => {
    await mosquitto?.close();
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`accepts username/password over MQTT ${protocolVersion === 4 ? '3.1.1' : '5'} and round-trips QoS 1`, async () => {
      const client = await connectMqtt(mosquitto.url, { protocolVersion, username: 'edge', password: 's3cret' });
      try {
        const topic = `t/v${protocolVersion}`;
        await client.subscribeAsync(topic, { qos: 1 });
        const got = nextMessage(client, topic);
        // For QoS 1, publishAsync settles only once the broker's PUBACK arrives.
        await client.publishAsync(topic, 'payload', { qos: 1 });
        expect((await got).toString()).toBe('payload');
      } finally {
        await client.endAsync(true);
      }
    });
  }

  it('refuses a wrong password (3.1.1 and 5)', async () => {
    await expect(connectMqtt(mosquitto.url, { protocolVersion: 4, username: 'edge', password: 'nope' }))
      .rejects.toThrow(/Not authorized|Bad username/i);
    await expect(connectMqtt(mosquitto.url, { protocolVersion: 5, username: 'edge', password: 'nope' }))
      .rejects.toThrow(/Not authorized|Bad User Name or Password/i);
  });

  it('refuses anonymous clients when credentials are configured', async () => {
    await expect(connectMqtt(mosquitto.url, { protocolVersion: 4 })).rejects.toThrow(/Not authorized/i);
  });

  it('close() ends the process; a second broker without credentials takes anonymous clients', async () => {
    const open = await startMosquitto();
    try {
      const client = await connectMqtt(open.url);
      await client.endAsync(true);
    } finally {
      await open.close();
    }
    expect(() => process.kill(open.pid, 0)).toThrow();
  });
});
