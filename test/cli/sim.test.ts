import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type AedesTestBroker } from '../support/brokers.ts';
import { ensureBundle, sluice } from '../support/bundle.ts';

let broker: AedesTestBroker;
beforeAll(async () => { ensureBundle(); broker = await startAedes(); });
afterAll(async () => { await broker.close(); });

describe('sluice sim from the bundle', () => {
  it('a plug fleet publishes readings to the broker and stops at --duration', async () => {
    const client = await mqtt.connectAsync(broker.url);
    await client.subscribeAsync('sim/plug/#', { qos: 0 });
    const devices = new Set<string>();
    let readings = 0;
    client.on('message', (topic) => { readings++; devices.add(topic.split('/')[2]!); });
    const r = await sluice(['sim', '--broker', broker.url, '--model', 'plug', '--devices', '5', '--rate', '20', '--duration', '1s', '--seed', '3']);
    await client.endAsync();
    expect(r.code, r.stderr).toBe(0);
    expect(devices.size).toBe(5);
    expect(readings).toBeGreaterThan(50);
  });
});
