import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFailed } from 'vitest';
import { sluice } from '../support/bundle.ts';
import { crashRig } from './split-app.ts';

const EVENTS = 200_000;
const KILLS = 3;

// The cloud reaches the broker through the rig's proxy: its traffic tells how far it has got.
const rig = crashRig('cloudcrash', EVENTS);
const parts = rig.parts;

describe('the cloud process killed with SIGKILL mid-stream and restarted', () => {
  // The cloud acks an event only once every window holding it has fired and been written, and
  // it saves the watermark those results are final up to before it acks: a restarted cloud gets
  // every event of every window still open again, and fires no finished window a second time.
  it(`${KILLS} kills over ${EVENTS.toLocaleString()} events: every window equals the app run whole`, async () => {
    const { dir, app, input, broker, proxy } = rig;
    const whole = await sluice(['run', app, '--in', `readings=${input}`, '--out', `sums=${join(dir, 'whole.jsonl')}`, '--quiet']);
    expect(whole.code).toBe(0);
    const out = join(dir, 'sums.jsonl');
    const cloudArgs = ['--part', 'cloud', '--broker', proxy.url, '--out', `sums=${out}`, '--expect', 'gw-1', '--state', join(dir, 'cloud')];
    const edge = parts.start(['--part', 'edge', '--broker', broker.url, '--in', `readings=${input}`, '--producer', 'gw-1', '--state', join(dir, 'edge')]);
    const logs: string[] = [];
    onTestFailed(() => { console.error(`cloud runs:\n${logs.join('\n---\n')}\nedge:\n${edge.stderr()}`); });
    for (let kill = 0; kill < KILLS; kill++) {
      const cloud = parts.start(cloudArgs);
      const before = proxy.stats().down.bytes;
      await proxy.waitFor((s) => s.down.bytes > before + 400_000);
      cloud.child.kill('SIGKILL');
      expect((await cloud.exit).signal).toBe('SIGKILL');
      logs.push(cloud.stderr());
    }
    const last = parts.start(cloudArgs);
    const [edgeExit, cloudExit] = await Promise.all([edge.exit, last.exit]);
    logs.push(last.stderr());
    expect(edgeExit.code, edge.stderr()).toBe(0);
    expect(cloudExit.code, last.stderr()).toBe(0);

    const rows = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { m: string; start: number; sum: number });
    const want = new Map(rows(join(dir, 'whole.jsonl')).map((r) => [`${r.m}@${r.start}`, r.sum]));
    const lines = rows(out);
    // A window written just before a kill, whose events were not acked yet, is written again
    // after the restart, complete both times; any other difference is a lost or extra event.
    const got = new Map<string, number[]>();
    for (const r of lines) (got.get(`${r.m}@${r.start}`) ?? got.set(`${r.m}@${r.start}`, []).get(`${r.m}@${r.start}`)!).push(r.sum);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    const wrong = [...got].filter(([k, sums]) => sums.some((s) => s !== want.get(k)));
    expect(wrong).toEqual([]);
    console.log(`cloud crash test: ${KILLS} kills; ${lines.length - want.size} windows written twice (complete both times)`);
  }, 240_000);
});
