import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defineApp, type ExecOptions } from '../dsl/index.ts';
import { startRun } from '../runtime/index.ts';
import type { StatusEvent } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-exec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a Node program the operator will run as a child process. */
function program(name: string, code: string): string[] {
  const path = join(dir, name);
  writeFileSync(path, code);
  return [process.execPath, path];
}

async function runExec(command: string | string[], values: unknown[], opts: ExecOptions = {}) {
  const out: unknown[] = [];
  const letters: { reason: string; payload: unknown }[] = [];
  const status: StatusEvent[] = [];
  const graph = defineApp('x', (a) => { a.source('in', { format: 'object' }).exec(command, opts).sink('o'); }).graph();
  const { metrics } = await startRun(graph, {
    sources: { in: { type: 'values', values } },
    sinks: { o: { type: 'collect', onEvent: (v) => out.push(v) }, 'dead-letter': { type: 'collect', onEvent: (v) => letters.push(v as { reason: string; payload: unknown }) } },
    onStatus: (e) => status.push(e),
    batchSize: 50,
  }).done;
  return { out, letters, status, exec: metrics.operators.find((o) => o.kind === 'exec')! };
}

const LINE_LOOP = `
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (l) => { const v = JSON.parse(l); HANDLE });
`;

describe('exec: any program as an operator', () => {
  it('JSON lines in and out, in order, every value', async () => {
    const cmd = program('double.js', LINE_LOOP.replace('HANDLE', 'process.stdout.write(JSON.stringify({ n: v.n * 2 }) + "\\n")'));
    const values = Array.from({ length: 2000 }, (_, n) => ({ n }));
    const { out, exec } = await runExec(cmd, values);
    expect(out).toEqual(values.map((v) => ({ n: v.n * 2 })));
    expect([exec.in, exec.out, exec.restarts]).toEqual([2000, 2000, 0]);
  });

  it('a shell pipeline works as a filter, even when it exits non-zero at the end (grep)', async () => {
    const { out } = await runExec('grep -v skip', ['"keep 1"', '"skip"', '"keep 2"'].map((s) => JSON.parse(s)));
    expect(out).toEqual(['keep 1', 'keep 2']);
    const none = await runExec('grep nothing-matches', ['a', 'b']);
    expect(none.out).toEqual([]);
  });

  it('length-prefixed CBOR frames in and out', async () => {
    const cbor = createRequire(import.meta.url).resolve('cbor-x');
    const cmd = program('cbor.js', `
const { encode, decode } = require(${JSON.stringify(cbor)});
let buf = Buffer.alloc(0);
process.stdin.on('data', (c) => {
  buf = Buffer.concat([buf, c]);
  while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
    const n = buf.readUInt32BE(0); const v = decode(buf.subarray(4, 4 + n)); buf = buf.subarray(4 + n);
    const body = encode({ sum: v.a + v.b, bytes: v.raw.length }); const h = Buffer.alloc(4); h.writeUInt32BE(body.length);
    process.stdout.write(Buffer.concat([h, body]));
  }
});`);
    const values = Array.from({ length: 300 }, (_, i) => ({ a: i, b: 1, raw: new Uint8Array(i % 7) }));
    const { out } = await runExec(cmd, values, { format: 'cbor' });
    expect(out).toEqual(values.map((v) => ({ sum: v.a + 1, bytes: v.raw.length })));
  });

  it('a crash mid-stream is reported and the program restarted; its unparsable output is dead-lettered', async () => {
    const marker = join(dir, 'crashed-once');
    const cmd = program('crashy.js', LINE_LOOP.replace('HANDLE', `
      if (v === 'boom' && !require('node:fs').existsSync(${JSON.stringify(marker)})) { require('node:fs').writeFileSync(${JSON.stringify(marker)}, ''); process.exit(3); }
      if (v === 'garbage') { process.stdout.write('this is not json\\n'); return; }
      process.stdout.write(JSON.stringify(v) + '\\n');`));
    const before = Array.from({ length: 20 }, (_, i) => `a${i}`);
    const after = Array.from({ length: 20 }, (_, i) => `b${i}`);
    let crashed!: () => void;
    const crash = new Promise<void>((r) => { crashed = r; });
    // The rest of the input is sent only once the crash has been reported: no sleeping.
    async function* input() { yield* before; yield 'boom'; await crash; yield 'garbage'; yield* after; }
    const out: unknown[] = [];
    const letters: { reason: string; payload: unknown }[] = [];
    const status: StatusEvent[] = [];
    const graph = defineApp('x', (a) => { a.source('in', { format: 'object' }).exec(cmd, { restartDelay: 10 }).sink('o'); }).graph();
    const { metrics } = await startRun(graph, {
      sources: { in: { type: 'values', values: input() } },
      sinks: { o: { type: 'collect', onEvent: (v) => out.push(v) }, 'dead-letter': { type: 'collect', onEvent: (v) => letters.push(v as { reason: string; payload: unknown }) } },
      onStatus: (e) => { status.push(e); if (e.type === 'exec-crashed') crashed(); },
      batchSize: 5,
    }).done;
    expect(metrics.operators.find((o) => o.kind === 'exec')!.restarts).toBe(1);
    expect(status.find((s) => s.type === 'exec-crashed')).toMatchObject({ code: 3, restartInMs: 10 });
    expect(letters).toMatchObject([{ reason: expect.stringMatching(/not a JSON line/), payload: 'this is not json' }]);
    // Everything sent after the crash reaches the restarted program, in order.
    expect(out.slice(-after.length)).toEqual(after);
  });

  it('a slow program holds the sources back instead of buffering without bound', async () => {
    const cmd = program('slow.js', `
let pending = '';
process.stdin.pause();
const tick = () => { const c = process.stdin.read(4096); if (c) process.stdout.write(c); setTimeout(tick, 1); };
process.stdin.on('readable', () => {}); tick();
process.stdin.on('end', () => setTimeout(() => process.exit(0), 20));`);
    const values = Array.from({ length: 30_000 }, (_, i) => ({ i, pad: 'p'.repeat(50) }));
    const graph = defineApp('slow', (a) => { a.source('in', { format: 'object' }).exec(cmd, { queueCapacity: 500 }).sink('o'); }).graph();
    let got = 0;
    const { metrics } = await startRun(graph, { sources: { in: { type: 'values', values } }, sinks: { o: { type: 'collect', onEvent: () => { got++; } } }, batchSize: 100 }).done;
    expect(got).toBe(values.length);
    expect(metrics.backpressureWaits).toBeGreaterThan(0);
  });

  it('a program that cannot start is reported, not thrown', async () => {
    const status: StatusEvent[] = [];
    const graph = defineApp('nx', (a) => { a.source('in', { format: 'object' }).exec(['/nonexistent/program'], { restartDelay: 5, maxRestartDelay: 5 }).sink('o'); }).graph();
    const run = startRun(graph, { sources: { in: { type: 'values', values: [] } }, sinks: { o: { type: 'collect', onEvent: () => {} } }, onStatus: (e) => status.push(e) });
    await run.done;
    expect(status.some((s) => s.type === 'exec-error' && /ENOENT/.test(s.message))).toBe(true);
  });
});
