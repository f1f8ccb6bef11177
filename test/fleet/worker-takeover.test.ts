import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { ensureBundle, sluice } from '../support/bundle.ts';
import { fleetProcesses, runs, watchStatuses } from './fleet-processes.ts';
import { readWindows, sendPlugReadings, untilClosedWindows, untilFile } from './plug-data.ts';

const DELAY_MS = 1500;

describe('cloud workers: the keyed cloud part in partitions over two workers', () => {
  const procs = fleetProcesses();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fleet-workers-'));
  afterAll(() => { procs.killAll(); rmSync(dir, { recursive: true, force: true }); });

  it('a worker killed mid-stream has its partitions taken over; the windows of every house equal the batch', async () => {
    ensureBundle();
    const cloud = await procs.cloud(join(dir, 'cloud'));
    const statuses = await watchStatuses(cloud.mqttUrl);
    onTestFailed(() => {
      for (const id of ['cloud-0', 'w-1']) console.error(`${id}: ${JSON.stringify(statuses.latest(id)?.apps)}`);
      const letters = join(dir, 'cloud', 'worker', 'apps', 'plug-totals', 'dead-letter.jsonl');
      console.error(`cloud-0 dead letters:\n${existsSync(letters) ? readFileSync(letters, 'utf8').slice(0, 3000) : 'none'}`);
    });
    const w1 = await procs.worker('w-1', cloud.mqttUrl, join(dir, 'w-1'));
    const gws = await Promise.all(['gw-1', 'gw-2'].map((id) => procs.edge(id, cloud.mqttUrl, join(dir, id), ['site=wk'])));
    await Promise.all(['gw-1', 'gw-2', 'cloud-0', 'w-1'].map((id) => statuses.until(id, (s) => s.online)));
    const deployed = await sluice(['deploy', 'test/fleet/plug-totals.ts', '--cloud', cloud.httpUrl, '--partitions', '4', '--param', `delay=${DELAY_MS}ms`]);
    expect(deployed.code).toBe(0);
    expect(deployed.stdout).toMatch(/cloud part in 4 partition\(s\) \(.*partitioned by key\), on cloud-0 \(0,2\) w-1 \(1,3\)/);
    const owns = (parts: number[]) => (s: Parameters<Parameters<typeof statuses.until>[1]>[0]) =>
      runs('plug-totals', 1)(s) && JSON.stringify(s.apps?.find((a) => a.app === 'plug-totals')?.partitions) === JSON.stringify(parts);
    await Promise.all([statuses.until('cloud-0', owns([0, 2])), statuses.until('w-1', owns([1, 3])), ...['gw-1', 'gw-2'].map((id) => statuses.until(id, runs('plug-totals', 1)))]);

    // 40 plugs per gateway in houses 0 and 1 on both gateways: house 0 is in partition 0
    // (cloud-0), house 1 in partition 3 (w-1). w-1 dies once it has written some windows.
    const sending = Promise.all(gws.map((g, i) => sendPlugReadings(g.localUrl, { seed: 61 + i, devices: 40, rate: 10, readings: 6000 })));
    const sink = (node: string) => join(dir, node === 'cloud-0' ? join('cloud', 'worker') : node, 'apps', 'plug-totals', 'sinks', 'house-totals.jsonl');
    const w1Sink = sink('w-1');
    await untilFile(w1Sink, () => ([...readWindows(w1Sink).values()].filter((w) => w.key === 1).length >= 3 ? true : undefined));
    w1.proc.child.kill('SIGKILL');
    await w1.proc.exit;

    // Its last-will moves partitions 1 and 3 to cloud-0, which resumes them where w-1's results
    // were final (w-1 kept that on the broker), so it does not fire again from resent partials
    // the windows w-1 had written.
    await statuses.until('cloud-0', owns([0, 1, 2, 3]));
    // The lane logs where it resumes before the status shows it running.
    const line = /app plug-totals partition 3 resumes at watermark (\d+)/.exec(cloud.proc.stderr());
    expect(line, 'cloud-0 resumed partition 3 at w-1\'s final watermark').not.toBeNull();
    const resumed = Number(line![1]);
    const firstWritten = Math.min(...[...readWindows(w1Sink).values()].filter((w) => w.key === 1).map((w) => w.windowEnd));
    expect(resumed).toBeGreaterThanOrEqual(firstWritten);
    const sent = await sending;
    const { expected, got } = await untilClosedWindows([w1Sink, sink('cloud-0')], sent, DELAY_MS);
    expect(expected.filter((e) => e.key === '1').length).toBeGreaterThan(8);
    for (const e of expected) expect(got.get(`${e.key}|${e.windowStart}`)?.value, `house ${e.key} window ${e.windowStart}`).toBeCloseTo(e.sum, 6);
    // Both workers wrote house 1: w-1 before it died, cloud-0 after taking its partition over.
    const [before, after] = [readWindows(w1Sink), readWindows(sink('cloud-0'))].map((m) => [...m.values()].filter((w) => w.key === 1).length);
    expect(before).toBeGreaterThanOrEqual(3);
    expect(after).toBeGreaterThan(0);
    // What cloud-0 refused is only what w-1 had made final but not acked yet, sent again.
    const letters = join(dir, 'cloud', 'worker', 'apps', 'plug-totals', 'dead-letter.jsonl');
    const reasons = existsSync(letters) ? readFileSync(letters, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { reason: string }).reason) : [];
    for (const r of reasons) expect(r).toMatch(/before this part \(re\)started: resent after a crash or takeover/);
    const apps = JSON.parse((await sluice(['apps', '--cloud', cloud.httpUrl, '--json'])).stdout) as { owners: string[] }[];
    expect(apps[0]!.owners).toEqual(['cloud-0', 'cloud-0', 'cloud-0', 'cloud-0']);
    const table = (await sluice(['status', '--cloud', cloud.httpUrl])).stdout;
    expect(table).toMatch(/cloud-0\s+online\s+plug-totals v1\s+running, partitions 0,1,2,3\s/);
    expect(table).toMatch(/w-1\s+offline\s/);

    // w-1 comes back on its old disk: it runs none of the partitions it had, since they moved.
    const back = await procs.worker('w-1', cloud.mqttUrl, join(dir, 'w-1'));
    await statuses.until('w-1', owns([]));
    expect(back.proc.stderr()).toMatch(/app plug-totals v1 running \(partitions none\)/);
    expect(back.proc.stderr()).not.toMatch(/partition [13] resumes|partitions 1,3/);
    expect(statuses.latest('cloud-0')!.apps![0]!.partitions).toEqual([0, 1, 2, 3]);
    await statuses.close();
  }, 120_000);

  it('a restarted coordinator moves the partitions of a worker it does not hear from within --worker-grace', async () => {
    const data = join(dir, 'cloud-grace');
    const cloud = await procs.cloud(data, 0, ['--worker-grace', '1s']);
    let statuses = await watchStatuses(cloud.mqttUrl);
    const w2 = await procs.worker('w-2', cloud.mqttUrl, join(dir, 'w-2'));
    await procs.edge('gw-9', cloud.mqttUrl, join(dir, 'gw-9'), ['site=grace']);
    await Promise.all(['gw-9', 'cloud-0', 'w-2'].map((id) => statuses.until(id, (s) => s.online)));
    const deployed = await sluice(['deploy', 'test/fleet/plug-totals.ts', '--cloud', cloud.httpUrl, '--gateways', 'site=grace', '--partitions', '2']);
    expect(deployed.stdout).toMatch(/on cloud-0 \(0\) w-2 \(1\)/);
    await statuses.close();
    // The broker (inside the cloud process) dies with the coordinator, then w-2: no last-will of w-2 is left anywhere.
    cloud.proc.child.kill('SIGKILL');
    await cloud.proc.exit;
    w2.proc.child.kill('SIGKILL');
    await w2.proc.exit;
    const again = await procs.cloud(data, cloud.mqttPort, ['--worker-grace', '1s']);
    statuses = await watchStatuses(again.mqttUrl);
    await statuses.until('cloud-0', (s) => runs('plug-totals', 1)(s) && JSON.stringify(s.apps?.[0]?.partitions) === '[0,1]');
    await again.proc.waitFor(/plug-totals: partitions 0→cloud-0 1→cloud-0/);
    const apps = JSON.parse((await sluice(['apps', '--cloud', again.httpUrl, '--json'])).stdout) as { owners: string[] }[];
    expect(apps[0]!.owners).toEqual(['cloud-0', 'cloud-0']);
    await statuses.close();
  }, 60_000);
});
