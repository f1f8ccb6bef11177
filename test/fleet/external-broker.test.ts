import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasMosquitto, startMosquitto, type MosquittoBroker } from '../support/brokers.ts';
import { ensureBundle, sluice } from '../support/bundle.ts';
import { fleetProcesses, runs, watchStatuses } from './fleet-processes.ts';
import { sendPlugReadings, untilClosedWindows } from './plug-data.ts';

const DELAY_MS = 1500;
const AUTH = { username: 'sluice', password: 's3cret' };

// Mosquitto is installed by .ci/run; on a machine without it this suite says so and skips.
describe.skipIf(!hasMosquitto())('sluice cloud --broker: the fleet on Mosquitto 2 with a username and password', () => {
  const procs = fleetProcesses();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fleet-mosquitto-'));
  let mosquitto: MosquittoBroker | undefined;
  afterAll(async () => { procs.killAll(); await mosquitto?.close(); rmSync(dir, { recursive: true, force: true }); });

  it('deploys to two gateways through the external broker; results equal the batch', async () => {
    ensureBundle();
    mosquitto = await startMosquitto(AUTH);
    const creds = ['--username', AUTH.username, '--password', AUTH.password];
    const cloud = await procs.cloud(join(dir, 'cloud'), 0, ['--broker', mosquitto.url, ...creds]);
    expect(cloud.mqttUrl).toBe(mosquitto.url);
    const statuses = await watchStatuses(mosquitto.url, AUTH);
    const gws = await Promise.all(['gw-1', 'gw-2'].map((id) => procs.edge(id, mosquitto!.url, join(dir, id), ['site=ext'], creds)));
    await Promise.all(['gw-1', 'gw-2', 'cloud-0'].map((id) => statuses.until(id, (s) => s.online)));
    expect((await sluice(['deploy', 'test/fleet/plug-totals.ts', '--cloud', cloud.httpUrl, '--param', `delay=${DELAY_MS}ms`])).code).toBe(0);
    await Promise.all(['gw-1', 'gw-2', 'cloud-0'].map((id) => statuses.until(id, runs('plug-totals', 1))));
    await statuses.close();
    const sent = await Promise.all(gws.map((g, i) => sendPlugReadings(g.localUrl, { seed: 61 + i, devices: 40, rate: 10, readings: 1500 })));
    const file = join(dir, 'cloud', 'worker', 'apps', 'plug-totals', 'sinks', 'house-totals.jsonl');
    const { expected, got } = await untilClosedWindows(file, sent, DELAY_MS);
    expect(expected.length).toBeGreaterThan(3);
    for (const e of expected) expect(got.get(`${e.key}|${e.windowStart}`)!.value, `house ${e.key} window ${e.windowStart}`).toBeCloseTo(e.sum, 6);
  }, 90_000);
});
