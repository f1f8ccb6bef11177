import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFaultyFileLayer, openDiskLog, type DiskLog } from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'sluice-recovery-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SIZE = 100;
const FRAME = 28 + SIZE;
const OPTS = { segmentBytes: 16 + FRAME * 10, tailCacheBytes: 0 } as const;

const rec = (i: number): Uint8Array => {
  const b = new Uint8Array(SIZE).fill(i & 0xff);
  new DataView(b.buffer).setUint32(0, i);
  return b;
};

/** A closed log of `count` records, 10 per segment. */
async function written(count: number): Promise<string> {
  const dir = join(root, `d${n++}`);
  const log = await openDiskLog(dir, OPTS);
  await log.appendBatch(Array.from({ length: count }, (_, i) => rec(i + 1)));
  await log.close();
  return dir;
}

const segments = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();

async function seqsOf(log: DiskLog): Promise<number[]> {
  const out: number[] = [];
  for (let next = 1; ; ) {
    const b = await log.read(next, 50);
    if (b.length === 0) return out;
    for (const r of b) {
      expect(Buffer.from(r.payload).equals(rec(r.seq))).toBe(true);
      out.push(r.seq);
    }
    next = (b.at(-1)?.seq ?? next) + 1;
  }
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

function flip(path: string, offset: number): void {
  const b = readFileSync(path);
  b[offset] = (b[offset] ?? 0) ^ 0x10;
  writeFileSync(path, b);
}

describe('recovery on open', () => {
  it('cuts a torn last record and continues after the last intact seq', async () => {
    const dir = await written(25);
    const last = join(dir, segments(dir).at(-1) as string);
    truncateSync(last, readFileSync(last).byteLength - 10);
    const log = await openDiskLog(dir, OPTS);
    expect(log.recovery.truncatedBytes).toBe(FRAME - 10);
    expect(log.recovery.warnings.map((w) => w.code)).toContain('STORE_TORN_TAIL');
    expect(await seqsOf(log)).toEqual(range(1, 24));
    expect(await log.append(rec(25))).toBe(25);
    await log.close();
    const again = await openDiskLog(dir, OPTS);
    expect(await seqsOf(again)).toEqual(range(1, 25));
    expect(again.recovery.warnings).toEqual([]);
    await again.close();
  });

  it('recovers spans: seqs continue after the last intact span, a torn one is cut, a damaged older one is counted by its seqs', async () => {
    const dir = join(root, `d${n++}`);
    const log = await openDiskLog(dir, OPTS);
    for (let i = 0; i < 25; i++) await log.appendSpans([{ payload: rec(i), count: 4 }]);
    await log.close();
    const segs = segments(dir);
    // The first span of the second segment loses a bit; the last span is torn.
    flip(join(dir, segs[1] as string), 16 + 40);
    const lastSeg = join(dir, segs.at(-1) as string);
    truncateSync(lastSeg, readFileSync(lastSeg).byteLength - 10);
    const again = await openDiskLog(dir, OPTS);
    expect(again.recovery.truncatedBytes).toBe(FRAME - 10);
    expect(again.recovery.corruptRecords).toBe(4);
    const firsts: number[] = [];
    for (let next = 1; ; ) {
      const b = await again.read(next, 50);
      if (b.length === 0) break;
      for (const r of b) {
        expect(r.count).toBe(4);
        expect(Buffer.from(r.payload).equals(rec((r.seq - 1) / 4))).toBe(true);
        firsts.push(r.seq);
      }
      next = (b.at(-1)?.seq ?? next) + 4;
    }
    expect(firsts).toEqual(range(0, 23).filter((i) => i !== 10).map((i) => 1 + 4 * i));
    expect(await again.append(rec(99))).toBe(97);
    await again.close();
  });

  it('cuts garbage written after the last record', async () => {
    const dir = await written(15);
    appendFileSync(join(dir, segments(dir).at(-1) as string), Buffer.from('not a frame at all, just noise'));
    const log = await openDiskLog(dir, OPTS);
    expect(log.stats().truncatedBytes).toBe(30);
    expect(await seqsOf(log)).toEqual(range(1, 15));
    await log.close();
  });

  it('skips, counts and quarantines a flipped bit inside an older segment', async () => {
    const dir = await written(30);
    flip(join(dir, segments(dir)[0] as string), 16 + FRAME * 3 + 28 + 50);
    const log = await openDiskLog(dir, OPTS);
    expect(log.stats().corruptRecords).toBe(1);
    expect(readdirSync(join(dir, 'quarantine'))).toHaveLength(1);
    expect(await seqsOf(log)).toEqual(range(1, 30).filter((s) => s !== 4));
    await log.close();
  });

  it('resyncs after a damaged length field in an older segment', async () => {
    const dir = await written(30);
    flip(join(dir, segments(dir)[1] as string), 16 + FRAME * 5 + 2);
    const log = await openDiskLog(dir, OPTS);
    expect(log.stats().corruptRecords).toBe(1);
    expect(await seqsOf(log)).toEqual(range(1, 30).filter((s) => s !== 16));
    await log.close();
  });

  it('quarantines the cut-off end of a truncated older segment and serves the rest', async () => {
    const dir = await written(30);
    const second = join(dir, segments(dir)[1] as string);
    truncateSync(second, 16 + FRAME * 7 + 50);
    const log = await openDiskLog(dir, OPTS);
    expect(log.stats().corruptRecords).toBe(3);
    expect(log.stats().truncatedBytes).toBe(0);
    expect(readdirSync(join(dir, 'quarantine'))).toHaveLength(1);
    expect(await seqsOf(log)).toEqual(range(1, 30).filter((s) => s < 18 || s > 20));
    await log.close();
  });

  it('keeps the records after a flipped bit in the middle of the last segment', async () => {
    const dir = await written(25);
    flip(join(dir, segments(dir).at(-1) as string), 16 + FRAME * 2 + 40);
    const log = await openDiskLog(dir, OPTS);
    expect(log.stats().corruptRecords).toBe(1);
    expect(await seqsOf(log)).toEqual(range(1, 25).filter((s) => s !== 23));
    expect(await log.append(rec(26))).toBe(26);
    await log.close();
  });

  it('keeps serving the records of a segment whose header is damaged', async () => {
    const dir = await written(30);
    const [first, , last] = segments(dir) as [string, string, string];
    flip(join(dir, first), 1);
    flip(join(dir, last), 9);
    const log = await openDiskLog(dir, OPTS);
    expect(log.recovery.warnings.filter((w) => w.code === 'STORE_QUARANTINED')).toHaveLength(2);
    expect(existsSync(join(dir, 'quarantine', `${first}.header.bad`))).toBe(true);
    expect(await seqsOf(log)).toEqual(range(1, 30));
    expect(await log.append(rec(31))).toBe(31);
    await log.close();
    const again = await openDiskLog(dir, OPTS);
    expect(again.recovery.warnings).toHaveLength(1); // the older header stays as found; the last was rewritten
    expect(await seqsOf(again)).toEqual(range(1, 31));
    await again.close();
  });

  it('survives a bad cursor, stray files, leftovers and empty segments with counted warnings', async () => {
    const dir = await written(20);
    const log1 = await openDiskLog(dir, OPTS);
    await log1.ack(5);
    await log1.close();
    writeFileSync(join(dir, 'ack.cursor'), 'garbage');
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    writeFileSync(join(dir, 'ack.cursor.tmp'), 'half');
    writeFileSync(join(dir, '00000000000000000099.seg'), '');
    const log = await openDiskLog(dir, OPTS);
    const codes = log.recovery.warnings.map((w) => w.code).sort();
    expect(codes).toEqual(['STORE_BAD_CURSOR', 'STORE_EMPTY_SEGMENT', 'STORE_LEFTOVER_FILE', 'STORE_STRAY_FILE']);
    expect(log.stats().warnings).toBe(4);
    expect(existsSync(join(dir, 'ack.cursor.tmp'))).toBe(false);
    // An unusable cursor means resend everything still on disk: at-least-once, never a loss.
    expect(await seqsOf(log)).toEqual(range(1, 20));
    expect(await log.append(rec(99))).toBe(99);
    await log.close();
  });

  it('skips a garbage file named like a segment and an unreadable segment, keeping new seqs clear of them', async () => {
    const dir = await written(20);
    writeFileSync(join(dir, '00000000000000000015.seg'), Buffer.from('garbage garbage garbage garbage'));
    const faulty = createFaultyFileLayer();
    const unreadable = join(dir, '00000000000000000050.seg');
    writeFileSync(unreadable, Buffer.alloc(280));
    const fs = { ...faulty.fs, readFile: async (p: string) => (p === unreadable ? Promise.reject(new Error('EACCES')) : faulty.fs.readFile(p)) };
    const log = await openDiskLog(dir, { ...OPTS, fs });
    const codes = log.recovery.warnings.map((w) => w.code);
    expect(codes).toContain('STORE_UNREADABLE_SEGMENT');
    expect(log.stats().corruptRecords).toBe(1);
    expect(await seqsOf(log)).toEqual(range(1, 20));
    expect(await log.append(rec(99))).toBeGreaterThan(50 + 280 / 28);
    await log.close();
  });

  it('detects damage that appears after open, while reading', async () => {
    const dir = join(root, `d${n++}`);
    const log = await openDiskLog(dir, OPTS);
    await log.appendBatch(Array.from({ length: 30 }, (_, i) => rec(i + 1)));
    flip(join(dir, segments(dir)[1] as string), 16 + FRAME * 4 + 60);
    expect(await seqsOf(log)).toEqual(range(1, 30).filter((s) => s !== 15));
    expect(log.stats().corruptRecords).toBe(1);
    expect(await seqsOf(log)).toHaveLength(29);
    expect(log.stats().corruptRecords).toBe(1);
    await log.close();
  });
});

describe('epochs and seqs across reopens', () => {
  it('keeps a log\'s epoch across reopens; a directory made anew gets a later one', async () => {
    const dir = join(root, 'epoch');
    const first = await openDiskLog(dir, OPTS);
    await first.append(rec(1));
    await first.close();
    const again = await openDiskLog(dir, OPTS);
    expect(again.epoch).toBe(first.epoch);
    await again.close();
    rmSync(dir, { recursive: true, force: true });
    const anew = await openDiskLog(dir, OPTS);
    expect(anew.epoch).toBeGreaterThan(first.epoch);
    await anew.close();
  });

  it('numbers on after the cursor when no segment is left (all acked and deleted before the next was written)', async () => {
    const dir = join(root, 'no-segments');
    const log = await openDiskLog(dir, OPTS);
    for (let i = 1; i <= 8; i++) await log.append(rec(i));
    await log.ack(8);
    const epoch = log.epoch;
    await log.close();
    // What a crash leaves when the rolled-to segment was still only staged: the cursor alone.
    for (const f of segments(dir)) rmSync(join(dir, f));
    const back = await openDiskLog(dir, OPTS);
    expect({ next: back.stats().nextSeq, acked: back.stats().ackedSeq, epoch: back.epoch }).toEqual({ next: 9, acked: 8, epoch });
    expect(await back.append(rec(9))).toBe(9);
    await back.close();
  });
});
