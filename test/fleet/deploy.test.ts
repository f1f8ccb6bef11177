import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { decodeStatus } from '../../shared/wire/index.ts';
import { ensureBundle, sluice } from '../support/bundle.ts';
import { fleetProcesses, runs, watchStatuses } from './fleet-processes.ts';
import { batchHouseTotals, sendPlugReadings, untilClosedWindows, type PlugReading } from './plug-data.ts';

const APP = 'test/fleet/plug-totals.ts';
const WINDOW_MS = 1000;
const DELAY_MS = 1500;

describe('the fleet: one cloud and three gateways, from the bundle', () => {
  const procs = fleetProcesses();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fleet-'));
  let cloud: Awaited<ReturnType<typeof procs.cloud>>;
  let statuses: Awaited<ReturnType<typeof watchStatuses>>;
  const gateways: { id: string; localUrl: string }[] = [];

  beforeAll(async () => {
    ensureBundle();
    cloud = await procs.cloud(join(dir, 'cloud'));
    statuses = await watchStatuses(cloud.mqttUrl);
    for (const id of ['gw-1', 'gw-2', 'gw-3']) {
      const gw = await procs.edge(id, cloud.mqttUrl, join(dir, id), ['site=plant', `line=${id.slice(3)}`]);
      gateways.push({ id, localUrl: gw.localUrl });
    }
    await Promise.all([...gateways.map((g) => g.id), 'cloud-0'].map((id) => statuses.until(id, (s) => s.online)));
  }, 60_000);

  afterAll(async () => {
    await statuses?.close();
    procs.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys to every selected gateway; cloud results equal the batch computation over what the devices sent', async () => {
    const r = await sluice(['deploy', APP, '--cloud', cloud.httpUrl, '--gateways', 'site=plant', '--param', `window=${WINDOW_MS}ms`, '--param', `delay=${DELAY_MS}ms`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/deployed plug-totals v1/);
    expect(r.stdout).toMatch(/edge part on 3 gateway\(s\): gw-1, gw-2, gw-3/);
    await Promise.all([...gateways.map((g) => g.id), 'cloud-0'].map((id) => statuses.until(id, runs('plug-totals', 1))));

    // Each gateway's devices: 40 plugs at 10 Hz, in houses 0 and 1 on every gateway: houses span gateways.
    const sent: PlugReading[][] = await Promise.all(gateways.map((g, i) => sendPlugReadings(g.localUrl, { seed: 11 + i, devices: 40, rate: 10, readings: 2000 })));
    const file = join(dir, 'cloud', 'worker', 'apps', 'plug-totals', 'sinks', 'house-totals.jsonl');
    onTestFailed(() => {
      const letters = join(dir, 'cloud', 'worker', 'apps', 'plug-totals', 'dead-letter.jsonl');
      console.error(`cloud dead letters:\n${existsSync(letters) ? readFileSync(letters, 'utf8').slice(0, 3000) : 'none'}`);
      for (const id of ['gw-1', 'gw-2', 'gw-3', 'cloud-0']) console.error(`${id}: ${JSON.stringify(statuses.latest(id)?.apps)}`);
    });
    const { expected, got } = await untilClosedWindows(file, sent, DELAY_MS, WINDOW_MS);
    expect(expected.length).toBeGreaterThan(3);
    for (const e of expected) {
      const row = got.get(`${e.key}|${e.windowStart}`)!;
      expect(row.value, `house ${e.key} window ${e.windowStart}`).toBeCloseTo(e.sum, 6);
    }
    // No window the batch does not know of, and no window fired before it closed.
    const known = new Set(batchHouseTotals(sent.flat(), WINDOW_MS).map((e) => `${e.key}|${e.windowStart}`));
    for (const k of got.keys()) expect(known.has(k), `unexpected window ${k}`).toBe(true);
  }, 90_000);

  it('a gateway that joins later and matches the selector gets the app; `sluice apps` and `sluice status` show it', async () => {
    const gw4 = await procs.edge('gw-4', cloud.mqttUrl, join(dir, 'gw-4'), ['site=plant']);
    gateways.push({ id: 'gw-4', localUrl: gw4.localUrl });
    await statuses.until('gw-4', runs('plug-totals', 1));
    const apps = await sluice(['apps', '--cloud', cloud.httpUrl, '--json']);
    const [app] = JSON.parse(apps.stdout) as { name: string; gateways: string[]; owners: string[]; placement: { id: string; where: string }[] }[];
    // The house sum's channel into the cloud is keyed: its 4 partitions all run on the one worker there is.
    expect(app).toMatchObject({ name: 'plug-totals', gateways: ['gw-1', 'gw-2', 'gw-3', 'gw-4'], partitions: 4, owners: ['cloud-0', 'cloud-0', 'cloud-0', 'cloud-0'] });
    // The plan made at deploy: the house sum is split into gateway partials and a cloud merge.
    expect(app!.placement.map((o) => [o.id, o.where])).toEqual([['plugs', 'edge'], ['plugs/keyBy', 'edge'], ['house-totals', 'split'], ['sink:house-totals', 'cloud']]);
    const table = await sluice(['status', '--cloud', cloud.httpUrl]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/gw-4\s+online\s+plug-totals v1\s+running\s+\d+\s+[\d.]+\s+0\s/);
  }, 60_000);

  it('serves MQTT over WebSocket for browsers: a client there reads every node\'s retained status', async () => {
    expect(cloud.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const browser = await mqtt.connectAsync(cloud.wsUrl!, { clientId: 'test-browser', reconnectPeriod: 0 });
    try {
      const seen = new Set<string>();
      const all = new Promise<void>((resolve) => browser.on('message', (_t, p) => {
        const r = decodeStatus(p);
        if (r.ok && r.message.online) seen.add(r.message.node);
        if (['gw-1', 'gw-2', 'gw-3', 'cloud-0'].every((n) => seen.has(n))) resolve();
      }));
      await browser.subscribeAsync('sluice/v1/node/+/status');
      await all;
    } finally {
      await browser.endAsync(true);
    }
  });

  it('undeploy stops the app on every node and removes its state there', async () => {
    for (const g of gateways) expect(existsSync(join(dir, g.id, 'apps', 'plug-totals'))).toBe(true);
    const r = await sluice(['undeploy', 'plug-totals', '--cloud', cloud.httpUrl]);
    expect(r.stdout).toMatch(/undeployed plug-totals v1/);
    const none = (s: { online: boolean; apps?: readonly unknown[] }) => s.online && (s.apps ?? []).length === 0;
    await Promise.all([...gateways.map((g) => g.id), 'cloud-0'].map((id) => statuses.until(id, none)));
    for (const g of gateways) expect(existsSync(join(dir, g.id, 'apps', 'plug-totals')), g.id).toBe(false);
    expect(existsSync(join(dir, 'cloud', 'worker', 'apps', 'plug-totals'))).toBe(false);
    const apps = await sluice(['apps', '--cloud', cloud.httpUrl]);
    expect(apps.stdout).toMatch(/no apps deployed/);
  }, 60_000);
});
