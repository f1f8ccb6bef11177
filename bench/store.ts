/**
 * Outbox log throughput: group-committed appends of 100-byte records, replay of a 1M-record
 * backlog after reopening, and the open (recovery scan) itself, each beside a raw-fs
 * baseline in the same run (the same framed bytes with fs.writeSync and one fsync per group;
 * readFileSync of the same segment files).
 *
 *   npx esbuild bench/store.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=/tmp/x.mjs && node /tmp/x.mjs [records]
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRAME_HEADER_BYTES, nodeFileLayer, openDiskLog, type FileLayer } from '../shared/store/index.ts';

const RECORDS = Number(process.argv[2] ?? 1_000_000);
const SIZE = 100;
const BATCH = 1000;
const root = mkdtempSync(join(tmpdir(), 'sluice-bench-store-'));

let writes = 0;
let syncs = 0;
const counting: FileLayer = {
  ...nodeFileLayer,
  async open(path, flags) {
    const f = await nodeFileLayer.open(path, flags);
    return {
      ...f,
      writev: (b, p) => (writes++, f.writev(b, p)),
      read: (b, o, l, p) => f.read(b, o, l, p),
      sync: () => (syncs++, f.sync()),
      truncate: (l) => f.truncate(l),
      size: () => f.size(),
      close: () => f.close(),
    };
  },
};

const payloads = Array.from({ length: BATCH }, (_, i) => new Uint8Array(SIZE).fill(i & 0xff));
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const now = (): number => performance.now();

async function appendBench(dir: string): Promise<{ secs: number; groups: number }> {
  const log = await openDiskLog(dir, { fs: counting, maxBytes: 1 << 30 });
  writes = syncs = 0;
  const t0 = now();
  const inflight: Promise<unknown>[] = [];
  for (let done = 0; done < RECORDS; done += BATCH) {
    inflight.push(log.appendBatch(payloads));
    if (inflight.length >= 64) await inflight.shift();
    if (!log.isWritable(SIZE * BATCH)) await log.whenWritable();
  }
  await Promise.all(inflight);
  const secs = (now() - t0) / 1000;
  await log.close();
  return { secs, groups: syncs };
}

async function singleAppendBench(dir: string, n: number): Promise<number> {
  const log = await openDiskLog(dir);
  const t0 = now();
  let last: Promise<number> = Promise.resolve(0);
  for (let i = 0; i < n; i++) {
    last = log.append(payloads[i % BATCH] as Uint8Array);
    if ((i & 4095) === 4095) await last;
  }
  await last;
  const secs = (now() - t0) / 1000;
  await log.close();
  return n / secs;
}

function rawWriteBaseline(path: string, groups: number): number {
  const frame = FRAME_HEADER_BYTES + SIZE;
  const perGroup = Math.ceil(RECORDS / groups);
  const buf = Buffer.alloc(perGroup * frame, 7);
  const fd = openSync(path, 'w');
  const t0 = now();
  for (let left = RECORDS; left > 0; left -= perGroup) {
    writeSync(fd, buf, 0, Math.min(left, perGroup) * frame);
    fsyncSync(fd);
  }
  const secs = (now() - t0) / 1000;
  closeSync(fd);
  return secs;
}

async function replayBench(dir: string): Promise<{ openSecs: number; readSecs: number; count: number }> {
  const t0 = now();
  const log = await openDiskLog(dir, { maxBytes: 1 << 30 });
  const openSecs = (now() - t0) / 1000;
  const t1 = now();
  let count = 0;
  for (let next = 1; ; ) {
    const batch = await log.read(next, 10_000);
    if (batch.length === 0) break;
    count += batch.length;
    next = (batch[batch.length - 1]?.seq ?? next) + 1;
  }
  const readSecs = (now() - t1) / 1000;
  await log.close();
  return { openSecs, readSecs, count };
}

function rawReadBaseline(dir: string): { secs: number; bytes: number } {
  const t0 = now();
  let bytes = 0;
  for (const f of readdirSync(dir)) if (f.endsWith('.seg')) bytes += readFileSync(join(dir, f)).byteLength;
  return { secs: (now() - t0) / 1000, bytes };
}

const mb = (RECORDS * SIZE) / 1e6;
const dir = join(root, 'log');
console.log(`store bench: ${fmt(RECORDS)} records of ${SIZE} B (payload ${mb.toFixed(0)} MB, framed ${((RECORDS * (SIZE + FRAME_HEADER_BYTES)) / 1e6).toFixed(0)} MB), node ${process.version}`);
const rss = (): string => `${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`;
console.log(`rss at start: ${rss()}`);
const a = await appendBench(dir);
console.log(`append (appendBatch x${BATCH}, group commit): ${fmt(RECORDS / a.secs)} rec/s, ${(mb / a.secs).toFixed(1)} MB/s payload, ${a.groups} write+fsync groups (${fmt(RECORDS / a.groups)} rec/group)`);
const rawSecs = rawWriteBaseline(join(root, 'raw.bin'), a.groups);
console.log(`baseline raw fs.writeSync, same framed bytes, ${a.groups} fsyncs: ${fmt(RECORDS / rawSecs)} rec/s, ${(mb / rawSecs).toFixed(1)} MB/s payload  -> log/raw = ${(rawSecs / a.secs).toFixed(2)}`);
const single = await singleAppendBench(join(root, 'single'), Math.min(RECORDS, 300_000));
console.log(`append (one append() promise per record): ${fmt(single)} rec/s`);
const r = await replayBench(dir);
console.log(`reopen (recovery scan of ${fmt(r.count)} records): ${r.openSecs.toFixed(2)} s = ${fmt(r.count / r.openSecs)} rec/s`);
console.log(`replay from disk (read x10000, cold tail cache): ${fmt(r.count / r.readSecs)} rec/s, ${((r.count * SIZE) / 1e6 / r.readSecs).toFixed(1)} MB/s payload; rss ${rss()}`);
const raw = rawReadBaseline(dir);
console.log(`baseline readFileSync of the segment files: ${(raw.bytes / 1e6 / raw.secs).toFixed(1)} MB/s framed = ${fmt(r.count / raw.secs)} rec/s  -> log/raw = ${(raw.secs / r.readSecs).toFixed(2)}`);
rmSync(root, { recursive: true, force: true });
