/**
 * A disk that fills up (ENOSPC), turns read-only (EROFS) or fails fsync (EIO): the log keeps
 * the process running (no throw, no unhandled rejection), applies its overflow policy,
 * reports the fault in stats and events, and recovers by itself once the disk works again.
 * The default cases inject faults through the file layer; the tmpfs cases use a real full disk.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFaultyFileLayer, openDiskLog, type FaultMode, type LogEvent, type OutboxLog } from '../../shared/store/index.ts';

const root = mkdtempSync(join(tmpdir(), 'sluice-faults-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

const rec = (i: number, size = 100): Uint8Array => {
  const b = new Uint8Array(size).fill(i & 0xff);
  new DataView(b.buffer).setUint32(0, i);
  return b;
};

function nextEvent(log: OutboxLog, type: LogEvent['type']): Promise<LogEvent> {
  return new Promise((resolve) => {
    const off = log.subscribe((e) => {
      if (e.type !== type) return;
      off();
      resolve(e);
    });
  });
}

async function allSeqs(log: OutboxLog): Promise<number[]> {
  const out: number[] = [];
  for (let next = 1; ; ) {
    const b = await log.read(next, 500);
    if (b.length === 0) return out;
    for (const r of b) {
      expect(Buffer.from(r.payload).equals(rec(r.seq, r.payload.byteLength))).toBe(true);
      out.push(r.seq);
    }
    next = (b.at(-1)?.seq ?? next) + 1;
  }
}

const FAST = { retryMs: 2, retryMaxMs: 20, groupCommitMs: 1 } as const;

describe.each<FaultMode>(['ENOSPC', 'EROFS', 'EIO'])('a disk failing with %s (injected)', (mode) => {
  it('holds appends, reports the fault, and makes them durable once the disk works again', async () => {
    const dir = join(root, `d${n++}`);
    const faulty = createFaultyFileLayer();
    const log = await openDiskLog(dir, { ...FAST, fs: faulty.fs, overflow: 'drop-oldest' });
    await log.appendBatch([rec(1), rec(2)]);
    faulty.mode = mode;
    const fault = nextEvent(log, 'fault');
    const held = log.appendBatch([rec(3), rec(4), rec(5)]);
    expect(await fault).toMatchObject({ type: 'fault', code: 'STORE_WRITE_FAILED' });
    const s = log.stats();
    expect(s.health).toBe('faulted');
    expect(s.faults).toBeGreaterThan(0);
    expect(s.lastFault).toContain(mode);
    expect(s.durableSeq).toBe(2);
    await log.ack(1); // the cursor write fails too; ack must not reject
    const recovered = nextEvent(log, 'recovered');
    faulty.mode = 'ok';
    await recovered;
    expect(await held).toEqual({ first: 3, last: 5 });
    expect(log.stats().health).toBe('ok');
    await log.close();
    const again = await openDiskLog(dir);
    expect(await allSeqs(again)).toEqual([2, 3, 4, 5]);
    expect(again.stats().corruptRecords).toBe(0);
    await again.close();
  });
});

describe('overflow policies on a failing disk (injected)', () => {
  it('reject: refuses new appends with a retryable error while the disk fails, then takes them again', async () => {
    const faulty = createFaultyFileLayer();
    const log = await openDiskLog(join(root, `d${n++}`), { ...FAST, fs: faulty.fs, overflow: 'reject' });
    faulty.mode = 'ENOSPC';
    const fault = nextEvent(log, 'fault');
    const held = log.append(rec(1));
    await fault;
    await expect(log.append(rec(2))).rejects.toMatchObject({ code: 'STORE_UNWRITABLE', retryable: true });
    expect(log.isWritable()).toBe(false);
    expect(log.stats().rejected).toBe(1);
    const writable = log.whenWritable();
    faulty.mode = 'ok';
    await writable;
    expect(await held).toBe(1);
    expect(await log.append(rec(2))).toBe(2);
    await log.close();
  });

  it('drop-oldest: a full disk drops the oldest segment to make room, counted as a size eviction', async () => {
    const faulty = createFaultyFileLayer();
    const log = await openDiskLog(join(root, `d${n++}`), { ...FAST, fs: faulty.fs, segmentBytes: 2048 });
    await log.appendBatch(Array.from({ length: 60 }, (_, i) => rec(i + 1)));
    const segments = log.stats().segments;
    faulty.mode = 'ENOSPC';
    const evicted = nextEvent(log, 'evicted');
    const held = log.append(rec(61));
    expect(await evicted).toMatchObject({ type: 'evicted', reason: 'size' });
    expect(log.stats().evicted.size).toBeGreaterThan(0);
    faulty.mode = 'ok';
    expect(await held).toBe(61);
    expect(log.stats().segments).toBeLessThan(segments + 1);
    const left = await allSeqs(log);
    expect(left.at(-1)).toBe(61);
    expect(left[0]).toBeGreaterThan(1);
    await log.close();
  });

  it('bounds memory while the disk fails: past maxPendingBytes appends are refused, not buffered', async () => {
    const faulty = createFaultyFileLayer();
    const log = await openDiskLog(join(root, `d${n++}`), { ...FAST, fs: faulty.fs, maxPendingBytes: 4096 });
    faulty.mode = 'EROFS';
    const results = Array.from({ length: 100 }, (_, i) => log.append(rec(i + 1)));
    faulty.mode = 'ok';
    const settled = await Promise.allSettled(results);
    const accepted = settled.filter((r) => r.status === 'fulfilled').length;
    const refused = settled.filter((r) => r.status === 'rejected');
    expect(accepted * 128).toBeLessThanOrEqual(4096);
    expect(refused.length).toBe(100 - accepted);
    expect(refused[0]).toMatchObject({ reason: { code: 'STORE_BACKLOG', retryable: true } });
    expect(log.durableSeq).toBe(accepted);
    await log.close();
  });

  it('close while the disk still fails rejects the unwritten appends and still closes', async () => {
    const faulty = createFaultyFileLayer();
    const log = await openDiskLog(join(root, `d${n++}`), { ...FAST, fs: faulty.fs });
    faulty.mode = 'EROFS';
    const fault = nextEvent(log, 'fault');
    const held = log.append(rec(1));
    await fault;
    await log.close();
    await expect(held).rejects.toMatchObject({ code: 'STORE_CLOSED_UNWRITTEN' });
  });
});

/** Mounts a 1 MiB tmpfs, or says why it cannot. */
function mountTmpfs(): { dir: string; skip?: undefined } | { dir?: undefined; skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'needs root to mount a tmpfs' };
  const dir = join(root, 'tmpfs');
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (err) {
    return { skip: `mount -t tmpfs failed: ${String((err as Error).message).split('\n')[0]}` };
  }
}

const tmpfs = mountTmpfs();
afterAll(() => {
  if (tmpfs.dir) execFileSync('umount', ['-l', tmpfs.dir], { stdio: 'pipe' });
});

describe.skipIf(tmpfs.skip !== undefined)(`a real full disk (1 MiB tmpfs)${tmpfs.skip ? ` — skipped: ${tmpfs.skip}` : ''}`, () => {
  it('reject: hits ENOSPC, refuses appends, and recovers when space returns', async () => {
    const dir = join(tmpfs.dir as string, 'reject');
    const filler = join(tmpfs.dir as string, 'filler');
    writeFileSync(filler, Buffer.alloc(700 * 1024));
    const log = await openDiskLog(dir, { ...FAST, overflow: 'reject', segmentBytes: 64 * 1024, maxBytes: 8 << 20 });
    try {
      const fault = nextEvent(log, 'fault').then(() => 'fault' as const);
      let held: Promise<unknown> | undefined;
      for (let i = 0; i < 2000 && !held; i++) {
        const batch = log.appendBatch(Array.from({ length: 50 }, () => rec(0, 1000)));
        if ((await Promise.race([batch.then(() => 'ok' as const), fault])) === 'fault') held = batch;
      }
      expect(held).toBeDefined();
      expect(log.stats().lastFault).toContain('ENOSPC');
      expect(log.stats().health).toBe('faulted');
      await expect(log.append(rec(0, 1000))).rejects.toMatchObject({ code: 'STORE_UNWRITABLE' });
      const recovered = nextEvent(log, 'recovered');
      rmSync(filler);
      await recovered;
      await held;
      await log.whenWritable();
      const seq = await log.append(rec(0, 1000));
      await log.close();
      const again = await openDiskLog(dir);
      expect(again.stats().nextSeq).toBe(seq + 1);
      expect(again.stats().records).toBe(seq);
      expect(again.stats().corruptRecords).toBe(0);
      await again.close();
    } finally {
      await log.close();
      rmSync(filler, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drop-oldest: hits ENOSPC and keeps going by dropping its oldest segments', async () => {
    const dir = join(tmpfs.dir as string, 'drop');
    const log = await openDiskLog(dir, { ...FAST, overflow: 'drop-oldest', segmentBytes: 64 * 1024, maxBytes: 8 << 20 });
    try {
      const fault = nextEvent(log, 'fault');
      let last = 0;
      for (let i = 0; i < 40; i++) last = (await log.appendBatch(Array.from({ length: 50 }, () => rec(0, 1000)))).last;
      await fault;
      const s = log.stats();
      expect(s.lastFault).toContain('ENOSPC');
      expect(s.evicted.size).toBeGreaterThan(0);
      expect(s.durableSeq).toBe(last);
      expect(s.health).toBe('ok');
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
