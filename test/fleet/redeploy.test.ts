import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { ensureBundle, sluice } from '../support/bundle.ts';
import { createFaultProxy } from '../support/fault-proxy.ts';
import { fleetProcesses, runs, watchStatuses } from './fleet-processes.ts';
import { sendPlugReadings, untilFile, type PlugReading } from './plug-data.ts';

interface Logged { id: string; seq: number; ts: number; tag: string }

describe('redeploying a new version while a gateway holds a backlog', () => {
  const procs = fleetProcesses();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fleet-redeploy-'));
  afterAll(() => { procs.killAll(); rmSync(dir, { recursive: true, force: true }); });

  it('moves the gateway to the new version and loses none of its buffered readings', async () => {
    ensureBundle();
    const cloud = await procs.cloud(join(dir, 'cloud'));
    const proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: cloud.mqttPort } });
    const statuses = await watchStatuses(cloud.mqttUrl);
    try {
      const gw = await procs.edge('gw-1', proxy.url, join(dir, 'gw-1'));
      let sent: PlugReading[] = [];
      onTestFailed(() => {
        const file = join(dir, 'cloud', 'worker', 'apps', 'plug-log', 'sinks', 'log.jsonl');
        const rows = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Logged) : [];
        const lines = rows.length;
        // Which readings are missing, by phase (0 live, 1 buffered in the outage, 2 after the upgrade).
        const have = new Set(rows.map((r) => `${r.id}|${r.seq}|${r.ts}`));
        const missing = sent.map((r, i) => ({ i, r })).filter(({ r }) => !have.has(`${r.id}|${r.seq}|${r.ts}`));
        console.error(`missing ${missing.length}: ${missing.slice(0, 40).map(({ i, r }) => `#${i} ${r.id}/${r.seq} ts ${r.ts}`).join(', ')}`);
        console.error(`logged ${lines} lines\ngw-1 status: ${JSON.stringify(statuses.latest('gw-1')?.apps)}\ncloud-0 status: ${JSON.stringify(statuses.latest('cloud-0')?.apps)}\ngw-1:\n${gw.proc.stderr()}\ncloud:\n${cloud.proc.stderr()}`);
      });
      await Promise.all(['gw-1', 'cloud-0'].map((id) => statuses.until(id, (s) => s.online)));
      const deploy = (tag: string) => sluice(['deploy', 'test/fleet/plug-log.ts', '--cloud', cloud.httpUrl, '--param', `tag=${tag}`]);
      expect((await deploy('v1')).code).toBe(0);
      await Promise.all(['gw-1', 'cloud-0'].map((id) => statuses.until(id, runs('plug-log', 1))));
      const live = await sendPlugReadings(gw.localUrl, { seed: 31, devices: 10, rate: 20, readings: 300 });

      // The uplink goes silent; the gateway buffers what its devices send.
      proxy.blackhole(true);
      const buffered = await sendPlugReadings(gw.localUrl, { seed: 32, devices: 10, rate: 20, readings: 600 });
      // v2 is deployed meanwhile: the cloud moves at once, the gateway when its link returns.
      expect((await deploy('v2')).code).toBe(0);
      await statuses.until('cloud-0', runs('plug-log', 2));
      proxy.blackhole(false);
      await statuses.until('gw-1', runs('plug-log', 2));
      const after = await sendPlugReadings(gw.localUrl, { seed: 33, devices: 10, rate: 20, readings: 300 });

      const file = join(dir, 'cloud', 'worker', 'apps', 'plug-log', 'sinks', 'log.jsonl');
      const id = (r: { id: string; seq: number; ts: number }) => `${r.id}|${r.seq}|${r.ts}`;
      const all = [...live, ...buffered, ...after];
      sent = all;
      const logged = await untilFile(file, () => {
        if (!existsSync(file)) return undefined;
        const rows = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Logged);
        const seen = new Map(rows.map((r) => [id(r), r]));
        return all.every((r) => seen.has(id(r))) ? seen : undefined;
      });
      // Every reading arrived (at least once); the ones sent after the upgrade went through v2.
      expect(all.filter((r: PlugReading) => !logged.has(id(r)))).toEqual([]);
      expect(after.every((r) => logged.get(id(r))!.tag === 'v2')).toBe(true);
      expect(gw.proc.stderr()).toMatch(/app plug-log v2 running/);
    } finally {
      await statuses.close();
      await proxy.close();
    }
  }, 120_000);
});
