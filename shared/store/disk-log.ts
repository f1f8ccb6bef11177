/**
 * The disk log: segments of CRC-framed records, group commit, a persisted ack cursor,
 * bounds in bytes and age with a declared overflow policy, and recovery on open.
 * Runtime I/O faults (ENOSPC, EROFS, EIO) never throw out of the log: they are counted,
 * reported as status events, and retried with backoff until the disk works again.
 */
import { join } from 'node:path';
import { describeError, IoError, type SluiceError } from '../errors.ts';
import { BlockPool, BLOCK_BYTES } from './block-pool.ts';
import { Committer, type StagedPart } from './committer.ts';
import { writeCursor } from './cursor-file.ts';
import { CursorWriter } from './cursor-writer.ts';
import { ReadBuffer, readRecords } from './disk-reader.ts';
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES } from './frame.ts';
import { IoQueue } from './io-queue.ts';
import { LogCounters, WritableWaiters } from './log-counters.ts';
import type { LogConfig } from './options.ts';
import { relievePriority } from './priority-relief.ts';
import { Segment, segmentName } from './segment.ts';
import type { SegmentIndex } from './segment-index.ts';
import { SeqWaiters } from './seq-waiters.ts';
import { ReadHandles } from './read-handles.ts';
import { TailCache } from './tail-cache.ts';
import type { AppendOptions, DiskLog, EvictReason, LogListener, LogRecord, LogStats, RecoveryReport, SeqRange, Span } from './types.ts';
import { checkAppend, closedError, fullError, appendAll, tooBigError, type Records } from './admission.ts';

/** The disk log; `openDiskLog` (open-disk-log.ts) recovers the directory and builds one. */
export class DiskLogImpl implements DiskLog {
  readonly kind = 'disk';
  private readonly cache: TailCache;
  private readonly handles = new ReadHandles();
  /** Where lending reads from disk go, reused: a few frames' worth. */
  private readonly readBuffer = new ReadBuffer(1024 * 1024);
  private readonly io = new IoQueue();
  private readonly cursor: CursorWriter;
  private readonly committer: Committer;
  private readonly counters = new LogCounters();
  private readonly waiters = new SeqWaiters();
  private readonly writable = new WritableWaiters();
  private durable: number;
  private closed: Promise<void> | undefined;
  private relieving: Promise<void> | undefined;
  private ageTimer: unknown;

  constructor(
    private readonly cfg: LogConfig,
    readonly dir: string,
    private readonly index: SegmentIndex,
    private acked: number,
    private nextSeq: number,
    readonly recovery: RecoveryReport,
    /** Which incarnation of the directory its seqs belong to (see Recovered.epoch). */
    readonly epoch: number,
    private readonly newEpoch: boolean,
  ) {
    this.cursor = new CursorWriter(cfg.clock, cfg.cursorIntervalMs, {
      current: () => ({ acked: this.acked, head: this.index.head, epoch: this.epoch }),
      write: (c) => writeCursor(cfg.fs, dir, c),
      after: () => this.afterCursor(),
      fault: (err) => this.reportFault('STORE_CURSOR_WRITE_FAILED', err),
    });
    this.durable = nextSeq - 1;
    // Blocks the cache holds come back for new groups; a few spare ones cover the groups in flight.
    const pool = new BlockPool(Math.ceil(cfg.tailCacheBytes / BLOCK_BYTES) + 4);
    this.cache = new TailCache(cfg.tailCacheBytes, pool);
    this.counters.corruptRecords = recovery.corruptRecords;
    this.counters.truncatedBytes = recovery.truncatedBytes;
    this.counters.warnings = recovery.warnings.length;
    if (!index.active) index.push(new Segment(nextSeq, join(dir, segmentName(nextSeq)), SEGMENT_HEADER_BYTES, false));
    this.committer = new Committer(cfg, dir, this.io, {
      durable: (part) => this.onDurable(part),
      fault: (err) => this.onFault(err),
      recovered: () => this.counters.emit({ type: 'recovered' }),
    }, pool);
    this.scheduleAge();
  }

  /** Drops segments the cursor already covers and rewrites a cursor recovery found unusable. */
  async start(): Promise<void> {
    // A new epoch is on disk before anything is sent under it: else a restart would read the
    // records under another one.
    if (this.newEpoch || this.index.segments.length > 1 || this.recovery.warnings.length > 0) await this.cursor.request(true);
  }

  get maxRecordBytes(): number {
    return this.cfg.maxRecordBytes;
  }

  get durableSeq(): number {
    return this.durable;
  }

  append(payload: Uint8Array, opts?: AppendOptions): Promise<number> {
    const err = this.admit(payload.byteLength + FRAME_HEADER_BYTES, payload.byteLength, opts);
    if (err) return Promise.reject(err);
    return this.waiters.wait(this.put(payload, opts, 1));
  }

  appendBatch(payloads: readonly Uint8Array[], opts?: AppendOptions): Promise<SeqRange> {
    return this.appendRecords({ n: payloads.length, payloadAt: (i) => payloads[i] as Uint8Array, countAt: () => 1 }, opts);
  }

  appendSpans(spans: readonly Span[], opts?: AppendOptions): Promise<SeqRange> {
    return this.appendRecords({ n: spans.length, payloadAt: (i) => (spans[i] as Span).payload, countAt: (i) => (spans[i] as Span).count }, opts);
  }

  private appendRecords(records: Records, opts: AppendOptions | undefined): Promise<SeqRange> {
    const r = appendAll(records, this.nextSeq, this.dir, (bytes, largest) => this.admit(bytes, largest, opts), (payload, count) => this.put(payload, opts, count));
    if (r instanceof Error) return Promise.reject(r);
    return r.last < r.first ? Promise.resolve(r) : this.waiters.wait(r.last).then(() => r);
  }

  private admit(frameBytes: number, largest: number, opts: AppendOptions | undefined): SluiceError | undefined {
    if (this.closed) return closedError(this.dir);
    if (largest > this.cfg.maxRecordBytes) return tooBigError(largest, this.cfg.maxRecordBytes, this.dir);
    const bad = checkAppend(opts, this.dir);
    if (bad) return bad;
    this.enforceAge();
    if (this.cfg.overflow === 'priority' && this.index.liveBytes + frameBytes > this.cfg.maxBytes) this.relieve();
    const why = this.refusal(frameBytes);
    if (why === undefined && this.cfg.overflow === 'drop-oldest') this.makeRoom(frameBytes);
    if (why === undefined) return undefined;
    this.counters.rejected++;
    return fullError(why, this.dir);
  }

  /** Why an append of `frameBytes` would be refused now, or undefined. */
  private refusal(frameBytes: number): 'full' | 'unwritable' | 'backlog' | undefined {
    if (this.committer.pendingBytes + frameBytes > this.cfg.maxPendingBytes) return 'backlog';
    const policy = this.cfg.overflow;
    if (policy === 'reject' && this.committer.faulted !== undefined) return 'unwritable';
    const live = this.index.liveBytes + frameBytes;
    if (policy === 'reject' && live > this.cfg.maxBytes) return 'full';
    if (policy === 'priority' && live > this.cfg.maxBytes * 1.25) return 'full';
    return undefined;
  }

  private makeRoom(frameBytes: number): void {
    if (this.index.liveBytes + frameBytes <= this.cfg.maxBytes) return;
    this.evictOldest('size', () => this.index.liveBytes + frameBytes > this.cfg.maxBytes);
  }

  /**
   * Evicts the oldest durable chunks while `more()` holds, with one event per call. The head
   * is persisted lazily (with the next ack or close) unless whole segments can go now.
   */
  private evictOldest(reason: EvictReason, more: () => boolean): void {
    let records = 0;
    let bytes = 0;
    while (more()) {
      const gone = this.index.evictOldestChunk(this.durable);
      if (!gone) break;
      records += gone.records;
      bytes += gone.bytes;
    }
    if (records === 0) return;
    this.counters.evict(reason, records, bytes);
    this.wakeWritable();
    if (this.index.hasTrimmedSegments()) void this.cursor.request();
  }

  /** Stages one record covering `count` seqs; returns its last seq. */
  private put(payload: Uint8Array, opts: AppendOptions | undefined, count: number): number {
    const seq = this.nextSeq;
    this.nextSeq += count;
    const ts = opts?.ts ?? this.cfg.clock.now();
    const priority = opts?.priority ?? 0;
    const size = payload.byteLength + FRAME_HEADER_BYTES;
    let seg = this.index.active as Segment;
    if (seg.sealed || (seg.totalRecords > 0 && seg.stagedEnd + size > this.cfg.segmentBytes)) seg = this.roll(seq);
    const offset = this.committer.stage(seg, seq, ts, priority, payload, count);
    this.index.add(seg, seq, offset, size, ts, priority, count);
    return seq + count - 1;
  }

  /** Seals the active segment; the next one is created on disk with its first commit. */
  private roll(base: number): Segment {
    const old = this.index.active as Segment;
    old.sealed = true;
    void this.io.run(async () => {
      if (old.file && !this.committer.holds(old)) {
        const f = old.file;
        old.file = undefined;
        await f.close().catch(() => undefined);
      }
    });
    const seg = new Segment(base, join(this.dir, segmentName(base)), SEGMENT_HEADER_BYTES, false);
    this.index.push(seg);
    return seg;
  }

  read(fromSeq: number, maxRecords: number, maxBytes = Infinity): Promise<LogRecord[]> {
    return this.readRecords(fromSeq, maxRecords, maxBytes, false, (records) => records);
  }

  readWith<T>(fromSeq: number, maxRecords: number, maxBytes: number, use: (records: readonly LogRecord[]) => T): Promise<T> {
    return this.readRecords(fromSeq, maxRecords, maxBytes, true, use);
  }

  private readRecords<T>(fromSeq: number, maxRecords: number, maxBytes: number, lend: boolean, use: (records: LogRecord[]) => T): Promise<T> {
    if (this.closed || maxRecords <= 0) return Promise.resolve(use([]));
    this.enforceAge();
    return readRecords(
      {
        fs: this.cfg.fs,
        index: this.index,
        cache: this.cache,
        handles: this.handles,
        durableSeq: this.durable,
        readBuffer: this.readBuffer,
        onCorrupt: (seg, from, to, lost) => {
          this.counters.corruptRecords += lost;
          this.counters.warn('STORE_CORRUPT_RECORD', `skipped ${lost} damaged record(s) in ${seg.path} at bytes ${from}-${to}`);
        },
      },
      fromSeq,
      maxRecords,
      maxBytes,
      lend,
      use,
    );
  }

  ack(uptoSeq: number): Promise<void> {
    const upto = Math.min(uptoSeq, this.durable);
    if (upto <= this.acked || this.closed) return Promise.resolve();
    this.acked = upto;
    this.index.advanceHead(upto + 1);
    this.wakeWritable();
    return this.cursor.request();
  }

  /** After each cursor write (see CursorWriter): deletes segments it no longer needs. */
  private async afterCursor(): Promise<void> {
    // Segment files change on the commit queue only (commits, rolls, compaction), so the
    // deletions run there. Deleting before the cursor is durable would be safe too: the active
    // segment, which bounds the next seq, is never deleted, and a restart resends from the
    // oldest file left.
    if (this.index.hasTrimmedSegments()) await this.io.run(() => this.deleteTrimmed());
    this.wakeWritable();
  }

  private async deleteTrimmed(): Promise<void> {
    for (const seg of this.index.takeTrimmedSegments()) {
      this.cache.dropSegment(seg);
      this.handles.drop(seg);
      if (seg.file) await seg.file.close().catch(() => undefined);
      seg.file = undefined;
      await this.cfg.fs.unlink(seg.path).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.reportFault('STORE_DELETE_FAILED', err);
      });
    }
    this.wakeWritable();
  }

  private onDurable(part: StagedPart): void {
    this.durable = part.lastSeq;
    this.cache.add({ seg: part.seg, firstSeq: part.firstSeq, lastSeq: part.lastSeq, runs: part.chunks(), blocks: part.blocks, bytes: part.blocks.reduce((n, b) => n + b.byteLength, 0) });
    this.waiters.release(part.lastSeq);
    this.counters.emit({ type: 'durable', seq: part.lastSeq });
    this.wakeWritable();
    if (this.cfg.overflow === 'priority' && this.index.liveBytes > this.cfg.maxBytes) this.relieve();
  }

  private onFault(err: unknown): void {
    this.reportFault('STORE_WRITE_FAILED', err);
    // A full disk under drop-oldest (or priority) frees room by dropping the oldest segment.
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC' || this.cfg.overflow === 'reject') return;
    const oldest = this.index.segments.find((s) => s.sealed && s.totalRecords > 0 && s.lastSeq >= this.index.head);
    if (!oldest || oldest.lastSeq > this.durable) return;
    this.evictOldest('size', () => this.index.head <= oldest.lastSeq);
    // The room is needed by the write retried next: delete now, ahead of it on the commit queue
    // (safe before the cursor is durable, see afterCursor).
    if (this.index.hasTrimmedSegments()) void this.io.run(() => this.deleteTrimmed());
  }

  private reportFault(code: string, err: unknown): void {
    const errno = (err as NodeJS.ErrnoException).code ?? 'EIO';
    this.counters.fault(code, `${errno} in ${this.dir}: ${describeError(err)}`);
  }

  private relieve(): void {
    if (this.relieving || this.closed) return;
    this.relieving = this.io
      .run(() =>
        relievePriority({
          cfg: this.cfg,
          dir: this.dir,
          index: this.index,
          cache: this.cache,
          counters: this.counters,
          durableSeq: () => this.durable,
          roll: () => void this.roll(this.nextSeq),
        }),
      )
      .catch((err: unknown) => void this.reportFault('STORE_COMPACT_FAILED', err))
      .finally(() => {
        this.relieving = undefined;
        this.wakeWritable();
      });
  }

  private enforceAge(): void {
    if (this.cfg.maxAgeMs === Infinity) return;
    const cutoff = this.cfg.clock.now() - this.cfg.maxAgeMs;
    const stale = (): boolean => (this.index.firstLiveChunk()?.maxTs ?? Infinity) < cutoff;
    if (stale()) this.evictOldest('age', stale);
  }

  private scheduleAge(): void {
    if (this.cfg.maxAgeMs === Infinity || this.closed) return;
    this.ageTimer = this.cfg.clock.setTimeout(() => {
      this.enforceAge();
      this.scheduleAge();
    }, Math.min(60_000, Math.max(50, this.cfg.maxAgeMs / 4)), true);
  }

  whenDurable(seq: number): Promise<void> {
    if (seq <= this.durable || this.closed) return Promise.resolve();
    return this.waiters.wait(seq).then(
      () => undefined,
      () => undefined,
    );
  }

  isWritable(bytes = 0): boolean {
    return !this.closed && this.refusal(bytes + FRAME_HEADER_BYTES) === undefined;
  }

  whenWritable(): Promise<void> {
    if (this.closed || this.isWritable()) return Promise.resolve();
    return this.writable.wait();
  }

  private wakeWritable(): void {
    if (this.writable.size > 0 && (this.closed || this.isWritable())) {
      this.writable.wakeAll();
      this.counters.emit({ type: 'writable' });
    }
  }

  stats(): LogStats {
    if (!this.closed) this.enforceAge();
    const first = this.index.firstLiveChunk();
    return this.counters.snapshot({
      kind: 'disk',
      health: this.committer.faulted !== undefined ? 'faulted' : this.isWritable() ? 'ok' : 'full',
      firstSeq: this.index.head,
      nextSeq: this.nextSeq,
      durableSeq: this.durable,
      ackedSeq: this.acked,
      records: this.index.liveRecords,
      bytes: this.index.liveBytes,
      oldestAgeMs: first ? Math.max(0, this.cfg.clock.now() - first.minTs) : 0,
      segments: this.index.segments.length,
    });
  }

  subscribe(listener: LogListener): () => void {
    return this.counters.subscribe(listener);
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    if (this.ageTimer !== undefined) this.cfg.clock.clearTimeout(this.ageTimer);
    const flushed = await this.committer.flush();
    if (!flushed) {
      this.committer.discard();
      const err = new IoError('STORE_CLOSED_UNWRITTEN', `log in ${this.dir} closed while the disk refused writes`, {
        where: this.dir,
        fix: 'free space or remount the disk read-write, then append again',
      });
      this.waiters.rejectAll(err);
    }
    await this.relieving;
    await this.cursor.request(true);
    await this.io.idle();
    await this.handles.closeAll();
    for (const seg of this.index.segments) {
      if (seg.file) await seg.file.close().catch(() => undefined);
      seg.file = undefined;
    }
    this.waiters.rejectAll(closedError(this.dir));
    this.writable.wakeAll();
  }
}
