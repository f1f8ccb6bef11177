/**
 * A writer process SIGKILLed at random points never loses a record it reported durable:
 * after each kill the log reopens, every reported record above the persisted ack is
 * there, intact and in order, and seqs continue above everything reported. A second run does
 * the same under the priority policy, with kills landing in evictions and compactions.
 * SLUICE_KEEP=1 keeps the log directories for inspection.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDiskLog } from '../../shared/store/index.ts';
import { crashPayload, crashPriority } from './crash-payload.ts';

const work = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
const child = join(work, 'crash-writer-child.mjs');
const live = new Set<ReturnType<typeof spawn>>();

beforeAll(async () => {
  await build({
    entryPoints: [fileURLToPath(new URL('./crash-writer-child.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: child,
    logLevel: 'silent',
  });
});

afterAll(() => {
  for (const p of live) p.kill('SIGKILL');
  if (!process.env.SLUICE_KEEP) rmSync(work, { recursive: true, force: true });
  else console.log('kept', work);
});

/** Seeded so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

type Mode = 'plain' | 'priority';

interface RunReport {
  readonly startSeq: number;
  /** First seq -> [run, record, seqs covered]. */
  readonly durable: Map<number, [number, number, number]>;
  readonly ack: number;
  /** Highest ack the child started: records up to here may be gone. */
  readonly ackMaybe: number;
}

/** Runs the child until `killAfter` durable lines (or `killAtMs`), SIGKILLs it, returns what it reported. */
function runChild(dir: string, mode: Mode, run: number, killAfter: number, killAtMs: number): Promise<RunReport> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dir, String(run), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(p);
    const durable = new Map<number, [number, number, number]>();
    let ack = 0;
    let ackMaybe = 0;
    let startSeq = 0;
    let buf = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    const kill = (): void => void p.kill('SIGKILL');
    p.stdout.setEncoding('utf8');
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdout.on('data', (chunk: string) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        const [t, a, b, c, d] = line.split(' ');
        if (t === 'd') durable.set(Number(a), [Number(b), Number(c), Number(d ?? 1)]);
        else if (t === 'a') ack = Math.max(ack, Number(a));
        else if (t === 'p') ackMaybe = Math.max(ackMaybe, Number(a));
        else if (t === 'r') {
          startSeq = Number(a);
          timer = setTimeout(kill, killAtMs);
        }
      }
      if (durable.size >= killAfter) kill();
    });
    p.on('error', reject);
    p.on('close', (code, signal) => {
      live.delete(p);
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited by itself (code ${code}): ${err}`));
      else resolve({ startSeq, durable, ack, ackMaybe });
    });
  });
}

/**
 * Kills the writer `runs` times. In `priority` mode records of priority 0 may be evicted
 * (the log is small), so only priority-9 records must all survive; every record found must
 * still be intact either way.
 */
async function killRepeatedly(mode: Mode, runs: number, seed: number): Promise<void> {
  const dir = join(work, `log-${mode}`);
  const rand = rng(seed);
  const reported = new Map<number, [number, number, number]>();
  let ack = 0;
  let ackMaybe = 0;
  let maxReported = 0;
  let evicted = 0;
  // In priority mode the kills go on (up to 3x) until an eviction has really been exercised:
  // whether the small log overflows before a kill depends on how far each writer got.
  for (let run = 1; run <= runs || (mode === 'priority' && evicted === 0 && run <= runs * 3); run++) {
    const r = await runChild(dir, mode, run, 1 + Math.floor(rand() * 4000), Math.floor(rand() * 400));
    if (r.startSeq > 0) expect(r.startSeq).toBeGreaterThan(maxReported);
    for (const [seq, v] of r.durable) {
      reported.set(seq, v);
      maxReported = Math.max(maxReported, seq + v[2] - 1);
    }
    ack = Math.max(ack, r.ack);
    ackMaybe = Math.max(ackMaybe, r.ackMaybe, ack);

    const log = await openDiskLog(dir, { segmentBytes: 16 * 1024 });
    try {
      expect(log.stats().nextSeq).toBeGreaterThan(maxReported);
      expect(log.stats().ackedSeq).toBeGreaterThanOrEqual(ack);
      expect(log.stats().ackedSeq).toBeLessThanOrEqual(ackMaybe);
      ack = log.stats().ackedSeq;
      const found = new Map<number, { priority: number; count: number; payload: Uint8Array }>();
      let last = 0;
      for (let next = ack + 1; ; ) {
        const batch = await log.read(next, 1000);
        if (batch.length === 0) break;
        for (const rec of batch) {
          expect(rec.seq).toBeGreaterThan(last);
          last = rec.seq + rec.count - 1;
          found.set(rec.seq, rec);
        }
        next = last + 1;
      }
      for (const [seq, [run2, i, count]] of reported) {
        if (seq + count - 1 <= ack) continue;
        const got = found.get(seq);
        if (!got && mode === 'priority' && crashPriority(i) === 0) {
          evicted++;
          continue;
        }
        expect(got, `seq ${seq} (run ${run2}, record ${i}) reported durable but missing`).toBeDefined();
        expect(Buffer.from(got?.payload ?? []).equals(crashPayload(run2, i)), `seq ${seq} damaged`).toBe(true);
        expect(got?.count, `seq ${seq}: seqs covered`).toBe(count);
        if (mode === 'priority') expect(got?.priority).toBe(crashPriority(i));
      }
      expect(log.stats().corruptRecords).toBe(0);
    } finally {
      await log.close();
    }
    for (const [seq, v] of reported) if (seq + v[2] - 1 <= ack) reported.delete(seq);
  }
  expect(maxReported).toBeGreaterThan(runs);
  if (mode === 'priority') expect(evicted).toBeGreaterThan(0);
}

describe('crash safety under SIGKILL', () => {
  it('keeps every reported-durable record across 24 kills at random points', async () => {
    await killRepeatedly('plain', 24, 0x5eed);
  });

  it('keeps every reported-durable high-priority record across 12 kills while evicting by priority', async () => {
    await killRepeatedly('priority', 12, 0xbeef);
  });
});
