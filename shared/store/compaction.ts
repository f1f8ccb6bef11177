/**
 * Rewrites a sealed segment without some of its records (the priority policy's eviction).
 * The survivors are copied frame by frame into `<name>.compact`, which is fsynced and renamed
 * over the segment, so a crash leaves either the old file or the new one.
 */
import type { FileLayer } from './file-layer.ts';
import { encodeSegmentHeader, framePriority, frameTs, scanFrames, SEGMENT_HEADER_BYTES } from './frame.ts';
import { MAX_SCAN_PAYLOAD, type Segment } from './segment.ts';
import type { SegmentIndex } from './segment-index.ts';

export interface CompactResult {
  readonly dropped: number;
  readonly droppedBytes: number;
}

/** Decides per record (by its first seq): keep it (true) or drop it. Called in seq order. */
export type KeepFn = (seq: number, priority: number, bytes: number) => boolean;

/** Rewrites `seg` keeping the records `keep` accepts (and none below the head). */
export async function compactSegment(fs: FileLayer, dir: string, index: SegmentIndex, seg: Segment, keep: KeepFn): Promise<CompactResult> {
  const all = Buffer.from(await fs.readFile(seg.path));
  const buf = all.subarray(0, Math.min(all.byteLength, seg.durableEnd));
  const kept: { at: number; len: number; seq: number; count: number }[] = [];
  let dropped = 0;
  let droppedBytes = 0;
  const head = index.head;
  scanFrames(buf, SEGMENT_HEADER_BYTES, buf.byteLength, seg.base - 1, MAX_SCAN_PAYLOAD, (at, len, seq, count) => {
    if (seq + count - 1 < head) return;
    if (keep(seq, framePriority(buf, at), len)) kept.push({ at, len, seq, count });
    else {
      // A span straddling the head loses only the seqs not acked yet.
      dropped += seq + count - Math.max(seq, head);
      droppedBytes += len;
    }
  });
  const parts: Buffer[] = [encodeSegmentHeader(seg.base)];
  for (const k of kept) parts.push(buf.subarray(k.at, k.at + k.len));
  const tmp = `${seg.path}.compact`;
  const f = await fs.open(tmp, 'w');
  try {
    await f.writev(parts, 0);
    await f.sync();
  } finally {
    await f.close();
  }
  await fs.rename(tmp, seg.path);
  await fs.syncDir(dir);
  let offset = SEGMENT_HEADER_BYTES;
  index.rebuild(seg, () => {
    for (const k of kept) {
      seg.add(k.seq, offset, k.len, frameTs(buf, k.at), framePriority(buf, k.at), false, k.count);
      offset += k.len;
    }
  });
  seg.generation++;
  seg.badRanges = [];
  seg.stagedEnd = seg.durableEnd = offset;
  return { dropped, droppedBytes };
}
