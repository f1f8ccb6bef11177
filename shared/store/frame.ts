/**
 * On-disk framing. A segment starts with a 16-byte header (magic "SLSG", version, base seq);
 * each record is `len u32 | crc32 u32 | seq f64 | ts f64 | priority u8 | span u24 | payload`,
 * little-endian, the CRC covering everything after itself. `span` is the number of seqs the
 * record covers less one: a record holding a batch of events takes the seqs `seq..seq+span`
 * (files written before spans existed have zeros there, one seq a record). A damaged record is
 * found by a bad CRC or an impossible length, and the scanner resyncs on the next frame that
 * checks out.
 */
import { crc32 } from 'node:zlib';

export const SEGMENT_MAGIC = 0x47534c53; // "SLSG" read as u32 LE
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 16;
/** Bytes a record takes on disk beyond its payload; byte bounds count payload + this. */
export const FRAME_HEADER_BYTES = 28;
/** Most seqs one record may cover (the span field is 24 bits). */
export const MAX_SPAN = 1 << 24;

/** Framed size of a payload of `n` bytes. */
export function frameBytes(n: number): number {
  return FRAME_HEADER_BYTES + n;
}

export function encodeSegmentHeader(baseSeq: number): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
  b.writeUInt32LE(SEGMENT_MAGIC, 0);
  b.writeUInt32LE(SEGMENT_VERSION, 4);
  b.writeDoubleLE(baseSeq, 8);
  return b;
}

/** The base seq in a segment header, or -1 when the header is not ours. */
export function decodeSegmentHeader(b: Buffer): number {
  if (b.byteLength < SEGMENT_HEADER_BYTES) return -1;
  if (b.readUInt32LE(0) !== SEGMENT_MAGIC || b.readUInt32LE(4) !== SEGMENT_VERSION) return -1;
  const base = b.readDoubleLE(8);
  return Number.isSafeInteger(base) && base >= 1 ? base : -1;
}

/** Writes one frame covering `count` seqs at `at` (the caller sized `buf`); returns the offset after it. */
export function writeFrame(buf: Buffer, at: number, seq: number, ts: number, priority: number, payload: Uint8Array, count = 1): number {
  const n = payload.byteLength;
  const span = count - 1;
  buf.writeUInt32LE(n, at);
  buf.writeDoubleLE(seq, at + 8);
  buf.writeDoubleLE(ts, at + 16);
  buf[at + 24] = priority;
  buf[at + 25] = span & 0xff;
  buf[at + 26] = (span >> 8) & 0xff;
  buf[at + 27] = (span >> 16) & 0xff;
  buf.set(payload, at + FRAME_HEADER_BYTES);
  const end = at + FRAME_HEADER_BYTES + n;
  buf.writeUInt32LE(crc32(buf.subarray(at + 8, end)), at + 4);
  return end;
}

/** `parseFrame` results below 1: the frame runs past `end`, or is damaged. */
export const FRAME_SHORT = 0;
export const FRAME_BAD = -1;

/**
 * Checks the frame at `at`: returns its length, FRAME_SHORT when it runs past `end`, or
 * FRAME_BAD. A frame whose seq is not above `afterSeq` is bad (seqs only grow in a file).
 */
export function parseFrame(buf: Buffer, at: number, end: number, afterSeq: number, maxPayload: number): number {
  if (at + FRAME_HEADER_BYTES > end) return FRAME_SHORT;
  const n = buf.readUInt32LE(at);
  if (n > maxPayload) return FRAME_BAD;
  const frameEnd = at + FRAME_HEADER_BYTES + n;
  if (frameEnd > end) return FRAME_SHORT;
  const seq = buf.readDoubleLE(at + 8);
  if (!(seq > afterSeq) || !Number.isSafeInteger(seq)) return FRAME_BAD;
  // A plain Uint8Array view is cheaper to make than buf.subarray (a Buffer) on this hot path.
  if (crc32(new Uint8Array(buf.buffer, buf.byteOffset + at + 8, frameEnd - at - 8)) !== buf.readUInt32LE(at + 4)) return FRAME_BAD;
  return frameEnd - at;
}

export function frameSeq(buf: Buffer, at: number): number {
  return buf.readDoubleLE(at + 8);
}

export function frameTs(buf: Buffer, at: number): number {
  return buf.readDoubleLE(at + 16);
}

export function framePriority(buf: Buffer, at: number): number {
  return buf[at + 24] ?? 0;
}

/** How many seqs the frame at `at` covers (1 for a record of one event). */
export function frameCount(buf: Buffer, at: number): number {
  return 1 + ((buf[at + 25] ?? 0) | ((buf[at + 26] ?? 0) << 8) | ((buf[at + 27] ?? 0) << 16));
}

/** Offset of the next intact frame after a damaged one at `from`, or -1. */
export function resync(buf: Buffer, from: number, end: number, afterSeq: number, maxPayload: number): number {
  for (let at = from + 1; at + FRAME_HEADER_BYTES <= end; at++) {
    if (parseFrame(buf, at, end, afterSeq, maxPayload) > 0) return at;
  }
  return -1;
}

/** What `scanFrames` reports per intact record: where it sits and the seqs it covers. */
export type FrameVisitor = (at: number, length: number, seq: number, count: number) => void;

export interface BadRange {
  readonly from: number;
  readonly to: number;
  readonly lost: number;
}

export interface ScanResult {
  /** Offset after the last intact frame (where a torn tail begins). */
  readonly goodEnd: number;
  /** Damaged ranges skipped by resync, with how many seqs they swallowed (at least 1). */
  readonly bad: readonly BadRange[];
  /** True when the bytes from goodEnd to end hold no intact frame. */
  readonly badTail: boolean;
  readonly lastSeq: number;
}

/** Visits every intact frame of `buf[start..end)` in order, resyncing past damage. */
export function scanFrames(
  buf: Buffer,
  start: number,
  end: number,
  afterSeq: number,
  maxPayload: number,
  visit: FrameVisitor,
): ScanResult {
  const bad: BadRange[] = [];
  let at = start;
  let last = afterSeq;
  while (at < end) {
    const len = parseFrame(buf, at, end, last, maxPayload);
    if (len > 0) {
      const seq = frameSeq(buf, at);
      const count = frameCount(buf, at);
      last = seq + count - 1;
      visit(at, len, seq, count);
      at += len;
      continue;
    }
    const next = resync(buf, at, end, last, maxPayload);
    if (next < 0) return { goodEnd: at, bad, badTail: true, lastSeq: last };
    bad.push({ from: at, to: next, lost: Math.max(1, frameSeq(buf, next) - last - 1) });
    at = next;
  }
  return { goodEnd: at, bad, badTail: false, lastSeq: last };
}
