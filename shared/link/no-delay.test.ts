import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { keepNoDelay } from './no-delay.ts';

/** Just what keepNoDelay touches: a 'connect' event and a replaceable stream. */
function fakeClient() {
  const client = new EventEmitter() as EventEmitter & { stream: unknown };
  const calls: boolean[] = [];
  client.stream = { setNoDelay: (on: boolean) => calls.push(on) };
  return { client, calls, asMqtt: client as unknown as MqttClient };
}

describe('keepNoDelay', () => {
  it('sets TCP_NODELAY now and on the new socket after each reconnect, until stopped', () => {
    const { client, calls, asMqtt } = fakeClient();
    const stop = keepNoDelay(asMqtt);
    expect(calls).toEqual([true]);
    const second: boolean[] = [];
    client.stream = { setNoDelay: (on: boolean) => second.push(on) };
    client.emit('connect');
    expect(second).toEqual([true]);
    stop();
    client.emit('connect');
    expect(second).toEqual([true]);
    expect(client.listenerCount('connect')).toBe(0);
  });

  it('leaves streams without setNoDelay (WebSocket) alone', () => {
    const { client, asMqtt } = fakeClient();
    client.stream = {};
    expect(() => keepNoDelay(asMqtt)()).not.toThrow();
    client.stream = undefined;
    expect(() => keepNoDelay(asMqtt)()).not.toThrow();
  });
});
