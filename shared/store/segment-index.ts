/**
 * The ordered segments of a disk log and the head: the first seq still readable. Everything
 * below the head is acked or evicted. Retained bytes and records are kept incrementally, at
 * chunk granularity (the chunk holding the head counts whole for bytes).
 */
import type { Chunk, Segment } from './segment.ts';

export interface Trimmed {
  readonly records: number;
  readonly bytes: number;
}

/** The segments of one disk log, oldest first, and the head with its accounting. */
export class SegmentIndex {
  readonly segments: Segment[] = [];
  head = 1;
  private totalBytes = 0;
  private totalRecords = 0;
  private trimmedBytes = 0;
  private trimmedRecords = 0;
  /** Position of the first chunk not wholly below the head. */
  private hSeg = 0;
  private hChunk = 0;

  get active(): Segment | undefined {
    return this.segments[this.segments.length - 1];
  }

  push(seg: Segment): void {
    this.segments.push(seg);
    this.totalBytes += seg.totalBytes;
    this.totalRecords += seg.totalRecords;
    this.walk();
  }

  /** Notes a record covering `count` seqs from `seq` (see `Segment.add`). */
  add(seg: Segment, seq: number, offset: number, bytes: number, ts: number, priority: number, count = 1): void {
    // A chunk already wholly below the head is counted as trimmed; it must not grow.
    const trimmedTail = seg === this.segments[this.hSeg] && this.hChunk >= seg.chunks.length && seg.chunks.length > 0;
    seg.add(seq, offset, bytes, ts, priority, trimmedTail, count);
    this.totalBytes += bytes;
    this.totalRecords += count;
  }

  get liveBytes(): number {
    return this.totalBytes - this.trimmedBytes;
  }

  get liveRecords(): number {
    const c = this.firstLiveChunk();
    const partial = c ? Math.min(c.count, Math.max(0, this.head - c.seq)) : 0;
    return this.totalRecords - this.trimmedRecords - partial;
  }

  firstLiveChunk(): Chunk | undefined {
    return this.segments[this.hSeg]?.chunks[this.hChunk];
  }

  /** Moves the head up to `seq` (never down). */
  advanceHead(seq: number): void {
    if (seq <= this.head) return;
    this.head = seq;
    this.walk();
  }

  private walk(): void {
    for (;;) {
      const seg = this.segments[this.hSeg];
      if (!seg) return;
      const c = seg.chunks[this.hChunk];
      if (!c) {
        if (this.hSeg >= this.segments.length - 1) return;
        this.hSeg++;
        this.hChunk = 0;
        continue;
      }
      if (c.lastSeq >= this.head) return;
      this.trimmedBytes += c.bytes;
      this.trimmedRecords += c.count;
      this.hChunk++;
    }
  }

  /** Drops the oldest retained chunk if it is durable; returns what was dropped. */
  evictOldestChunk(durableSeq: number): Trimmed | undefined {
    const c = this.firstLiveChunk();
    if (!c || c.lastSeq > durableSeq) return undefined;
    const records = c.count - Math.min(c.count, Math.max(0, this.head - c.seq));
    this.advanceHead(c.lastSeq + 1);
    return { records, bytes: c.bytes };
  }

  hasTrimmedSegments(): boolean {
    return this.hSeg > 0;
  }

  /** Takes the leading sealed segments that hold nothing at or above the head. */
  takeTrimmedSegments(): Segment[] {
    const out: Segment[] = [];
    while (this.hSeg > 0) {
      const seg = this.segments.shift() as Segment;
      this.hSeg--;
      this.forget(seg, seg.chunks.length);
      out.push(seg);
    }
    return out;
  }

  /** Removes a segment that recovery or a fault gave up on, wherever it sits. */
  remove(seg: Segment): void {
    const i = this.segments.indexOf(seg);
    if (i < 0) return;
    const trimmedChunks = i < this.hSeg ? seg.chunks.length : i === this.hSeg ? this.hChunk : 0;
    this.segments.splice(i, 1);
    this.forget(seg, trimmedChunks);
    if (i < this.hSeg) this.hSeg--;
    else if (i === this.hSeg) this.hChunk = 0;
    this.walk();
  }

  private forget(seg: Segment, trimmedChunks: number): void {
    this.totalBytes -= seg.totalBytes;
    this.totalRecords -= seg.totalRecords;
    for (let k = 0; k < trimmedChunks; k++) {
      const c = seg.chunks[k] as Chunk;
      this.trimmedBytes -= c.bytes;
      this.trimmedRecords -= c.count;
    }
  }

  /** Re-describes `seg` after compaction: `refill` re-adds its surviving records. */
  rebuild(seg: Segment, refill: () => void): void {
    const i = this.segments.indexOf(seg);
    this.forget(seg, i < this.hSeg ? seg.chunks.length : i === this.hSeg ? this.hChunk : 0);
    seg.reset();
    refill();
    this.totalBytes += seg.totalBytes;
    this.totalRecords += seg.totalRecords;
    if (i < this.hSeg) {
      for (const c of seg.chunks) {
        this.trimmedBytes += c.bytes;
        this.trimmedRecords += c.count;
      }
    } else if (i === this.hSeg) {
      this.hChunk = 0;
      this.walk();
    }
  }

  /** The segment holding `seq` or the first one after it. */
  segmentFor(seq: number): Segment | undefined {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((segs[mid] as Segment).lastSeq < seq) lo = mid + 1;
      else hi = mid;
    }
    return segs[lo];
  }
}
