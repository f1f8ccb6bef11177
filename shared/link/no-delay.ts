import type { MqttClient } from 'mqtt';

/**
 * Turns Nagle's algorithm off (TCP_NODELAY) on an mqtt.js client's socket now and after every
 * reconnect, and returns the function that stops doing so. A channel is latency-bound on
 * small writes (an ack frame right after a PUBACK, the tail of a data frame): with Nagle on,
 * each can wait for the peer's delayed ACK, up to 40 ms on Linux, which set the channel's
 * added latency (issue 3). Streams that are not TCP sockets (WebSocket, TLS wrappers without
 * the method) are left alone.
 *
 * @example
 * const stop = keepNoDelay(client); // ... later, when the channel closes: stop();
 */
export function keepNoDelay(client: MqttClient): () => void {
  const apply = (): void => {
    const stream = client.stream as { setNoDelay?: (on: boolean) => unknown } | undefined;
    if (typeof stream?.setNoDelay === 'function') stream.setNoDelay(true);
  };
  apply();
  client.on('connect', apply);
  return () => { client.removeListener('connect', apply); };
}
