/**
 * mqtt.js's outgoing store for a client that carries channels. mqtt.js keeps a deep copy of
 * every QoS 1 publish until its PUBACK, to send it again after a reconnect. For a channel's
 * data frames both are waste: the sender resends from its outbox after a reconnect (it trims
 * on the receiver's end-to-end ack, never on a PUBACK), so mqtt.js's resend only doubled it;
 * and the copies, one per frame (~100 KB at full rate) living until the PUBACK, often outlived
 * two scavenges and piled up in V8's old generation until the next full GC: 30–40 MB of the
 * sender's RSS under load (BENCHMARKS.md). This store keeps a data frame's packet without its
 * payload, never hands it back for a resend, and when the connection drops releases those
 * frames from mqtt.js's in-flight table (the channel resends them); every other publish
 * (status, desired state, acks) is stored as in mqtt.js's own store, and forgotten when the
 * connection closes, as mqtt.js's `reconnect()` forgets its default stores.
 */
import { Store, type IStore, type MqttClient } from 'mqtt';
import { parseTopic } from '../wire/index.ts';

type Packet = Parameters<IStore['put']>[0];
type PacketCallback = Parameters<IStore['del']>[1];

const isChannelData = (topic: string): boolean => {
  const t = parseTopic(topic);
  return t.ok && t.topic.type === 'channel-data';
};

export class ChannelFrameStore implements IStore {
  private inner = new Store();
  /** Data frames in flight: their packets, payload left out. */
  private readonly frames = new Map<number, Packet>();

  private client: MqttClient | undefined;

  /** Releases this client's in-flight data frames whenever its connection closes. */
  attach(client: MqttClient): void {
    this.client = client;
    client.on('close', () => { this.release(); this.forgetOthers(); });
  }

  /**
   * Drops the data frames mqtt.js still waits a PUBACK for: a connection that closed brings
   * none (its channels resend the frames), and a graceful end would wait for them forever.
   */
  private release(): void {
    for (const id of [...this.frames.keys()]) this.client?.removeOutgoingMessage(id); // deletes it here too, via del
    this.frames.clear();
  }

  /**
   * A closed connection also forgets the other publishes in flight, as mqtt.js's `reconnect()`
   * does with its default stores (which `reconnectClient` keeps this one in place of).
   */
  private forgetOthers(): void {
    this.inner = new Store();
  }

  put(packet: Packet, cb: () => void): this {
    if (packet.cmd === 'publish' && packet.messageId !== undefined && isChannelData(packet.topic)) {
      this.frames.set(packet.messageId, { ...packet, payload: EMPTY });
      cb();
      return this;
    }
    this.inner.put(packet, cb);
    return this;
  }

  /** What mqtt.js resends after a reconnect: everything but data frames. */
  createStream(): ReturnType<IStore['createStream']> {
    // A frame stored while the link was already down (a publish racing the close) goes too.
    if (this.frames.size > 0) queueMicrotask(() => this.release());
    return this.inner.createStream();
  }

  del(packet: Pick<Packet, 'messageId'>, cb: PacketCallback): this {
    const frame = packet.messageId === undefined ? undefined : this.frames.get(packet.messageId);
    if (!frame) {
      this.inner.del(packet, cb);
      return this;
    }
    this.frames.delete(packet.messageId!);
    cb(undefined, frame);
    return this;
  }

  get(packet: Pick<Packet, 'messageId'>, cb: PacketCallback): this {
    const frame = packet.messageId === undefined ? undefined : this.frames.get(packet.messageId);
    if (frame) cb(undefined, frame);
    else this.inner.get(packet, cb);
    return this;
  }

  /** mqtt.js closes its stores when the client ends; one that reconnects later starts afresh. */
  close(cb: () => void): void {
    this.frames.clear();
    const inner = this.inner;
    this.inner = new Store();
    inner.close(cb);
  }

  /** Data frames awaiting their PUBACK (for tests and metrics). */
  get framesInFlight(): number {
    return this.frames.size;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Reconnects `client`, keeping its ChannelFrameStore: mqtt.js's `reconnect()` replaces both
 * stores with new default ones unless it is given them.
 */
export function reconnectClient(client: MqttClient): void {
  const store = client.outgoingStore;
  client.reconnect(store instanceof ChannelFrameStore ? { outgoingStore: store } : undefined);
}

/**
 * The payload to publish `frame` with on `client`. With a ChannelFrameStore, mqtt.js's copy of
 * it is dropped unseen, so it is not made: mqtt.js clones a publish with rfdc, which copies a
 * Buffer with `Buffer.from(buffer)`, and `Buffer.from` takes an object's `valueOf()` when that
 * differs from the object: here an empty buffer. The frame itself is written to the socket as
 * it is. Were either library to clone otherwise, the copy would come back, and be dropped.
 */
export function framePayload(client: MqttClient, frame: Uint8Array): Buffer {
  const payload = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (client.outgoingStore instanceof ChannelFrameStore) Object.defineProperty(payload, 'valueOf', { value: emptyPayload });
  return payload;
}

const emptyPayload = (): Buffer => EMPTY;
