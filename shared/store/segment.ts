/**
 * In-memory description of one segment file: where its records sit, in chunks of up to
 * CHUNK_RECORDS seqs (a record covering many seqs fills a chunk alone). Only chunk boundaries
 * are kept (not one entry per record), so a long outage grows the disk, not the heap; reads
 * seek to a chunk and scan from there. Counts here are of seqs (events), not of records.
 */
import type { LogFile } from './file-layer.ts';

export const CHUNK_RECORDS = 64;
/** Largest payload the scanner believes, whatever the options of the run that wrote it. */
export const MAX_SCAN_PAYLOAD = 64 * 1024 * 1024;

export interface Chunk {
  readonly seq: number;
  lastSeq: number;
  readonly offset: number;
  /** Seqs held (records of a span count each seq they cover). */
  count: number;
  bytes: number;
  minTs: number;
  maxTs: number;
}

const SEGMENT_NAME = /^(\d{20})\.seg$/;

/** `00000000000000000042.seg` for base seq 42; names sort in seq order. */
export function segmentName(base: number): string {
  return `${String(base).padStart(20, '0')}.seg`;
}

/** The base seq a file name declares, or -1 when it is not a segment name. */
export function parseSegmentName(name: string): number {
  const m = SEGMENT_NAME.exec(name);
  if (!m || m[1] === undefined) return -1;
  const base = Number(m[1]);
  return Number.isSafeInteger(base) && base >= 1 ? base : -1;
}

/** One segment file: its chunks, priority histogram, staged and durable ends, open handle. */
export class Segment {
  readonly chunks: Chunk[] = [];
  /** Seqs per priority, for the priority policy's choice of what to compact. */
  readonly priorities = new Uint32Array(256);
  /** Damaged ranges found at open, [from, to) offsets the reader jumps over. */
  badRanges: (readonly [number, number])[] = [];
  /** End of bytes staged for writing (decides when to roll). */
  stagedEnd: number;
  /** End of durable bytes; reads never go past it. */
  durableEnd: number;
  /** Whether the file exists on disk yet (a rolled segment is created at its first commit). */
  created: boolean;
  sealed = false;
  /** Bumped when compaction swaps the file, so a read that raced it retries. */
  generation = 0;
  file: LogFile | undefined;
  totalBytes = 0;
  totalRecords = 0;

  constructor(
    readonly base: number,
    readonly path: string,
    headerBytes: number,
    created: boolean,
  ) {
    this.stagedEnd = headerBytes;
    this.durableEnd = created ? headerBytes : 0;
    this.created = created;
  }

  get lastSeq(): number {
    const c = this.chunks[this.chunks.length - 1];
    return c ? c.lastSeq : this.base - 1;
  }

  get firstSeq(): number {
    const c = this.chunks[0];
    return c ? c.seq : this.base;
  }

  /**
   * Notes one record of `bytes` framed bytes at `offset` covering `count` seqs from `seq` (in
   * a new chunk if `newChunk`).
   */
  add(seq: number, offset: number, bytes: number, ts: number, priority: number, newChunk = false, count = 1): void {
    let c = this.chunks[this.chunks.length - 1];
    if (!c || c.count >= CHUNK_RECORDS || newChunk) {
      c = { seq, lastSeq: seq, offset, count: 0, bytes: 0, minTs: ts, maxTs: ts };
      this.chunks.push(c);
    }
    c.lastSeq = seq + count - 1;
    c.count += count;
    c.bytes += bytes;
    if (ts < c.minTs) c.minTs = ts;
    if (ts > c.maxTs) c.maxTs = ts;
    this.priorities[priority] = (this.priorities[priority] ?? 0) + count;
    this.totalBytes += bytes;
    this.totalRecords += count;
  }

  /** Index of the first chunk whose lastSeq >= seq (chunks.length when none). */
  chunkAt(seq: number): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.chunks[mid] as Chunk).lastSeq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The lowest priority with records here, or -1. */
  lowestPriority(): number {
    for (let p = 0; p < 256; p++) if ((this.priorities[p] ?? 0) > 0) return p;
    return -1;
  }

  /** Drops every record description (before a compaction re-adds the survivors). */
  reset(): void {
    this.chunks.length = 0;
    this.priorities.fill(0);
    this.totalBytes = 0;
    this.totalRecords = 0;
  }
}
