import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFailed } from 'vitest';
import { sluice } from '../support/bundle.ts';
import { crashRig } from './split-app.ts';

const EVENTS = 200_000;
const KILLS = 10;

const rig = crashRig('crashy', EVENTS);
const start = (args: string[]) => rig.parts.start(args);

describe('the edge process killed with SIGKILL mid-stream', () => {
  // At least once: nothing is lost. Exactly-once is the aim (input positions ride in the
  // outbox), but a kill inside a group commit can tear a batch so that its first events are
  // durable while the record carrying its position is not; that batch is then read again.
  // Making recovery batch-atomic is open work (issue 3); this test found it, ~1 run in 5.
  it(`${KILLS} kills over ${EVENTS.toLocaleString()} events: every window the app run whole produces arrives, none short of an event`, async () => {
    const { dir, app, input, broker, proxy } = rig;
    const whole = await sluice(['run', app, '--in', `readings=${input}`, '--out', `sums=${join(dir, 'whole.jsonl')}`, '--quiet']);
    expect(whole.code).toBe(0);
    const expected = readFileSync(join(dir, 'whole.jsonl'), 'utf8').trim().split('\n').sort();

    const out = join(dir, 'sums.jsonl');
    const cloud = start(['--part', 'cloud', '--broker', broker.url, '--out', `sums=${out}`, '--expect', 'gw-1', '--state', join(dir, 'cloud-state')]);
    const edgeArgs = ['--part', 'edge', '--broker', proxy.url, '--in', `readings=${input}`, '--producer', 'gw-1', '--state', join(dir, 'state')];
    const logs: string[] = [];
    onTestFailed(() => { console.error(`edge runs:\n${logs.join('\n---\n')}\ncloud:\n${cloud.stderr()}`); });
    let kills = 0;
    for (; kills < KILLS; kills++) {
      const edge = start(edgeArgs);
      // Kill once this run has sent some more through the link, wherever it is in its work:
      // alternately soon after the restart (while it re-sends what the cloud already holds) and later.
      const before = proxy.stats().up.bytes;
      const more = kills % 2 === 0 ? 3_000 : 100_000;
      const progressed = proxy.waitFor((s) => s.up.bytes > before + more).then(() => 'progressed' as const);
      const outcome = await Promise.race([progressed, edge.exit.then(() => 'exited' as const)]);
      logs.push(edge.stderr());
      if (outcome === 'exited') break; // it finished before the next kill point
      edge.child.kill('SIGKILL');
      expect((await edge.exit).signal).toBe('SIGKILL');
    }
    const last = start(edgeArgs);
    const lastExit = await last.exit;
    logs.push(last.stderr());
    expect(lastExit.code, last.stderr()).toBe(0);
    expect((await cloud.exit).code, cloud.stderr()).toBe(0);
    expect(kills).toBeGreaterThanOrEqual(KILLS);
    const sums = (lines: string[]) => new Map(lines.map((l) => { const r = JSON.parse(l) as { m: string; start: number; sum: number }; return [`${r.m}@${r.start}`, r.sum]; }));
    const got = sums(readFileSync(out, 'utf8').trim().split('\n'));
    const want = sums(expected);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    // Values are never negative after the edge's filter, so a lost event shows as a smaller sum.
    const short = [...want].filter(([k, v]) => got.get(k)! < v);
    expect(short).toEqual([]);
    const extra = [...want].reduce((n, [k, v]) => n + (got.get(k)! - v), 0);
    console.log(`edge crash test: ${kills} kills; sums over the expected by ${extra} (events read twice after a torn batch)`);
    // Restarts resumed from the outbox instead of re-reading the input from its start.
    expect(logs.join('\n')).toMatch(/source-resumed/);
  }, 240_000);
});
