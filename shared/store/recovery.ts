/**
 * Opening a log directory after a clean stop or a crash. The last segment's torn tail is cut;
 * damage inside any segment is skipped, counted and copied to `quarantine/`; stray files, a
 * bad cursor and empty segments become counted warnings. A bad file never stops the open.
 */
import { join } from 'node:path';
import { describeError } from '../errors.ts';
import { readCursor, CURSOR_FILE } from './cursor-file.ts';
import { newEpoch } from './epoch.ts';
import type { FileLayer } from './file-layer.ts';
import {
  decodeSegmentHeader,
  encodeSegmentHeader,
  framePriority,
  frameTs,
  scanFrames,
  SEGMENT_HEADER_BYTES,
} from './frame.ts';
import { MAX_SCAN_PAYLOAD, parseSegmentName, Segment } from './segment.ts';
import { SegmentIndex } from './segment-index.ts';
import type { RecoveryWarning } from './types.ts';

export type { RecoveryWarning };

export interface Recovered {
  readonly index: SegmentIndex;
  readonly acked: number;
  readonly nextSeq: number;
  /**
   * The incarnation its seqs belong to: the cursor's, or a new one (the time now, so later
   * than any before it) for a directory without a usable cursor. A receiver that knew the
   * producer at another epoch starts over at the producer's base instead of taking the new
   * seqs for ones it has (a wiped or replaced gateway numbers from 1 again).
   */
  readonly epoch: number;
  /** True when `epoch` is new here and must be written (with the cursor) before the log is used. */
  readonly newEpoch: boolean;
  readonly corruptRecords: number;
  readonly truncatedBytes: number;
  readonly warnings: readonly RecoveryWarning[];
}

export const QUARANTINE_DIR = 'quarantine';

/** Scans `dir` (creating it if missing) and rebuilds the index of what survives. */
export async function recoverDir(fs: FileLayer, dir: string): Promise<Recovered> {
  await fs.mkdir(dir);
  const warnings: RecoveryWarning[] = [];
  const warn = (code: string, message: string): void => void warnings.push({ code, message });
  let corrupt = 0;
  let truncated = 0;

  const segs: { base: number; name: string }[] = [];
  for (const name of await fs.readdir(dir)) {
    const base = parseSegmentName(name);
    if (base > 0) segs.push({ base, name });
    else if (name.endsWith('.tmp') || name.endsWith('.compact')) {
      await fs.unlink(join(dir, name)).catch(() => undefined);
      warn('STORE_LEFTOVER_FILE', `removed unfinished file ${name} in ${dir}`);
    } else if (name !== CURSOR_FILE && name !== QUARANTINE_DIR) {
      warn('STORE_STRAY_FILE', `ignored unknown file ${name} in ${dir}; remove it if it is not yours`);
    }
  }
  segs.sort((a, b) => a.base - b.base);

  const quarantine = async (name: string, bytes: Uint8Array, what: string): Promise<void> => {
    try {
      await fs.mkdir(join(dir, QUARANTINE_DIR));
      const f = await fs.open(join(dir, QUARANTINE_DIR, name), 'w');
      try {
        await f.writev([bytes], 0);
      } finally {
        await f.close();
      }
      warn('STORE_QUARANTINED', `${what}; copied to ${QUARANTINE_DIR}/${name}`);
    } catch (err) {
      warn('STORE_QUARANTINE_FAILED', `${what}; could not copy it aside: ${describeError(err)}`);
    }
  };

  const cursorRead = await readCursor(fs, dir);
  if (cursorRead.type === 'bad') {
    warn('STORE_BAD_CURSOR', `ack cursor in ${dir} is unusable (${cursorRead.why}); resending from the oldest record`);
  }
  const index = new SegmentIndex();
  let nextSeq = 1;
  let lastSeq = 0;
  for (let i = 0; i < segs.length; i++) {
    const { base, name } = segs[i] as { base: number; name: string };
    const path = join(dir, name);
    const isLast = i === segs.length - 1;
    nextSeq = Math.max(nextSeq, base);
    const bytes = await readSegment(fs, path);
    if (typeof bytes === 'number') {
      // Unreadable (permissions, I/O error): leave it alone, and keep new seqs clear of any
      // seq it might hold (at most one seq per byte: a span holds a payload byte per seq).
      nextSeq = Math.max(nextSeq, base + bytes);
      lastSeq = Math.max(lastSeq, base + bytes - 1);
      warn('STORE_UNREADABLE_SEGMENT', `cannot read segment ${name}; skipped it, fix its permissions or remove it`);
      continue;
    }
    if (bytes.byteLength < SEGMENT_HEADER_BYTES) {
      if (bytes.byteLength === 0) {
        warn('STORE_EMPTY_SEGMENT', `segment ${name} was empty; ${isLast ? 'rewrote its header' : 'removed it'}`);
      } else {
        await quarantine(`${name}.corrupt`, bytes, `segment ${name} has a short header`);
        corrupt++;
      }
      if (!isLast) {
        await fs.unlink(path).catch(() => undefined);
        continue;
      }
      // The committer writes on through this handle: opened as it opens segments itself.
      const f = await fs.open(path, 'w', { syncWrites: true });
      await f.writev([encodeSegmentHeader(base)], 0);
      if (!f.syncsWrites) await f.sync();
      const fresh = new Segment(base, path, SEGMENT_HEADER_BYTES, true);
      fresh.file = f;
      index.push(fresh);
      continue;
    }
    if (decodeSegmentHeader(bytes) !== base) {
      // Frames check themselves, so a bad header costs no records: keep a copy, trust the name.
      await quarantine(`${name}.header.bad`, bytes.subarray(0, SEGMENT_HEADER_BYTES), `segment ${name} has a damaged header`);
      if (isLast) {
        const f = await fs.open(path, 'r+');
        try {
          await f.writev([encodeSegmentHeader(base)], 0);
          await f.sync();
        } finally {
          await f.close();
        }
      }
    }
    const seg = new Segment(base, path, SEGMENT_HEADER_BYTES, true);
    const scan = scanFrames(bytes, SEGMENT_HEADER_BYTES, bytes.byteLength, Math.max(lastSeq, base - 1), MAX_SCAN_PAYLOAD, (at, len, seq, count) =>
      seg.add(seq, at, len, frameTs(bytes, at), framePriority(bytes, at), false, count),
    );
    for (const { from, to, lost } of scan.bad) {
      corrupt += lost;
      seg.badRanges.push([from, to]);
      await quarantine(`${name}.${from}-${to}.bad`, bytes.subarray(from, to), `${lost} damaged record(s) in ${name} at bytes ${from}-${to}`);
    }
    if (scan.badTail && scan.goodEnd < bytes.byteLength) {
      const tail = bytes.byteLength - scan.goodEnd;
      if (isLast) {
        const f = await fs.open(path, 'r+', { syncWrites: true });
        await f.truncate(scan.goodEnd);
        await f.sync();
        seg.file = f;
        truncated += tail;
        warn('STORE_TORN_TAIL', `cut ${tail} torn byte(s) at the end of ${name}`);
      } else {
        // The records lost run up to the next segment's first seq (its name says which).
        const nextBase = segs[i + 1]?.base ?? scan.lastSeq + 2;
        // (A file with no intact frame at all is likely not ours: count it once.)
        corrupt += seg.totalRecords === 0 ? 1 : Math.max(1, nextBase - scan.lastSeq - 1);
        await quarantine(`${name}.${scan.goodEnd}-${bytes.byteLength}.bad`, bytes.subarray(scan.goodEnd), `damaged tail of ${tail} byte(s) in ${name}`);
      }
    }
    seg.stagedEnd = seg.durableEnd = scan.goodEnd;
    seg.sealed = !isLast;
    lastSeq = Math.max(lastSeq, scan.lastSeq);
    index.push(seg);
  }
  nextSeq = Math.max(nextSeq, lastSeq + 1);

  let acked = 0;
  if (cursorRead.type === 'ok') {
    // Seqs go on after what the cursor saw, even when no segment is left: all of them acked and
    // deleted while the next one was still only staged, say. Numbering from 1 again would hand
    // a receiver seqs it already has.
    const c = cursorRead.cursor;
    nextSeq = Math.max(nextSeq, c.acked + 1, c.head);
    // New seqs past a gap go into a segment of their own, named for its first seq.
    const last = index.active;
    if (last && nextSeq > lastSeq + 1) last.sealed = true;
    acked = c.acked;
    index.advanceHead(Math.min(Math.max(c.head, acked + 1), nextSeq));
  }
  const epoch = cursorRead.type === 'ok' ? cursorRead.cursor.epoch : newEpoch();
  return { index, acked, nextSeq, epoch, newEpoch: cursorRead.type !== 'ok', corruptRecords: corrupt, truncatedBytes: truncated, warnings };
}

/** The segment's bytes, or (when unreadable) an upper bound on how many seqs it could hold. */
async function readSegment(fs: FileLayer, path: string): Promise<Buffer | number> {
  try {
    return Buffer.from(await fs.readFile(path));
  } catch {
    try {
      const f = await fs.open(path, 'r');
      try {
        return (await f.size()) + 1;
      } finally {
        await f.close();
      }
    } catch {
      return 2 ** 32;
    }
  }
}
