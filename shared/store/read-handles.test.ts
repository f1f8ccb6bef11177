import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeFileLayer, type FileLayer } from './file-layer.ts';
import { openDiskLog } from './open-disk-log.ts';

const root = mkdtempSync(join(tmpdir(), 'sluice-read-handles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The real file layer, counting read-only opens and the closes of those files. */
function countingLayer() {
  const counts = { readOpens: 0, readCloses: 0 };
  const fs: FileLayer = {
    ...nodeFileLayer,
    async open(path, flags, opts) {
      const f = await nodeFileLayer.open(path, flags, opts);
      if (flags !== 'r' || !path.endsWith('.seg')) return f;
      counts.readOpens++;
      return { ...f, syncsWrites: f.syncsWrites, writev: f.writev.bind(f), read: f.read.bind(f), sync: f.sync.bind(f), truncate: f.truncate.bind(f), size: f.size.bind(f), close: async () => { counts.readCloses++; await f.close(); } };
    },
  };
  return { fs, counts };
}

describe('segment read handles', () => {
  it('a replay from disk opens each segment once, and every handle is closed by close()', async () => {
    const { fs, counts } = countingLayer();
    const log = await openDiskLog(join(root, 'a'), { fs, segmentBytes: 64 * 1024, tailCacheBytes: 0 });
    for (let b = 0; b < 10; b++) await log.appendBatch(Array.from({ length: 100 }, () => new Uint8Array(100).fill(b)));
    const segments = log.stats().segments;
    let reads = 0;
    for (let next = 1; next <= log.durableSeq; reads++) next = (await log.read(next, 50)).at(-1)!.seq + 1;
    expect(reads).toBe(20);
    expect(counts.readOpens).toBe(segments);
    await log.close();
    expect(counts.readCloses).toBe(counts.readOpens);
  });

  it('a segment deleted after its ack closes its handle, and reads go on from the next one', async () => {
    const { fs, counts } = countingLayer();
    const log = await openDiskLog(join(root, 'b'), { fs, segmentBytes: 16 * 1024, tailCacheBytes: 0 });
    for (let b = 0; b < 4; b++) await log.appendBatch(Array.from({ length: 100 }, () => new Uint8Array(100).fill(b)));
    expect((await log.read(1, 10)).length).toBe(10);
    await log.ack(200);
    expect(counts.readCloses).toBe(counts.readOpens);
    const next = await log.read(1, 10);
    expect(next[0]!.seq).toBe(201);
    await log.close();
    expect(counts.readCloses).toBe(counts.readOpens);
  });
});
