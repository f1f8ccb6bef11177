/**
 * The outgoing store of the runtime's MQTT clients (connectWithBackoff): a data frame in
 * flight is kept without a copy of its payload and is not left for mqtt.js to resend; any
 * other QoS 1 publish is stored whole. Real aedes, a real socket cut by the fault proxy.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelFrameStore, connectWithBackoff, disconnect } from '../../shared/link/index.ts';
import { framePayload } from '../../shared/link/frame-store.ts';
import { FramePublisher } from '../../shared/link/frame-publisher.ts';
import { channelDataTopic, nodeStatusTopic } from '../../shared/wire/index.ts';
import { startAedes } from '../support/brokers.ts';
import { createFaultProxy } from '../support/fault-proxy.ts';
import { nextEvent, nextMessage } from '../support/mqtt-client.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => { for (const f of cleanup.splice(0).reverse()) await f(); });

type Stored = { payload?: unknown } | undefined;
const stored = (client: MqttClient, messageId: number): Promise<Stored> =>
  new Promise((resolve) => client.outgoingStore.get({ messageId }, (err, packet) => resolve(err ? undefined : (packet as Stored))));

describe('ChannelFrameStore', () => {
  it('keeps a data frame in flight without its payload, forgets it when the link drops, and stays across the reconnect', async () => {
    const broker = await startAedes();
    cleanup.push(() => broker.close());
    const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: broker.port } });
    cleanup.push(() => proxy.close());
    const client = connectWithBackoff(proxy.url, { clientId: 'frame-store', minBackoffMs: 5, maxBackoffMs: 20 });
    cleanup.push(() => disconnect(client, 500));
    await nextEvent(client, 'connect');
    const store = client.outgoingStore;
    expect(store).toBeInstanceOf(ChannelFrameStore);

    // No PUBACK comes while the link holds every byte: both publishes stay in flight.
    proxy.blackhole(true);
    const data = channelDataTopic('plant', 'rms', 0);
    const frameDone = new Promise<Error | undefined>((resolve) => client.publish(data, Buffer.alloc(50_000, 7), { qos: 1 }, (err) => resolve(err)));
    const frameId = client.getLastMessageId() as number;
    client.publish(nodeStatusTopic('gw-1'), 'up', { qos: 1 });
    const statusId = client.getLastMessageId() as number;
    expect((store as ChannelFrameStore).framesInFlight).toBe(1);
    expect(((await stored(client, frameId))?.payload as Buffer).byteLength).toBe(0);
    expect(String((await stored(client, statusId))?.payload)).toBe('up');
    expect(Object.keys(client.outgoing).map(Number).sort()).toEqual([frameId, statusId].sort());

    // The link drops: the frame leaves mqtt.js's in-flight table (its channel resends it).
    const closed = nextEvent(client, 'close');
    proxy.reset();
    await closed;
    expect((await frameDone)?.message).toBe('Message removed');
    expect((store as ChannelFrameStore).framesInFlight).toBe(0);
    expect(Object.keys(client.outgoing).map(Number)).not.toContain(frameId);

    proxy.heal();
    await nextEvent(client, 'connect');
    expect(client.outgoingStore).toBe(store);
    await client.publishAsync(data, Buffer.alloc(1000, 1), { qos: 1 });
    expect((store as ChannelFrameStore).framesInFlight).toBe(0);
  });

  it('publishes a frame whole without mqtt.js copying it, and reuses its buffer only after the PUBACK', async () => {
    const broker = await startAedes();
    cleanup.push(() => broker.close());
    const client = connectWithBackoff(broker.url, { clientId: 'frame-pub' });
    cleanup.push(() => disconnect(client, 500));
    await nextEvent(client, 'connect');
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'frame-sub' });
    cleanup.push(() => sub.endAsync());
    const topic = channelDataTopic('plant', 'rms', 0);
    await sub.subscribeAsync(topic, { qos: 1 });

    const pub = new FramePublisher(client, topic, 64 * 1024, 2);
    const a = pub.alloc(40_000).fill(0xa5);
    // mqtt.js clones a publish with Buffer.from(payload): for a channel client that copies nothing.
    expect(Buffer.from(framePayload(client, a)).byteLength).toBe(0);
    const got = nextMessage(sub, topic);
    const puback = new Promise<void>((resolve) => client.on('packetreceive', (p) => { if (p.cmd === 'puback') resolve(); }));
    pub.publish(a);
    expect(pub.alloc(40_000).buffer).not.toBe(a.buffer); // in flight: not handed out again
    const bytes = await got;
    expect(bytes.byteLength).toBe(40_000);
    expect(bytes.every((b) => b === 0xa5)).toBe(true);
    await puback;
    await new Promise((resolve) => setImmediate(resolve)); // the PUBACK's callback runs after the event
    expect(pub.alloc(40_000).buffer).toBe(a.buffer);

    // A client with mqtt.js's own store keeps its whole copy (it may resend it).
    expect(Buffer.from(framePayload(sub, a)).byteLength).toBe(40_000);
  });
});
