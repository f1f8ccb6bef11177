import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { ensureBundle, sluice } from '../support/bundle.ts';
import { fleetProcesses, runs, watchStatuses } from './fleet-processes.ts';
import { readWindows, sendPlugReadings, untilClosedWindows, untilFile } from './plug-data.ts';

const DELAY_MS = 1500;

describe('crashes: a gateway restarted while the coordinator is down, then the coordinator restarted', () => {
  const procs = fleetProcesses();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fleet-restart-'));
  afterAll(() => { procs.killAll(); rmSync(dir, { recursive: true, force: true }); });

  it('the gateway resumes offline and buffers; the coordinator keeps registry, app and plan; results equal the batch', async () => {
    ensureBundle();
    const cloud = await procs.cloud(join(dir, 'cloud'));
    const statuses = await watchStatuses(cloud.mqttUrl);
    const gw1 = await procs.edge('gw-1', cloud.mqttUrl, join(dir, 'gw-1'), ['site=plant']);
    const gw2 = await procs.edge('gw-2', cloud.mqttUrl, join(dir, 'gw-2'), ['site=plant']);
    await Promise.all(['gw-1', 'gw-2', 'cloud-0'].map((id) => statuses.until(id, (s) => s.online)));
    const deployed = await sluice(['deploy', 'test/fleet/plug-totals.ts', '--cloud', cloud.httpUrl, '--param', `delay=${DELAY_MS}ms`]);
    expect(deployed.code).toBe(0);
    await Promise.all(['gw-1', 'gw-2', 'cloud-0'].map((id) => statuses.until(id, runs('plug-totals', 1))));
    await statuses.close();
    const plan = JSON.parse((await sluice(['apps', '--cloud', cloud.httpUrl, '--json'])).stdout) as unknown[];

    // The coordinator dies (and the cloud worker with it); then gw-1 dies too.
    cloud.proc.child.kill('SIGKILL');
    await cloud.proc.exit;
    gw1.proc.child.kill('SIGKILL');
    await gw1.proc.exit;

    // gw-1 comes back with no uplink and no coordinator: it resumes from its own disk.
    const again = await procs.edge('gw-1', cloud.mqttUrl, join(dir, 'gw-1'), ['site=plant']);
    await again.proc.waitFor(/resuming 1 app\(s\) from revision \d+ saved on disk/);
    await again.proc.waitFor(/app plug-totals v1 running/);
    expect(again.proc.stderr()).not.toMatch(/connected to/);

    // Devices keep publishing while the cloud is away: both gateways buffer in their outboxes.
    const sent = await Promise.all([
      sendPlugReadings(again.localUrl, { seed: 21, devices: 40, rate: 10, readings: 1500 }),
      sendPlugReadings(gw2.localUrl, { seed: 22, devices: 40, rate: 10, readings: 1500 }),
    ]);

    // The coordinator restarts on the same port and data: nothing of its registry is lost.
    const back = await procs.cloud(join(dir, 'cloud'), cloud.mqttPort);
    expect(JSON.parse((await sluice(['apps', '--cloud', back.httpUrl, '--json'])).stdout)).toEqual(plan);
    const nodes = JSON.parse((await sluice(['nodes', '--cloud', back.httpUrl, '--json'])).stdout) as { id: string; tags: string[] }[];
    expect(nodes.map((n) => n.id)).toEqual(['cloud-0', 'gw-1', 'gw-2']);
    expect(nodes.find((n) => n.id === 'gw-1')!.tags).toEqual(['site=plant']);

    // The backlogs drain, and the cloud's windows equal the batch over everything sent.
    const file = join(dir, 'cloud', 'worker', 'apps', 'plug-totals', 'sinks', 'house-totals.jsonl');
    const { expected, got } = await untilClosedWindows(file, sent, DELAY_MS);
    expect(expected.length).toBeGreaterThan(3);
    for (const e of expected) expect(got.get(`${e.key}|${e.windowStart}`)!.value, `house ${e.key} window ${e.windowStart}`).toBeCloseTo(e.sum, 6);
    expect(again.proc.stderr()).toMatch(/connected to/);
  }, 120_000);

  it('a gateway whose uplink is down stops cleanly on SIGTERM and tries its uplink no more', async () => {
    const cloud = await procs.cloud(join(dir, 'cloud-sigterm'));
    const gw = await procs.edge('gw-9', cloud.mqttUrl, join(dir, 'gw-9'));
    // It hung once under load (1 run in ~12): say how far the gateway got.
    onTestFailed(() => console.error(`gw-9 exit code ${gw.proc.child.exitCode}, signal ${gw.proc.child.signalCode}\nstdout:\n${gw.proc.stdout()}\nstderr:\n${gw.proc.stderr()}`));
    await gw.proc.waitFor(/connected to/);
    cloud.proc.child.kill('SIGKILL');
    await cloud.proc.exit;
    await gw.proc.waitFor(/uplink down/);
    const before = gw.proc.stderr().length;
    gw.proc.child.kill('SIGTERM');
    expect(await gw.proc.exit).toEqual({ code: 0, signal: null });
    // Stopping ends the uplink at once: no more retries (they used to go on, holding the process).
    expect(gw.proc.stderr().slice(before)).not.toMatch(/uplink down/);
    expect(gw.proc.stdout()).toMatch(/sluice edge gw-9: stopped/);
  }, 30_000);

  it('the cloud process killed mid-stream (broker, coordinator and worker at once) and restarted: the windows equal the batch', async () => {
    const data = join(dir, 'cloud-midstream');
    const cloud = await procs.cloud(data);
    const statuses = await watchStatuses(cloud.mqttUrl);
    const gws = await Promise.all(['gw-5', 'gw-6'].map((id) => procs.edge(id, cloud.mqttUrl, join(dir, id), ['site=mid'])));
    await Promise.all(['gw-5', 'gw-6', 'cloud-0'].map((id) => statuses.until(id, (s) => s.online)));
    expect((await sluice(['deploy', 'test/fleet/plug-totals.ts', '--cloud', cloud.httpUrl, '--gateways', 'site=mid', '--param', `delay=${DELAY_MS}ms`])).code).toBe(0);
    await Promise.all(['gw-5', 'gw-6', 'cloud-0'].map((id) => statuses.until(id, runs('plug-totals', 1))));
    await statuses.close();
    const sending = Promise.all(gws.map((g, i) => sendPlugReadings(g.localUrl, { seed: 51 + i, devices: 40, rate: 10, readings: 3000 })));
    // Once the cloud has written some windows, it dies with everything it holds in memory.
    const file = join(data, 'worker', 'apps', 'plug-totals', 'sinks', 'house-totals.jsonl');
    await untilFile(file, () => (readWindows(file).size >= 2 ? true : undefined));
    cloud.proc.child.kill('SIGKILL');
    await cloud.proc.exit;
    const back = await procs.cloud(data, cloud.mqttPort);
    const sent = await sending;
    const { expected, got } = await untilClosedWindows(file, sent, DELAY_MS);
    for (const e of expected) expect(got.get(`${e.key}|${e.windowStart}`)!.value, `house ${e.key} window ${e.windowStart}`).toBeCloseTo(e.sum, 6);
    expect(back.proc.stderr()).toMatch(/app plug-totals v1 running/);
  }, 120_000);
});
