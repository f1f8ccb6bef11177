import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBundle, ROOT, sluice } from '../support/bundle.ts';

let dir: string;
let app: string;
beforeAll(() => {
  ensureBundle();
  dir = mkdtempSync(join(tmpdir(), 'sluice-plan-'));
  app = join(dir, 'plant.ts');
  writeFileSync(app, `import { defineApp, tumbling } from 'sluice';
export default defineApp('plant', (app, params) => {
  const clean = app.source('readings', { format: 'json', eventTime: 'ts', maxDelay: 1000 }).filter((r) => r.v >= 0);
  const w = clean.keyBy((r) => r.m).window(tumbling(params.duration('window', '1m')), { allowedLateness: '10s' });
  const means = w.mean((r) => r.v).name('means');
  means.sink('means');
  means.late().sink('late');
  w.reduce((a, b) => (a.v > b.v ? a : b)).name('peaks').sink('peaks');
});
`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sluice plan', () => {
  it('prints each operator, where it runs and why, and the channels that cross', async () => {
    const r = await sluice(['plan', app]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Placement of app "plant" (9 operators):');
    expect(r.stdout).toContain('readings\n  runs: edge, on every selected gateway\n  why:  a source runs where its devices are: on every gateway, over its own devices\n');
    expect(r.stdout).toContain('means\n  runs: split: a partial at the edge on every selected gateway ("means/partial"), the final merge in the cloud\n  why:  a mean over tumbling windows is decomposable:');
    expect(r.stdout).toMatch(/peaks\n {2}runs: cloud\n {2}why: {2}a reduce over tumbling windows keeps state per key, and a key may span gateways; a reduce is not one of the decomposable aggregates/);
    expect(r.stdout).toContain('means/late\n  runs: cloud\n  why:  with its window\'s final merge in the cloud');
    expect(r.stdout).toContain('Channels where data crosses (2):\n'
      + '  0-means_partial: means/partial (edge) -> means (cloud), grouped by key\n'
      + '  1-readings_filter_keyBy: readings/filter/keyBy (edge) -> peaks (cloud), grouped by key\n');
    // Both channels into the cloud are keyed and nothing there re-keys: it can run in partitions.
    expect(r.stdout).toContain('\nCloud part: in partitions by key, spread over the cloud workers (sluice deploy --partitions N)');
  });

  it('--json gives the same plan as data', async () => {
    const r = await sluice(['plan', app, '--json', '--param', 'window=30s']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { app: string; operators: { id: string; where: string; rule: string; reason: string; partial?: string }[]; channels: unknown[] };
    expect(plan.app).toBe('plant');
    expect(plan.operators.map((o) => [o.id, o.where, o.rule])).toEqual([
      ['readings', 'edge', 'source'],
      ['readings/filter', 'edge', 'follows-input'],
      ['readings/filter/keyBy', 'edge', 'follows-input'],
      ['means', 'split', 'decomposable-split'],
      ['sink:means', 'cloud', 'input-in-cloud'],
      ['means/late', 'cloud', 'late-with-window'],
      ['sink:late', 'cloud', 'input-in-cloud'],
      ['peaks', 'cloud', 'not-splittable'],
      ['sink:peaks', 'cloud', 'input-in-cloud'],
    ]);
    expect(plan.operators.find((o) => o.id === 'means')!.partial).toBe('means/partial');
    expect((plan as unknown as { cloudPartitioning: { byKey: boolean } }).cloudPartitioning.byKey).toBe(true);
    expect(plan.channels).toEqual([
      { name: '0-means_partial', from: 'means/partial', to: 'means', grouping: 'key', fromPart: 'edge', toPart: 'cloud' },
      { name: '1-readings_filter_keyBy', from: 'readings/filter/keyBy', to: 'peaks', grouping: 'key', fromPart: 'edge', toPart: 'cloud' },
    ]);
  });

  it('is listed in sluice --help and explains itself with --help', async () => {
    expect((await sluice(['--help'])).stdout).toMatch(/^ {2}plan {5}show where each operator runs/m);
    const h = await sluice(['plan', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Usage: sluice plan <app.ts|artifact.mjs> [--json]');
    expect(h.stdout).toContain('split into a partial per gateway and a merge in the cloud');
    expect(h.stdout).toContain('--json');
  });

  it('errors are one line: what, where, fix', async () => {
    const cases = [
      [['plan'], /^sluice plan: no app given; at the command line; fix: sluice plan <app\.ts\|artifact\.mjs>$/],
      [['plan', 'nope.ts'], /^sluice plan: app file nope\.ts does not exist; fix: /],
      [['plan', join(ROOT, 'examples/cdn-per-minute.ts'), '--bogus'], /unknown flag --bogus for `sluice plan`; fix: see `sluice plan --help`/],
    ] as const;
    for (const [args, message] of cases) {
      const r = await sluice(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(message);
    }
  });
});
