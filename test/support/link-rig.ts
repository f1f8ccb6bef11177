import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll } from 'vitest';
import { startAedes, type AedesTestBroker } from './brokers.ts';

/**
 * What a channel test file needs: an aedes broker on a free port, a scratch directory, and MQTT
 * clients; started before the file's tests, all closed and removed after them. Call it at the
 * top of the file.
 *
 * @example
 * const rig = linkRig('lane-stop');
 * const client = await rig.connect('cloud'); // in a test
 */
export function linkRig(name: string) {
  let broker: AedesTestBroker | undefined;
  let dir = '';
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    broker = await startAedes();
    dir = mkdtempSync(join(tmpdir(), `sluice-${name}-`));
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get broker(): AedesTestBroker { return broker!; },
    get dir(): string { return dir; },
    /** A client with this id, connected (no automatic reconnect); ended after the file's tests. */
    async connect(id: string): Promise<MqttClient> {
      const c = await mqtt.connectAsync(broker!.url, { clientId: `${name}-${id}`, reconnectPeriod: 0 });
      clients.push(c);
      return c;
    },
  };
}
