/**
 * Synced writes: a segment file opened with `syncWrites` is O_DSYNC, so a group commit is one
 * call (write + flush) instead of a write and an fsync; a layer that ignores the option still
 * gets its fsync per group. The open flags are read back from /proc (Linux).
 */
import { constants, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeFileLayer, type FileLayer, type LogFile } from './file-layer.ts';
import { openDiskLog } from './open-disk-log.ts';

const root = mkdtempSync(join(tmpdir(), 'sluice-file-layer-'));
let n = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The open(2) flags of this process's descriptor on `path`, from /proc/self/fdinfo. */
function openFlags(path: string): number {
  for (const fd of readdirSync('/proc/self/fd')) {
    let target = '';
    try { target = readlinkSync(`/proc/self/fd/${fd}`); } catch { continue; }
    if (target !== path) continue;
    const m = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (m) return parseInt(m[1]!, 8);
  }
  throw new Error(`${path} is not open`);
}

/** The real layer, counting fsyncs of segment files; `honour: false` drops the syncWrites option. */
function countingLayer(honour: boolean) {
  const counts = { segmentSyncs: 0, segmentWrites: 0 };
  const fs: FileLayer = {
    ...nodeFileLayer,
    async open(path, flags, opts) {
      const f = await nodeFileLayer.open(path, flags, honour ? opts : undefined);
      if (!path.endsWith('.seg')) return f;
      const counted: LogFile = {
        syncsWrites: f.syncsWrites,
        writev: async (b, p) => { counts.segmentWrites++; await f.writev(b, p); },
        read: (b, o, l, p) => f.read(b, o, l, p),
        sync: async () => { counts.segmentSyncs++; await f.sync(); },
        truncate: (l) => f.truncate(l),
        size: () => f.size(),
        close: () => f.close(),
      };
      return counted;
    },
  };
  return { fs, counts };
}

describe.skipIf(process.platform !== 'linux')('synced writes', () => {
  it('opens a writable file O_DSYNC with syncWrites, and says so', async () => {
    const path = join(root, `f${n++}`);
    const synced = await nodeFileLayer.open(path, 'w', { syncWrites: true });
    expect(synced.syncsWrites).toBe(true);
    expect(openFlags(path) & constants.O_DSYNC).toBe(constants.O_DSYNC);
    await synced.writev([Buffer.from('hello')], 0);
    await synced.close();
    const plain = await nodeFileLayer.open(path, 'r+');
    expect(plain.syncsWrites).toBe(false);
    expect(openFlags(path) & constants.O_DSYNC).toBe(0);
    await plain.close();
    // Read-only handles ignore the option: there is nothing to sync.
    const reader = await nodeFileLayer.open(path, 'r', { syncWrites: true });
    expect(reader.syncsWrites).toBe(false);
    await reader.close();
    expect(readFileSync(path, 'utf8')).toBe('hello');
  });

  it('commits a group with one synced write, or a write and an fsync where the layer cannot sync writes', async () => {
    for (const honour of [true, false]) {
      const { fs, counts } = countingLayer(honour);
      const dir = join(root, `log${n++}`);
      const log = await openDiskLog(dir, { fs, groupCommitMs: 1 });
      for (let g = 0; g < 3; g++) await log.appendBatch(Array.from({ length: 10 }, () => new Uint8Array(100).fill(g)));
      expect(counts.segmentWrites).toBe(3);
      expect(counts.segmentSyncs).toBe(honour ? 0 : 3);
      await log.close();
      const again = await openDiskLog(dir);
      expect(again.stats().durableSeq).toBe(30);
      await again.close();
    }
  });
});
