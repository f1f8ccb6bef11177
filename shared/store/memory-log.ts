/**
 * The best-effort outbox: the same interface and bounds as the disk log, held in memory.
 * Nothing survives a restart; appends are "durable" as soon as they are stored. Payloads are
 * copied, so callers may reuse their buffers.
 */
import { checkAppend, closedError, fullError, appendAll, tooBigError, type Records } from './admission.ts';
import { FRAME_HEADER_BYTES } from './frame.ts';
import { LogCounters, WritableWaiters } from './log-counters.ts';
import { parseLogOptions, type LogConfig, type LogOptions } from './options.ts';
import type { AppendOptions, EvictReason, LogListener, LogRecord, LogStats, OutboxLog, SeqRange, Span } from './types.ts';
import { newEpoch } from './epoch.ts';

/** One stored record and whether it is still retained (not acked or evicted). */
interface Entry {
  readonly rec: LogRecord;
  live: boolean;
}

/** A FIFO of the entries of one priority; entries may already be gone (acked or evicted). */
interface EntryQueue {
  entries: Entry[];
  head: number;
}

/**
 * Builds a memory log. Same contract as `openDiskLog` except durability.
 * @example const log = createMemoryLog({ maxBytes: 1 << 20, overflow: 'drop-oldest' });
 */
export function createMemoryLog(options: LogOptions = {}): OutboxLog {
  return new MemoryLog(parseLogOptions(options, 'memory'));
}

const lastOf = (r: LogRecord): number => r.seq + r.count - 1;

class MemoryLog implements OutboxLog {
  readonly kind = 'memory';
  /** Made anew each time (its seqs start at 1 after every restart): the time of making. */
  readonly epoch = newEpoch();
  /** Records in seq order; those before `start` are all gone. */
  private entries: Entry[] = [];
  private start = 0;
  private nextSeq = 1;
  private acked = 0;
  private liveBytes = 0;
  /** Seqs of the live entries, acked ones of a span straddling the ack included. */
  private liveSeqs = 0;
  private readonly byPriority = new Map<number, EntryQueue>();
  private readonly counters = new LogCounters();
  private readonly writable = new WritableWaiters();
  private closed = false;
  private readonly where = 'memory log';

  constructor(private readonly cfg: LogConfig) {}

  get maxRecordBytes(): number {
    return this.cfg.maxRecordBytes;
  }

  get durableSeq(): number {
    return this.nextSeq - 1;
  }

  append(payload: Uint8Array, opts?: AppendOptions): Promise<number> {
    const err = this.admit(payload.byteLength + FRAME_HEADER_BYTES, payload.byteLength, opts);
    if (err) return Promise.reject(err);
    return Promise.resolve(this.put(payload, opts, 1));
  }

  appendBatch(payloads: readonly Uint8Array[], opts?: AppendOptions): Promise<SeqRange> {
    return this.appendRecords({ n: payloads.length, payloadAt: (i) => payloads[i] as Uint8Array, countAt: () => 1 }, opts);
  }

  appendSpans(spans: readonly Span[], opts?: AppendOptions): Promise<SeqRange> {
    return this.appendRecords({ n: spans.length, payloadAt: (i) => (spans[i] as Span).payload, countAt: (i) => (spans[i] as Span).count }, opts);
  }

  private appendRecords(records: Records, opts: AppendOptions | undefined): Promise<SeqRange> {
    const r = appendAll(records, this.nextSeq, this.where, (bytes, largest) => this.admit(bytes, largest, opts), (payload, count) => this.put(payload, opts, count));
    return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
  }



  private admit(bytes: number, largest: number, opts: AppendOptions | undefined): Error | undefined {
    if (this.closed) return closedError(this.where);
    if (largest > this.cfg.maxRecordBytes) return tooBigError(largest, this.cfg.maxRecordBytes, this.where);
    const bad = checkAppend(opts, this.where);
    if (bad) return bad;
    this.enforceAge();
    if (this.liveBytes + bytes <= this.cfg.maxBytes) return undefined;
    if (this.cfg.overflow === 'reject') {
      this.counters.rejected++;
      return fullError('full', this.where);
    }
    const reason: EvictReason = this.cfg.overflow === 'priority' ? 'priority' : 'size';
    let records = 0;
    let freed = 0;
    while (this.liveBytes + bytes > this.cfg.maxBytes) {
      const e = reason === 'priority' ? this.lowestOldest() : this.firstLive();
      if (!e) break;
      records += this.unacked(e.rec);
      freed += this.remove(e);
    }
    this.trimFront();
    this.counters.evict(reason, records, freed);
    return undefined;
  }

  /** Stores one record covering `count` seqs (a copy of its payload); returns its last seq. */
  private put(payload: Uint8Array, opts: AppendOptions | undefined, count: number): number {
    const seq = this.nextSeq;
    this.nextSeq += count;
    const priority = opts?.priority ?? 0;
    const e: Entry = { rec: { seq, count, ts: opts?.ts ?? this.cfg.clock.now(), priority, payload: new Uint8Array(payload) }, live: true };
    this.entries.push(e);
    this.liveBytes += payload.byteLength + FRAME_HEADER_BYTES;
    this.liveSeqs += count;
    let q = this.byPriority.get(priority);
    if (!q) this.byPriority.set(priority, (q = { entries: [], head: 0 }));
    q.entries.push(e);
    this.counters.emit({ type: 'durable', seq: seq + count - 1 });
    return seq + count - 1;
  }

  private firstLive(): Entry | undefined {
    while (this.start < this.entries.length && !(this.entries[this.start] as Entry).live) this.start++;
    return this.entries[this.start];
  }

  /** The oldest record of the lowest priority present. */
  private lowestOldest(): Entry | undefined {
    let best: Entry | undefined;
    for (const [p, q] of this.byPriority) {
      if (best && p >= best.rec.priority) continue;
      while (q.head < q.entries.length) {
        const e = q.entries[q.head] as Entry;
        if (e.live) {
          best = e;
          break;
        }
        q.head++;
      }
      if (q.head >= q.entries.length) this.byPriority.delete(p);
    }
    return best;
  }

  /** Seqs of `r` not acked yet (what evicting it loses). */
  private unacked(r: LogRecord): number {
    return lastOf(r) - Math.max(r.seq, this.acked + 1) + 1;
  }

  /** Forgets one record; returns its framed bytes. */
  private remove(e: Entry): number {
    e.live = false;
    const bytes = e.rec.payload.byteLength + FRAME_HEADER_BYTES;
    this.liveBytes -= bytes;
    this.liveSeqs -= e.rec.count;
    return bytes;
  }

  /** Drops leading gone entries so memory follows the retained records. */
  private trimFront(): void {
    this.firstLive();
    if (this.start > 1024 && this.start * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
    for (const [p, q] of this.byPriority) {
      while (q.head < q.entries.length && !(q.entries[q.head] as Entry).live) q.head++;
      if (q.head >= q.entries.length) this.byPriority.delete(p);
      else if (q.head > 1024) {
        q.entries = q.entries.slice(q.head);
        q.head = 0;
      }
    }
  }

  private enforceAge(): void {
    if (this.cfg.maxAgeMs === Infinity) return;
    const cutoff = this.cfg.clock.now() - this.cfg.maxAgeMs;
    let records = 0;
    let bytes = 0;
    for (let e = this.firstLive(); e && e.rec.ts < cutoff; e = this.firstLive()) {
      records += this.unacked(e.rec);
      bytes += this.remove(e);
    }
    if (records === 0 && bytes === 0) return;
    this.trimFront();
    this.counters.evict('age', records, bytes);
    this.wakeWritable();
  }

  read(fromSeq: number, maxRecords: number, maxBytes = Infinity): Promise<LogRecord[]> {
    this.enforceAge();
    const out: LogRecord[] = [];
    let bytes = 0;
    let seqs = 0;
    // The first entry holding a seq >= fromSeq, by binary search over the seq-ordered entries.
    let lo = this.start;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (lastOf((this.entries[mid] as Entry).rec) < fromSeq) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.entries.length && seqs < maxRecords; i++) {
      const e = this.entries[i] as Entry;
      if (!e.live) continue;
      const r = e.rec;
      if (out.length > 0 && (bytes + r.payload.byteLength > maxBytes || seqs + r.count > maxRecords)) break;
      out.push(r);
      bytes += r.payload.byteLength;
      seqs += r.count;
    }
    return Promise.resolve(out);
  }

  readWith<T>(fromSeq: number, maxRecords: number, maxBytes: number, use: (records: readonly LogRecord[]) => T): Promise<T> {
    return this.read(fromSeq, maxRecords, maxBytes).then(use);
  }

  ack(uptoSeq: number): Promise<void> {
    const upto = Math.min(uptoSeq, this.nextSeq - 1);
    if (upto <= this.acked) return Promise.resolve();
    this.acked = upto;
    for (let i = this.start; i < this.entries.length; i++) {
      const e = this.entries[i] as Entry;
      if (lastOf(e.rec) > upto) break;
      if (e.live) this.remove(e);
    }
    this.trimFront();
    this.wakeWritable();
    return Promise.resolve();
  }

  whenDurable(): Promise<void> {
    return Promise.resolve();
  }

  isWritable(bytes = 0): boolean {
    if (this.closed) return false;
    return this.cfg.overflow !== 'reject' || this.liveBytes + bytes + FRAME_HEADER_BYTES <= this.cfg.maxBytes;
  }

  whenWritable(): Promise<void> {
    if (this.closed || this.isWritable()) return Promise.resolve();
    return this.writable.wait();
  }

  private wakeWritable(): void {
    if (this.writable.size > 0 && this.isWritable()) {
      this.writable.wakeAll();
      this.counters.emit({ type: 'writable' });
    }
  }

  stats(): LogStats {
    if (!this.closed) this.enforceAge();
    const first = this.firstLive()?.rec;
    // A span straddling the ack still holds its acked seqs; they are not retained ones.
    const ackedInFirst = first ? Math.max(0, this.acked - first.seq + 1) : 0;
    return this.counters.snapshot({
      kind: 'memory',
      health: this.isWritable() || this.closed ? 'ok' : 'full',
      firstSeq: first ? Math.max(first.seq, this.acked + 1) : this.nextSeq,
      nextSeq: this.nextSeq,
      durableSeq: this.nextSeq - 1,
      ackedSeq: this.acked,
      records: this.liveSeqs - ackedInFirst,
      bytes: this.liveBytes,
      oldestAgeMs: first ? Math.max(0, this.cfg.clock.now() - first.ts) : 0,
      segments: 0,
    });
  }

  subscribe(listener: LogListener): () => void {
    return this.counters.subscribe(listener);
  }

  close(): Promise<void> {
    this.closed = true;
    this.writable.wakeAll();
    return Promise.resolve();
  }
}
