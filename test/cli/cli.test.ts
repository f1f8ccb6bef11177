import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBundle, ROOT, sluice } from '../support/bundle.ts';

let dir: string;
beforeAll(() => {
  ensureBundle();
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const APP = `import { defineApp, tumbling } from 'sluice';
export default defineApp('sums', (app, params) => {
  app.source('readings', { format: 'json', eventTime: 'ts', maxDelay: params.duration('maxDelay', 0) })
    .keyBy((r) => r.id).window(tumbling(params.duration('window', '10s'))).sum((r) => r.v)
    .map((w) => ({ id: w.key, start: w.windowStart, sum: w.value })).sink('sums');
});
`;

describe('sluice --help and errors', () => {
  it('--help lists the commands; each command explains its flags', async () => {
    const main = await sluice(['--help']);
    expect(main.code).toBe(0);
    for (const cmd of ['run', 'build', 'demo']) expect(main.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    const run = await sluice(['run', '--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--in NAME=PATH|-', '--out NAME=PATH|-', '--param KEY=VALUE', '--metrics']) expect(run.stdout).toContain(flag);
  });

  it('a wrong flag, an unknown command and a missing file give one line and a non-zero exit', async () => {
    const cases = [
      [['run', 'x.ts', '--bogus'], /unknown flag --bogus.*sluice run --help/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['run', 'nope.ts'], /app file nope\.ts does not exist/],
      [['run', join(ROOT, 'examples/cdn-per-minute.ts'), '--in', 'logs=/no/such/file'], /input file \/no\/such\/file does not exist; at source "logs"/],
      [['run', join(ROOT, 'examples/cdn-per-minute.ts'), '--in', 'logs'], /--in logs is not NAME=VALUE/],
    ] as const;
    for (const [args, message] of cases) {
      const r = await sluice(args);
      expect(r.code, args.join(' ')).toBeGreaterThan(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });

  it('an app that throws while building its graph gets one line, not a stack trace', async () => {
    const app = join(dir, 'throws.ts');
    writeFileSync(app, `import { defineApp } from 'sluice';
export default defineApp('throws', (app, params) => { if (!params.string('path', '')) throw new Error('--param path is required'); app.source('in').sink('out'); });`);
    const r = await sluice(['run', app, '--in', 'in=-']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['sluice run: app "throws" failed while building its graph: --param path is required; at app "throws"; fix: check its --param values and the files it reads']);
  });

  it('an app with several sinks must bind each, so outputs never mix on stdout', async () => {
    const r = await sluice(['run', join(ROOT, 'examples/cdn-per-minute.ts'), '--in', 'logs=-', '--out', 'results=-']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sink "late" has no output.*--out late=FILE/);
  });

  it('an app that fails validation is refused with the operator and the fix', async () => {
    const bad = join(dir, 'bad.ts');
    writeFileSync(bad, `import { defineApp, tumbling } from 'sluice';
export default defineApp('bad', (app) => { app.source('in').keyBy((v) => v).window(tumbling('1m')).count().sink('out'); });`);
    const r = await sluice(['run', bad, '--in', 'in=-']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/event-time window needs event time, but "in" has none.*fix:/);
  });
});

describe('sluice run', () => {
  it('reads stdin, writes stdout, reads params, and dead-letters bad lines', async () => {
    const app = join(dir, 'sums.ts');
    writeFileSync(app, APP);
    const input = ['{"ts":1000,"id":"a","v":1}', '{"ts":2000,"id":"a","v":2}', 'oops', '{"ts":6000,"id":"b","v":5}', '{"ts":12000,"id":"a","v":7}'].join('\n');
    const r = await sluice(['run', app, '--in', 'readings=-', '--out', 'sums=-', '--param', 'window=5s', '--out', `dead-letter=${join(dir, 'dead.jsonl')}`], { input });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { id: 'a', start: 0, sum: 3 }, { id: 'b', start: 5000, sum: 5 }, { id: 'a', start: 10000, sum: 7 },
    ]);
    const dead = readFileSync(join(dir, 'dead.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(dead).toMatchObject([{ op: 'readings', payload: 'oops', reason: expect.stringMatching(/^line 3: not valid JSON/) }]);
    expect(r.stderr).toMatch(/source readings: 5 records, 4 events, 1 dead-lettered/);
  });

  it('a built artifact runs with the bundle alone, with no node_modules anywhere near', async () => {
    const app = join(dir, 'sums.ts');
    writeFileSync(app, APP);
    const out = join(dir, 'apps');
    const built = await sluice(['build', app, '--out-dir', out]);
    expect(built.code).toBe(0);
    const [artifact] = readdirSync(out);
    const hash = /sha256 ([0-9a-f]{64})/.exec(built.stdout)![1]!;
    expect(artifact).toBe(`sums.${hash.slice(0, 12)}.mjs`);
    const artifactText = readFileSync(join(out, artifact!), 'utf8');
    // The artifact reaches the runtime through a global; it carries no copy of it.
    expect(artifactText.length).toBeLessThan(4000);
    expect(artifactText).not.toMatch(/WindowOp|AlignedWindows|assembleGraph/);
    // A bare directory: only the bundle, the artifact and the input.
    const bare = mkdtempSync(join(tmpdir(), 'sluice-bare-'));
    try {
      copyFileSync(join(ROOT, 'dist/sluice.mjs'), join(bare, 'sluice.mjs'));
      copyFileSync(join(out, artifact!), join(bare, 'app.mjs'));
      writeFileSync(join(bare, 'in.jsonl'), '{"ts":1,"id":"x","v":4}\n{"ts":2,"id":"x","v":6}\n');
      const r = await sluice(['run', 'app.mjs', '--in', 'readings=in.jsonl', '--out', 'sums=out.jsonl'], { cwd: bare, bundle: join(bare, 'sluice.mjs') });
      expect(r.stderr).not.toMatch(/Cannot find/);
      expect(r.code).toBe(0);
      expect(JSON.parse(readFileSync(join(bare, 'out.jsonl'), 'utf8'))).toEqual({ id: 'x', start: 0, sum: 10 });
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('--metrics writes per-operator counts', async () => {
    const app = join(dir, 'sums.ts');
    writeFileSync(app, APP);
    const r = await sluice(['run', app, '--in', 'readings=-', '--out', 'sums=-', '--metrics', '-', '--quiet'], { input: '{"ts":1,"id":"x","v":4}\n' });
    const metrics = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(metrics.operators.find((o: { id: string }) => o.id === 'readings')).toMatchObject({ in: 1, out: 1, deadLettered: 0 });
    expect(r.stderr).toBe('');
  });
});
