import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startAedes, type AedesTestBroker } from '../support/brokers.ts';
import { ensureBundle, sluice } from '../support/bundle.ts';
import { partStarter } from './split-app.ts';

/** An app with no pins: the planner splits its mean into a partial per gateway and a cloud merge. */
const APP = `import { defineApp, tumbling } from 'sluice';
export default defineApp('split-mean', (app) => {
  const means = app.source('readings', { format: 'json', eventTime: 'ts', maxDelay: 1000 })
    .filter((r) => r.v >= 0)
    .keyBy((r) => r.m)
    .window(tumbling('10s'), { allowedLateness: '10s' }).mean((r) => r.v);
  means.map((w) => ({ m: w.key, start: w.windowStart, mean: w.value, revision: w.revision })).sink('means');
  means.late().sink('late');
});
`;

interface Mean { m: string; start: number; mean: number; revision: number }

let dir: string;
let app: string;
let broker: AedesTestBroker;
const parts = partStarter(() => app);

// Every 50th reading is 7 s late: past the 1 s bounded disorder, within the 10 s allowed lateness.
const input = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ ts: i * 10 - (i % 50 === 49 ? 7000 : 0), m: `m${i % 7}`, v: (i % 13) - (i % 101 === 0 ? 20 : 0) }));

beforeAll(async () => {
  ensureBundle();
  dir = mkdtempSync(join(tmpdir(), 'sluice-split-merge-'));
  app = join(dir, 'app.ts');
  writeFileSync(app, APP);
  writeFileSync(join(dir, 'all.jsonl'), `${input.join('\n')}\n`);
  // Two gateways, each with every other reading: every machine's readings come from both.
  for (const g of [0, 1]) writeFileSync(join(dir, `gw-${g + 1}.jsonl`), `${input.filter((_, i) => i % 2 === g).join('\n')}\n`);
  broker = await startAedes();
});
afterEach(() => parts.killAll());
afterAll(async () => {
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

const readMeans = (path: string): Mean[] => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Mean);

/** The latest revision of each machine and window: what a reader of the results ends up with. */
function finals(means: readonly Mean[]): Map<string, number> {
  const last = new Map<string, Mean>();
  for (const r of means) {
    const id = `${r.m}|${r.start}`;
    if ((last.get(id)?.revision ?? -1) < r.revision) last.set(id, r);
  }
  return new Map([...last].map(([id, r]) => [id, Math.round(r.mean * 1e9) / 1e9]));
}

async function whole(): Promise<Mean[]> {
  const r = await sluice(['run', app, '--in', `readings=${join(dir, 'all.jsonl')}`, '--out', `means=${join(dir, 'whole.jsonl')}`, '--out', `late=${join(dir, 'whole-late.jsonl')}`, '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  return readMeans(join(dir, 'whole.jsonl'));
}

async function split(name: string, gateways: string[]): Promise<{ means: Mean[]; late: string; cloud: string }> {
  const out = join(dir, `${name}.jsonl`);
  const lateOut = join(dir, `${name}-late.jsonl`);
  const cloud = parts.start(['--part', 'cloud', '--broker', broker.url, '--out', `means=${out}`, '--out', `late=${lateOut}`, '--expect', gateways.map((_, g) => `${name}-gw-${g + 1}`).join(','), '--state', join(dir, `${name}-cloud`)]);
  const edges = gateways.map((file, g) => parts.start(['--part', 'edge', '--broker', broker.url, '--in', `readings=${file}`, '--producer', `${name}-gw-${g + 1}`, '--state', join(dir, `${name}-gw-${g + 1}`)]));
  onTestFailed(() => { console.error(`cloud stderr:\n${cloud.stderr()}\n${edges.map((e, g) => `edge ${g + 1} stderr:\n${e.stderr()}`).join('\n')}`); });
  for (const e of edges) expect((await e.exit).code, e.stderr()).toBe(0);
  expect((await cloud.exit).code, cloud.stderr()).toBe(0);
  return { means: readMeans(out), late: readFileSync(lateOut, 'utf8'), cloud: cloud.stderr() };
}

describe('an auto mean split into partials at the gateways and a merge in the cloud, as real processes', () => {
  it('one gateway: the same results as the app run whole, late updates included', async () => {
    const expected = await whole();
    expect(expected.some((r) => r.revision > 0)).toBe(true);
    const { means, late, cloud } = await split('one', [join(dir, 'all.jsonl')]);
    // Revision 0 of a window may already hold a late reading that shared a frame with the
    // watermark that fired it (a frame's watermark applies after all its events), so compare
    // what each window ends up as, and that no window is missing or extra.
    expect(finals(means)).toEqual(finals(expected));
    expect(late).toBe('');
    expect(cloud).toMatch(/window readings\/filter\/keyBy\/aggregate: \d+ events/);
  });

  it('two gateways sharing every machine: merged per machine and window, as the whole app over both inputs', async () => {
    const expected = await whole();
    const { means, late } = await split('two', [join(dir, 'gw-1.jsonl'), join(dir, 'gw-2.jsonl')]);
    expect(finals(means)).toEqual(finals(expected));
    expect(late).toBe('');
  });
});
