/**
 * Small mqtt.js helpers for tests: connect and await CONNACK, await the next message on a
 * topic, await a client event. Each waits on an event, never on a timer.
 */
import { connect } from 'mqtt';
import type { IClientOptions, MqttClient } from 'mqtt';

/**
 * Connects and resolves on the first CONNACK; rejects on the first error before it (for
 * example a refused password) or a close before CONNACK. Tests should `endAsync(true)` the client in a finally.
 *
 * @example
 * const c = await connectMqtt(broker.url, { protocolVersion: 5, username: 'u', password: 'p' });
 */
export function connectMqtt(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = connect(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...options });
  return new Promise((resolve, reject) => {
    const onConnect = (): void => {
      client.off('error', onError);
      client.off('close', onClose);
      resolve(client);
    };
    const onError = (err: Error): void => {
      client.off('connect', onConnect);
      client.off('close', onClose);
      client.end(true);
      reject(err);
    };
    // A socket reset before CONNACK may close without an 'error'.
    const onClose = (): void => onError(new Error(`connection to ${url} closed before CONNACK`));
    client.once('connect', onConnect);
    client.once('error', onError);
    client.once('close', onClose);
  });
}

/** Resolves with the payload of the next message whose topic is `topic`. */
export function nextMessage(client: MqttClient, topic: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const onMessage = (t: string, payload: Buffer): void => {
      if (t !== topic) return;
      client.off('message', onMessage);
      resolve(payload);
    };
    client.on('message', onMessage);
  });
}

/** Resolves the next time `client` emits `event`. */
export function nextEvent(client: MqttClient, event: 'connect' | 'close' | 'offline' | 'reconnect'): Promise<void> {
  return new Promise((resolve) => client.once(event, () => resolve()));
}
