import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFaultyFileLayer, createManualClock, openDiskLog } from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'sluice-disk-log-'));
let n = 0;
const freshDir = (): string => join(root, `d${n++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const rec = (i: number, size = 100): Uint8Array => {
  const b = new Uint8Array(size).fill(i & 0xff);
  new DataView(b.buffer).setUint32(0, i);
  return b;
};
const idOf = (p: Uint8Array): number => new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0);

async function readAllSeqs(log: { read(f: number, m: number): Promise<{ seq: number; payload: Uint8Array }[]> }, from = 1) {
  const out: { seq: number; id: number }[] = [];
  for (let next = from; ; ) {
    const b = await log.read(next, 777);
    if (b.length === 0) return out;
    for (const r of b) out.push({ seq: r.seq, id: idOf(r.payload) });
    next = (b.at(-1)?.seq ?? next) + 1;
  }
}

describe('disk log', () => {
  it('serves records from disk after a restart and continues the seqs', async () => {
    const dir = freshDir();
    const a = await openDiskLog(dir, { segmentBytes: 4096 });
    await a.appendBatch(Array.from({ length: 300 }, (_, i) => rec(i + 1)));
    await a.close();
    const b = await openDiskLog(dir, { segmentBytes: 4096 });
    const all = await readAllSeqs(b);
    expect(all).toHaveLength(300);
    expect(all.every((r) => r.seq === r.id)).toBe(true);
    expect(await b.append(rec(301))).toBe(301);
    expect(b.stats().segments).toBeGreaterThan(5);
    await b.close();
  });

  it('stages spans large and small in blocks: the same bytes from the cache and from disk', async () => {
    const dir = freshDir();
    const a = await openDiskLog(dir, { segmentBytes: 64 * 1024 });
    const span = (i: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, k) => (i * 31 + k) & 0xff);
    const sizes = [10, 5000, 100, 70_000, 4096, 4095, 20_000];
    const ranges = [];
    for (let round = 0; round < 3; round++) {
      ranges.push(await a.appendSpans(sizes.map((n, i) => ({ payload: span(round * 10 + i, n), count: 1 + (i % 5) }))));
    }
    const check = (records: readonly { seq: number; count: number; payload: Uint8Array }[]): void => {
      expect(records).toHaveLength(3 * sizes.length);
      records.forEach((r, j) => {
        const round = Math.floor(j / sizes.length);
        const i = j % sizes.length;
        expect(r.count).toBe(1 + (i % 5));
        expect(Buffer.from(r.payload).equals(Buffer.from(span(round * 10 + i, sizes[i]!)))).toBe(true);
      });
    };
    const readAll = async (log: typeof a) => {
      const out = [];
      for (let next = 1; ;) {
        const b = await log.read(next, 1000);
        if (b.length === 0) return out;
        out.push(...b);
        next = b.at(-1)!.seq + b.at(-1)!.count;
      }
    };
    check(await readAll(a));
    await a.close();
    const b = await openDiskLog(dir, { segmentBytes: 64 * 1024, tailCacheBytes: 0 });
    expect(b.recovery.corruptRecords).toBe(0);
    expect(b.recovery.warnings).toEqual([]);
    check(await readAll(b));
    expect(b.stats().nextSeq).toBe(ranges.at(-1)!.last + 1);
    await b.close();
  });

  it('a record read from the tail cache keeps its bytes after the cache reuses its block', async () => {
    const log = await openDiskLog(freshDir(), { tailCacheBytes: 512 * 1024 });
    const fill = (i: number): Uint8Array => new Uint8Array(100_000).fill(i & 0xff);
    const kept = [];
    for (let i = 0; i < 40; i++) {
      const { first } = await log.appendSpans([{ payload: fill(i), count: 100 }]);
      // Read back at once (from the cache), and hold on to it while later appends recycle blocks.
      const [r] = await log.read(first, 100);
      kept.push({ i, r: r! });
    }
    for (const { i, r } of kept) expect(r.payload.every((b) => b === (i & 0xff)), `record of append ${i}`).toBe(true);
    await log.close();
  });

  it('readWith from disk reads into one reused buffer: every lent record right, across segments, and read() copies stay intact', async () => {
    const log = await openDiskLog(freshDir(), { segmentBytes: 8192, tailCacheBytes: 0 });
    await log.appendBatch(Array.from({ length: 5000 }, (_, i) => rec(i + 1, 20 + (i % 50))));
    const kept = await log.read(1, 50);
    const ids: number[] = [];
    for (let next = 1; ; ) {
      // 300 records take more than one 8 KiB segment: the reads of one call share the buffer.
      const got = await log.readWith(next, 300, Infinity, (rs) => rs.map((r) => ({ seq: r.seq, id: idOf(r.payload), size: r.payload.byteLength })));
      if (got.length === 0) break;
      for (const g of got) expect(g.size, `record ${g.seq}`).toBe(20 + ((g.seq - 1) % 50));
      ids.push(...got.map((g) => g.id));
      next = got.at(-1)!.seq + 1;
    }
    expect(ids).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    expect(kept.map((r) => idOf(r.payload))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await log.close();
  });

  it('reads thousands of records across segment boundaries in any batch size', async () => {
    const log = await openDiskLog(freshDir(), { segmentBytes: 8192, tailCacheBytes: 0 });
    await log.appendBatch(Array.from({ length: 5000 }, (_, i) => rec(i + 1, 20 + (i % 50))));
    const all = await readAllSeqs(log);
    expect(all.map((r) => r.id)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    const mid = await log.read(2345, 3);
    expect(mid.map((r) => r.seq)).toEqual([2345, 2346, 2347]);
    await log.close();
  });

  it('persists the ack cursor and deletes segments once fully acked', async () => {
    const dir = freshDir();
    const a = await openDiskLog(dir, { segmentBytes: 2048 });
    await a.appendBatch(Array.from({ length: 200 }, (_, i) => rec(i + 1)));
    const before = readdirSync(dir).filter((f) => f.endsWith('.seg')).length;
    await a.ack(150);
    const after = readdirSync(dir).filter((f) => f.endsWith('.seg')).length;
    expect(after).toBeLessThan(before);
    await a.close();
    const b = await openDiskLog(dir, { segmentBytes: 2048 });
    expect(b.stats().ackedSeq).toBe(150);
    expect((await readAllSeqs(b)).map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 151 + i));
    await b.ack(200);
    expect(await b.append(rec(201))).toBe(201);
    await b.close();
    const c = await openDiskLog(dir);
    expect(c.stats().nextSeq).toBe(202);
    await c.close();
  });

  it('keeps evicted records gone after a restart (the head is persisted)', async () => {
    const dir = freshDir();
    const a = await openDiskLog(dir, { maxBytes: 8192, segmentBytes: 2048 });
    for (let i = 0; i < 10; i++) await a.appendBatch(Array.from({ length: 20 }, (_, k) => rec(i * 20 + k + 1)));
    const { firstSeq, evicted } = a.stats();
    expect(evicted.size).toBeGreaterThan(0);
    await a.close();
    const b = await openDiskLog(dir, { maxBytes: 8192, segmentBytes: 2048 });
    expect((await readAllSeqs(b))[0]?.seq).toBe(firstSeq);
    await b.close();
  });

  it('group commit: appends inside one window share one write and one fsync', async () => {
    const clock = createManualClock();
    const faulty = createFaultyFileLayer();
    const log = await openDiskLog(freshDir(), { clock, fs: faulty.fs, groupCommitMs: 20 });
    // A new log has written its cursor (its epoch) at open: count from there.
    const [writes, syncs] = [faulty.writes, faulty.syncs];
    const done = [log.append(rec(1)), log.append(rec(2)), log.appendBatch([rec(3), rec(4)])];
    clock.advance(19);
    expect(faulty.writes - writes).toBe(0);
    clock.advance(1);
    await Promise.all(done);
    expect(faulty.writes - writes).toBe(1);
    expect(faulty.syncs - syncs).toBe(1);
    const next = log.append(rec(5));
    clock.advance(20);
    await next;
    expect(faulty.writes - writes).toBe(2);
    expect(log.durableSeq).toBe(5);
    await log.close();
  });

  it('starts a commit early once groupCommitBytes are pending', async () => {
    const clock = createManualClock();
    const faulty = createFaultyFileLayer();
    const log = await openDiskLog(freshDir(), { clock, fs: faulty.fs, groupCommitMs: 50, groupCommitBytes: 4096 });
    const writes = faulty.writes;
    await log.appendBatch(Array.from({ length: 40 }, (_, i) => rec(i + 1)));
    expect(faulty.writes - writes).toBe(1);
    await log.close();
  });

  it('read serves only durable records', async () => {
    const clock = createManualClock();
    const log = await openDiskLog(freshDir(), { clock, groupCommitMs: 10 });
    const p = log.append(rec(1));
    expect(await log.read(1, 10)).toEqual([]);
    clock.advance(10);
    await p;
    expect(await log.read(1, 10)).toHaveLength(1);
    await log.close();
  });
});
