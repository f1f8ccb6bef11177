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
  // Exactly once: input positions ride in the outbox, so a restart resumes after what is
  // durable. A kill inside a group commit can tear a batch (its first events durable, the
  // record carrying its position not); the batch is read again and its first events, already
  // in the outbox, are skipped. This test found the torn batch, about one run in five.
  it(`${KILLS} kills over ${EVENTS.toLocaleString()} events: every window equals the app run whole, none short or over by an event`, async () => {
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
    // Values are never negative after the edge's filter: a lost event shows as a smaller sum, one stored twice as a larger.
    const wrong = [...want].filter(([k, v]) => got.get(k) !== v).map(([k, v]) => `${k}: ${got.get(k)} instead of ${v}`);
    expect(wrong).toEqual([]);
    const torn = logs.filter((l) => /stopped inside a write/.test(l)).length;
    console.log(`edge crash test: ${kills} kills; ${torn} restart(s) found a torn batch and skipped its stored events`);
    // Restarts resumed from the outbox instead of re-reading the input from its start.
    expect(logs.join('\n')).toMatch(/source-resumed/);
  }, 240_000);
});
