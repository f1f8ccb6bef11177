/**
 * When the disk log writes: a group that filled up while the last one was being written goes
 * as soon as that write ends (not at the end of its window), and the ack cursor is written at
 * most once per `cursorIntervalMs` while `ack()` still resolves only once it is on disk.
 * Time is a manual clock that these tests never move unless they say so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeFileLayer, type FileLayer } from './file-layer.ts';
import { createManualClock, openDiskLog } from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'sluice-commit-pacing-'));
let n = 0;
const freshDir = (): string => join(root, `d${n++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const batch = (k: number): Uint8Array[] => Array.from({ length: k }, () => new Uint8Array(100).fill(k));
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The real layer; segment writes wait at a gate while it is closed, cursor renames are counted. */
function gatedLayer() {
  let open = true;
  let release: () => void = () => {};
  let gate = Promise.resolve();
  const counts = { segmentWrites: 0, cursorWrites: 0 };
  let wrote: () => void = () => {};
  const fs: FileLayer = {
    ...nodeFileLayer,
    async open(path, flags, opts) {
      const f = await nodeFileLayer.open(path, flags, opts);
      if (!path.endsWith('.seg')) return f;
      return { ...f, syncsWrites: f.syncsWrites, read: f.read.bind(f), sync: f.sync.bind(f), truncate: f.truncate.bind(f), size: f.size.bind(f), close: f.close.bind(f),
        writev: async (b, p) => { counts.segmentWrites++; wrote(); await gate; await f.writev(b, p); } };
    },
    async rename(from, to) {
      if (to.endsWith('ack.cursor')) counts.cursorWrites++;
      await nodeFileLayer.rename(from, to);
    },
  };
  return {
    fs, counts,
    /** Resolves when the next segment write is called. */
    nextWrite: (): Promise<void> => new Promise((resolve) => { wrote = resolve; }),
    close(): void { if (open) { open = false; gate = new Promise((resolve) => { release = resolve; }); } },
    open(): void { open = true; release(); },
  };
}

describe('commit and cursor pacing', () => {
  it('writes a group that filled during the last write as soon as that write ends', async () => {
    const clock = createManualClock();
    const layer = gatedLayer();
    const log = await openDiskLog(freshDir(), { clock, fs: layer.fs, groupCommitMs: 50, groupCommitBytes: 4096 });
    layer.close();
    const started = layer.nextWrite();
    const first = log.appendBatch(batch(40)); // over 4 KiB: its write starts now, and waits
    await started;
    expect(layer.counts.segmentWrites).toBe(1);
    const second = log.appendBatch(batch(40)); // fills the next group while the first is written
    await turn();
    expect(layer.counts.segmentWrites).toBe(1);
    layer.open();
    await first;
    await second; // the clock never moved: the full group did not wait out its 50 ms window
    expect(layer.counts.segmentWrites).toBe(2);
    expect(log.durableSeq).toBe(80);
    await log.close();
  });

  it('writes the ack cursor at most once per interval; ack() resolves once it is written, close() writes at once', async () => {
    const clock = createManualClock();
    const layer = gatedLayer();
    const dir = freshDir();
    const log = await openDiskLog(dir, { clock, fs: layer.fs, groupCommitMs: 0, cursorIntervalMs: 100 });
    expect(layer.counts.cursorWrites).toBe(1); // a new log's epoch, at open
    await log.appendBatch(batch(10));
    clock.advance(100);
    await log.ack(2);
    expect(layer.counts.cursorWrites).toBe(2);

    let acked = false;
    void log.ack(3);
    const a4 = log.ack(4).then(() => { acked = true; });
    await turn();
    expect(log.stats().ackedSeq).toBe(4); // the outbox trims at once...
    expect(layer.counts.cursorWrites).toBe(2); // ...the cursor waits for its turn
    expect(acked).toBe(false);
    clock.advance(100);
    await a4;
    expect(layer.counts.cursorWrites).toBe(3); // acks 3 and 4 in one write

    void log.ack(6);
    await log.close(); // no clock move: close does not wait for the turn
    expect(layer.counts.cursorWrites).toBe(4);
    const again = await openDiskLog(dir);
    expect(again.stats().ackedSeq).toBe(6);
    await again.close();
  });
});
