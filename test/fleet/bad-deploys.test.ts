import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactHash } from '../../shared/runtime/index.ts';
import { ensureBundle, sluice } from '../support/bundle.ts';
import { fleetProcesses, runs, watchStatuses } from './fleet-processes.ts';

describe('bad deploys are refused with a clear message and change nothing running', () => {
  const procs = fleetProcesses();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-fleet-bad-'));
  let cloud: Awaited<ReturnType<typeof procs.cloud>>;
  let statuses: Awaited<ReturnType<typeof watchStatuses>>;
  let before: unknown;

  const apps = async () => JSON.parse((await sluice(['apps', '--cloud', cloud.httpUrl, '--json'])).stdout) as unknown;
  const unchanged = async () => {
    expect(await apps()).toEqual(before);
    expect(statuses.latest('gw-1')!.apps!.map((a) => [a.app, a.version, a.state])).toEqual([['plug-totals', 1, 'running']]);
  };
  const appFile = (name: string, body: string) => {
    const path = join(dir, name);
    writeFileSync(path, `import { defineApp, tumbling } from 'sluice';\n${body}\n`);
    return path;
  };

  beforeAll(async () => {
    ensureBundle();
    cloud = await procs.cloud(join(dir, 'cloud'));
    statuses = await watchStatuses(cloud.mqttUrl);
    await procs.edge('gw-1', cloud.mqttUrl, join(dir, 'gw-1'), ['site=plant']);
    await statuses.until('gw-1', (s) => s.online);
    expect((await sluice(['deploy', 'test/fleet/plug-totals.ts', '--cloud', cloud.httpUrl])).code).toBe(0);
    await statuses.until('gw-1', runs('plug-totals', 1));
    before = await apps();
  }, 60_000);

  afterAll(async () => {
    await statuses?.close();
    procs.killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an app that fails validation (a window on a stream without event time)', async () => {
    const bad = appFile('no-time.ts', "export default defineApp('plug-totals', (app) => { app.source('plugs').keyBy((r) => r.house).window(tumbling('1s')).count().sink('o'); });");
    const r = await sluice(['deploy', bad, '--cloud', cloud.httpUrl]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^sluice deploy: .*event time.*fix: /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    await unchanged();
  });

  it('an app whose module throws when loaded', async () => {
    const bad = appFile('throws.ts', "throw new Error('config file missing');\nexport default defineApp('plug-totals', () => {});");
    const r = await sluice(['deploy', bad, '--cloud', cloud.httpUrl]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the app does not load: config file missing/);
    await unchanged();
  });

  it('an artifact whose bytes do not match the hash sent with it', async () => {
    const built = await sluice(['build', 'test/fleet/plug-totals.ts', '--out-dir', join(dir, 'built')]);
    expect(built.code).toBe(0);
    const path = /(\S+\.mjs)/.exec(built.stdout)![1]!;
    const bytes = readFileSync(path);
    const res = await fetch(`${cloud.httpUrl}/api/apps`, { method: 'POST', body: bytes, headers: { 'x-sluice-sha256': artifactHash(Buffer.concat([bytes, Buffer.from(' ')])) } });
    expect(res.status).toBe(400);
    const body = await res.json() as { code: string; error: string };
    expect(body.code).toBe('DEPLOY_HASH_MISMATCH');
    expect(body.error).toMatch(/fix: /);
    await unchanged();
  });

  it('a selector matching no gateway, and an app that is not deployed', async () => {
    const r = await sluice(['deploy', 'test/fleet/plug-totals.ts', '--cloud', cloud.httpUrl, '--gateways', 'site=nowhere', '--param', 'window=2s']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/gateway selector "site=nowhere" matches no gateway.*gw-1 \[site=plant\]/);
    const u = await sluice(['undeploy', 'nothing-here', '--cloud', cloud.httpUrl]);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/no app named "nothing-here" is deployed.*deployed: plug-totals/);
    await unchanged();
  });

  it('a partition count that is not a number, and a redeploy that would change the count', async () => {
    const r = await sluice(['deploy', 'test/fleet/plug-totals.ts', '--cloud', cloud.httpUrl, '--partitions', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/partitions "many" is not a whole number; fix: write e\.g\. --partitions 4/);
    // plug-totals runs with the default 4 partitions: the gateways' outboxes are cut by that count.
    const again = await sluice(['deploy', 'test/fleet/plug-totals.ts', '--cloud', cloud.httpUrl, '--partitions', '2', '--param', 'window=2s']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/plug-totals runs with 4 partition\(s\); a redeploy keeps that count.*fix: undeploy plug-totals first/);
    await unchanged();
  });

  it('a cloud that is not there is named, with how to start one', async () => {
    const r = await sluice(['apps', '--cloud', 'http://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach the cloud at http:\/\/127\.0\.0\.1:1 .*fix: start it with `sluice cloud`/);
  });
});
