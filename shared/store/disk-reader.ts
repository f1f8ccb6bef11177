/**
 * The read path of the disk log: serve from the tail cache when it reaches back far enough,
 * else seek to the chunk holding the seq and read a block from the segment file. Frames read
 * from disk are CRC-checked; damage found now is skipped, counted once and remembered.
 */
import { IoError } from '../errors.ts';
import type { FileLayer } from './file-layer.ts';
import { FRAME_HEADER_BYTES, frameCount, framePriority, frameSeq, frameTs, parseFrame, resync } from './frame.ts';
import type { ReadHandles } from './read-handles.ts';
import type { LogRecord } from './types.ts';
import { MAX_SCAN_PAYLOAD, type Chunk, type Segment } from './segment.ts';
import type { SegmentIndex } from './segment-index.ts';
import type { TailCache } from './tail-cache.ts';

export interface ReadContext {
  readonly fs: FileLayer;
  readonly index: SegmentIndex;
  readonly cache: TailCache;
  readonly handles: ReadHandles;
  readonly durableSeq: number;
  /** Where lending reads (`readWith`) read from disk, reused from one to the next. */
  readonly readBuffer: ReadBuffer;
  /** Damage met while reading that recovery had not seen. */
  onCorrupt(seg: Segment, from: number, to: number, lost: number): void;
}

/**
 * One buffer for the disk reads of `readWith` calls: their records are lent, so the bytes need
 * to live only until the callback returns. A drain reading a backlog from disk then reuses one
 * buffer instead of leaving one per frame for the GC (RSS while draining, BENCHMARKS.md).
 */
export class ReadBuffer {
  private buf: Buffer | undefined;
  private busy = false;

  constructor(readonly bytes: number) {}

  /** The buffer, if no other read holds it; `free` gives it back. */
  take(): Buffer | undefined {
    if (this.busy) return undefined;
    this.busy = true;
    this.buf ??= Buffer.allocUnsafeSlow(this.bytes);
    return this.buf;
  }

  free(): void {
    this.busy = false;
  }
}

/** Collects records into `out` until a limit (`maxRecords` counts seqs); the state of one `read()` call. */
class Collector {
  readonly out: LogRecord[] = [];
  bytes = 0;
  seqs = 0;
  constructor(
    public next: number,
    readonly limitSeq: number,
    readonly maxRecords: number,
    readonly maxBytes: number,
    /** Take cache records as views (valid until the cache reuses their block), not copies. */
    private readonly lend: boolean,
    /** With `lend`: the reused buffer disk reads go into, if it is free. */
    readonly scratch: Buffer | undefined,
  ) {}

  /** Set once a record was left out for a limit: nothing after it may be taken. */
  private stopped = false;
  /** Indexes in `out` of cache records lent as they are (`lend`), not copied yet. */
  private lent: number[] = [];

  get full(): boolean {
    return this.stopped || this.seqs >= this.maxRecords || this.bytes >= this.maxBytes || this.next > this.limitSeq;
  }

  /**
   * Takes the frame at `at` if it holds a wanted seq; false once a limit is reached. A frame in
   * a buffer reused later (`cached`: a cache block or the read buffer) is copied, unless lending.
   */
  take(buf: Buffer, at: number, len: number, cached = false): boolean {
    const seq = frameSeq(buf, at);
    const count = frameCount(buf, at);
    if (!this.wants(seq, count, len - FRAME_HEADER_BYTES)) return !this.stopped;
    let payload = new Uint8Array(buf.buffer, buf.byteOffset + at + FRAME_HEADER_BYTES, len - FRAME_HEADER_BYTES);
    if (cached && !this.lend) payload = payload.slice();
    else if (cached) this.lent.push(this.out.length);
    return this.add({ seq, count, ts: frameTs(buf, at), priority: framePriority(buf, at), payload });
  }

  /** Copies the records lent so far: before an await, after which the cache may reuse their blocks. */
  detach(): void {
    for (const i of this.lent) this.out[i] = copyOf(this.out[i] as LogRecord);
    this.lent = [];
  }

  /** Whether a record is wanted; sets `stopped` when a limit leaves it out. */
  private wants(seq: number, count: number, n: number): boolean {
    const last = seq + count - 1;
    if (last < this.next) return false;
    if (last > this.limitSeq || (this.out.length > 0 && (this.bytes + n > this.maxBytes || this.seqs + count > this.maxRecords))) this.stopped = true;
    return !this.stopped;
  }

  private add(r: LogRecord): boolean {
    this.out.push(r);
    this.bytes += r.payload.byteLength;
    this.seqs += r.count;
    this.next = r.seq + r.count;
    return this.seqs < this.maxRecords && this.bytes < this.maxBytes;
  }
}

const copyOf = (r: LogRecord): LogRecord => ({ seq: r.seq, count: r.count, ts: r.ts, priority: r.priority, payload: r.payload.slice() });

/**
 * Reads up to `maxRecords` / `maxBytes` of durable records from `fromSeq` (see `OutboxLog.read`)
 * and hands them to `use`, synchronously; with `lend`, records from the tail cache are lent to
 * it (see `OutboxLog.readWith`) instead of copied.
 */
export async function readRecords<T>(ctx: ReadContext, fromSeq: number, maxRecords: number, maxBytes: number, lend: boolean, use: (records: LogRecord[]) => T): Promise<T> {
  const scratch = lend ? ctx.readBuffer.take() : undefined;
  try {
    return use(await collect(ctx, new Collector(Math.max(fromSeq, ctx.index.head), ctx.durableSeq, maxRecords, maxBytes, lend, scratch)));
  } finally {
    if (scratch) ctx.readBuffer.free();
  }
}

async function collect(ctx: ReadContext, c: Collector): Promise<LogRecord[]> {
  let stalls = 0;
  while (!c.full) {
    const before = c.next;
    const group = ctx.cache.find(c.next);
    if (group) {
      scan: for (const run of group.runs) {
        for (let at = 0; at < run.byteLength; ) {
          const len = FRAME_HEADER_BYTES + run.readUInt32LE(at);
          if (!c.take(run, at, len, true)) break scan;
          at += len;
        }
      }
      if (c.next <= group.lastSeq && !c.full) c.next = group.lastSeq + 1;
    } else {
      const seg = ctx.index.segmentFor(c.next);
      if (!seg || seg.chunks.length === 0) break;
      c.detach();
      await readFromSegment(ctx, seg, c);
    }
    if (c.next === before && !c.full) {
      // Nothing moved: a segment vanished under us (acked and deleted) or a swap raced us.
      if (++stalls > 3) break;
    } else stalls = 0;
  }
  return c.out;
}

async function readFromSegment(ctx: ReadContext, seg: Segment, c: Collector): Promise<void> {
  const chunk = seg.chunks[seg.chunkAt(c.next)];
  if (!chunk) {
    c.next = seg.lastSeq + 1;
    return;
  }
  if (c.next < chunk.seq) c.next = chunk.seq;
  const start = chunk.offset;
  // Read the chunks the limits need, no more: a block is garbage once its records are sent.
  let want = 0;
  let seqs = 0;
  for (let k = seg.chunkAt(c.next); k < seg.chunks.length; k++) {
    const ck = seg.chunks[k] as Chunk;
    want = ck.offset + ck.bytes - start;
    seqs += ck.count;
    if (seqs >= c.maxRecords - c.seqs || want >= c.maxBytes - c.bytes) break;
  }
  const generation = seg.generation;
  let end = Math.min(seg.durableEnd, start + Math.max(4096, Math.min(want, 16 * 1024 * 1024)));
  for (;;) {
    const into = c.scratch && end - start <= c.scratch.byteLength ? c.scratch.subarray(0, end - start) : undefined;
    const buf = await readBlock(ctx, seg, start, end, into);
    if (!buf || seg.generation !== generation) return;
    const r = parseBlock(ctx, seg, buf, start, end, chunk.seq - 1, c, into !== undefined);
    if (r === 'done') return;
    if (r === 'short' && end < seg.durableEnd) {
      // A frame runs past the block (or damage needs the rest of the file to resync).
      if (c.out.length > 0) return;
      end = Math.min(seg.durableEnd, start + (end - start) * 2);
      continue;
    }
    c.next = Math.max(c.next, seg.lastSeq + 1);
    return;
  }
}

/** Reads file bytes `start..end` of `seg`, into `into` when given (else a new buffer). */
async function readBlock(ctx: ReadContext, seg: Segment, start: number, end: number, into: Buffer | undefined): Promise<Buffer | undefined> {
  let h;
  try {
    h = await ctx.handles.acquire(ctx.fs, seg);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IoError('STORE_READ_FAILED', `cannot open ${seg.path}`, { cause: err, fix: 'check the disk and permissions' });
  }
  try {
    const buf = into ?? Buffer.allocUnsafe(end - start);
    let got = 0;
    while (got < buf.byteLength) {
      const n = await h.file.read(buf, got, buf.byteLength - got, start + got);
      if (n <= 0) break;
      got += n;
    }
    return got === buf.byteLength ? buf : buf.subarray(0, got);
  } catch (err) {
    // A handle that failed may be stale (a file replaced under it): the next read opens afresh.
    ctx.handles.drop(seg);
    throw new IoError('STORE_READ_FAILED', `cannot read ${seg.path}`, { cause: err, fix: 'check the disk' });
  } finally {
    ctx.handles.release(h);
  }
}

/** Parses `buf` (file bytes from `base`); 'done' when a limit was hit, 'short' when it ran out mid-frame. */
function parseBlock(ctx: ReadContext, seg: Segment, buf: Buffer, base: number, end: number, afterSeq: number, c: Collector, reused: boolean): 'done' | 'short' | 'end' {
  const n = buf.byteLength;
  let at = 0;
  let last = afterSeq;
  while (at < n) {
    const len = parseFrame(buf, at, n, last, MAX_SCAN_PAYLOAD);
    if (len > 0) {
      last = frameSeq(buf, at) + frameCount(buf, at) - 1;
      if (!c.take(buf, at, len, reused)) return 'done';
      at += len;
      continue;
    }
    const known = seg.badRanges.find((r) => r[0] === base + at);
    if (known) {
      at = known[1] - base;
      continue;
    }
    if (len === 0 && base + n < seg.durableEnd) return 'short';
    const next = resync(buf, at, n, last, MAX_SCAN_PAYLOAD);
    if (next < 0 && base + n < seg.durableEnd) return 'short';
    const to = next < 0 ? n : next;
    const lost = next < 0 ? Math.max(1, seg.lastSeq - last) : Math.max(1, frameSeq(buf, next) - last - 1);
    seg.badRanges.push([base + at, base + to]);
    ctx.onCorrupt(seg, base + at, base + to, lost);
    at = to;
  }
  return c.full ? 'done' : end < seg.durableEnd ? 'short' : 'end';
}
