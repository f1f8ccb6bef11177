/**
 * The disk's fsync tail, which sets the outbox's push -> durable p99: one writer appends a
 * group of bytes and fsyncs it every few ms, as the disk log does at the link benchmark's
 * half-rate load, into 16 MiB segment files. Three ways: append + fsync (what the log does),
 * append + fdatasync, and a preallocated file + fdatasync (no size change per write).
 * Then the committer's way (one O_DSYNC write per group, what is staged meanwhile going in the
 * next), one write at a time against two in flight, to see whether overlapping groups would
 * shorten the wait. BENCH_FSYNC_BUSY=N runs N busy threads beside it, as the link benchmark's
 * other processes load the machine.
 * Not a test: `npm run bench -- fsync`. BENCH_FSYNC_BYTES (default 70,400: 5 ms of 128 k
 * events/s of 110 bytes), BENCH_FSYNC_EVERY_MS (5), BENCH_FSYNC_SECONDS (8 per way).
 */
import { constants, mkdtempSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const GROUP = Number(process.env.BENCH_FSYNC_BYTES ?? 70_400);
const EVERY_MS = Number(process.env.BENCH_FSYNC_EVERY_MS ?? 5);
const SECONDS = Number(process.env.BENCH_FSYNC_SECONDS ?? 8);
const SEGMENT = 16 << 20;

type Way = 'append + fsync' | 'append + fdatasync' | 'preallocated + fdatasync';

async function run(dir: string, way: Way): Promise<string> {
  const group = Buffer.alloc(GROUP, 7);
  const lat: number[] = [];
  let file: FileHandle | undefined;
  let offset = 0;
  let n = 0;
  const roll = async (): Promise<void> => {
    await file?.close();
    file = await open(join(dir, `${way.replace(/\W+/g, '-')}-${n++}.seg`), 'w+');
    offset = 0;
    if (way === 'preallocated + fdatasync') {
      const zeros = Buffer.alloc(1 << 20);
      for (let at = 0; at < SEGMENT; at += zeros.length) await file.write(zeros, 0, zeros.length, at);
      await file.sync();
    }
  };
  await roll();
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    if (offset + GROUP > SEGMENT) await roll();
    await file!.write(group, 0, GROUP, offset);
    offset += GROUP;
    const t = performance.now();
    if (way === 'append + fsync') await file!.sync();
    else await file!.datasync();
    lat.push(performance.now() - t);
    await new Promise((resolve) => setTimeout(resolve, EVERY_MS));
  }
  await file?.close();
  lat.sort((a, b) => a - b);
  const q = (p: number): string => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(2);
  const slow = lat.filter((x) => x > 5).length;
  return `${way.padEnd(26)} ${lat.length} syncs: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, p99.9 ${q(0.999)} ms, max ${lat.at(-1)!.toFixed(2)} ms; ${slow} over 5 ms`;
}

/**
 * A group of GROUP bytes is ready every EVERY_MS; O_DSYNC writes take what is ready, up to
 * `depth` of them in flight at once. Latency is from a group being ready to its write's end.
 */
async function groups(dir: string, depth: number): Promise<string> {
  const file = await open(join(dir, `dsync-${depth}.seg`), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DSYNC);
  const bytes = Buffer.alloc(GROUP * 64, 7);
  const lat: number[] = [];
  let ready: number[] = [];
  let offset = 0;
  let inflight = 0;
  let writes = 0;
  const pump = (): void => {
    while (inflight < depth && ready.length > 0) {
      const batch = ready;
      ready = [];
      const len = GROUP * Math.min(batch.length, 64);
      inflight++;
      writes++;
      void file.write(bytes, 0, len, offset).then(() => {
        const now = performance.now();
        for (const at of batch) lat.push(now - at);
        inflight--;
        pump();
      });
      offset += len;
    }
  };
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    ready.push(performance.now());
    pump();
    await new Promise((resolve) => setTimeout(resolve, EVERY_MS));
  }
  while (inflight > 0 || ready.length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await file.close();
  lat.sort((a, b) => a - b);
  const q = (p: number): string => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(2);
  return `${`O_DSYNC, ${depth === 1 ? 'one write at a time' : `${depth} writes in flight`}`.padEnd(34)} ${lat.length} groups in ${writes} writes: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${lat.at(-1)!.toFixed(2)} ms`;
}

const busy = Number(process.env.BENCH_FSYNC_BUSY ?? 0);
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-fsync-'));
const spinners = Array.from({ length: busy }, () => new Worker('for (;;);', { eval: true }));
try {
  console.log(`fsync tail: ${GROUP.toLocaleString()} bytes written and synced every ${EVERY_MS} ms into 16 MiB files in ${tmpdir()}, ${SECONDS} s each way${busy ? `, ${busy} busy thread(s) beside` : ''}`);
  for (const way of ['append + fsync', 'append + fdatasync', 'preallocated + fdatasync'] as const) console.log(`  ${await run(dir, way)}`);
  for (const depth of [1, 2, 1, 2]) console.log(`  ${await groups(dir, depth)}`);
} finally {
  await Promise.all(spinners.map((w) => w.terminate()));
  rmSync(dir, { recursive: true, force: true });
}
