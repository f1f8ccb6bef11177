/**
 * The best-effort outbox: the same interface and bounds as the disk log, held in memory.
 * Nothing survives a restart; appends are "durable" as soon as they are stored. Payloads are
 * copied, so callers may reuse their buffers.
 */
import { checkAppend, closedError, fullError, measureBatch, tooBigError } from './admission.ts';
import { FRAME_HEADER_BYTES } from './frame.ts';
import { LogCounters, WritableWaiters } from './log-counters.ts';
import { parseLogOptions, type LogConfig, type LogOptions } from './options.ts';
import type { AppendOptions, EvictReason, LogListener, LogRecord, LogStats, OutboxLog, SeqRange } from './types.ts';

/** A FIFO of seqs of one priority; entries may already be gone (acked or evicted). */
interface SeqQueue {
  seqs: number[];
  head: number;
}

/**
 * Builds a memory log. Same contract as `openDiskLog` except durability.
 * @example const log = createMemoryLog({ maxBytes: 1 << 20, overflow: 'drop-oldest' });
 */
export function createMemoryLog(options: LogOptions = {}): OutboxLog {
  return new MemoryLog(parseLogOptions(options, 'memory'));
}

class MemoryLog implements OutboxLog {
  readonly kind = 'memory';
  private slots: (LogRecord | undefined)[] = [];
  /** Seq of slots[0]. */
  private base = 1;
  private nextSeq = 1;
  private acked = 0;
  private liveBytes = 0;
  private liveRecords = 0;
  private readonly byPriority = new Map<number, SeqQueue>();
  private readonly counters = new LogCounters();
  private readonly writable = new WritableWaiters();
  private closed = false;
  private readonly where = 'memory log';

  constructor(private readonly cfg: LogConfig) {}

  get durableSeq(): number {
    return this.nextSeq - 1;
  }

  append(payload: Uint8Array, opts?: AppendOptions): Promise<number> {
    const err = this.admit(payload.byteLength + FRAME_HEADER_BYTES, payload.byteLength, opts);
    if (err) return Promise.reject(err);
    return Promise.resolve(this.put(payload, opts));
  }

  appendBatch(payloads: readonly Uint8Array[], opts?: AppendOptions): Promise<SeqRange> {
    const { bytes, largest } = measureBatch(payloads);
    const first = this.nextSeq;
    if (payloads.length === 0) return Promise.resolve({ first, last: first - 1 });
    const err = this.admit(bytes, largest, opts);
    if (err) return Promise.reject(err);
    let last = first;
    for (const p of payloads) last = this.put(p, opts);
    return Promise.resolve({ first, last });
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
    while (this.liveBytes + bytes > this.cfg.maxBytes && this.liveRecords > 0) {
      const r = reason === 'priority' ? this.lowestOldest() : this.slots[this.firstIndex()];
      if (!r) break;
      freed += this.remove(r);
      records++;
    }
    this.trimFront();
    this.counters.evict(reason, records, freed);
    return undefined;
  }

  private put(payload: Uint8Array, opts: AppendOptions | undefined): number {
    const seq = this.nextSeq++;
    const priority = opts?.priority ?? 0;
    this.slots.push({ seq, ts: opts?.ts ?? this.cfg.clock.now(), priority, payload: payload.slice() });
    this.liveBytes += payload.byteLength + FRAME_HEADER_BYTES;
    this.liveRecords++;
    let q = this.byPriority.get(priority);
    if (!q) this.byPriority.set(priority, (q = { seqs: [], head: 0 }));
    q.seqs.push(seq);
    this.counters.emit({ type: 'durable', seq });
    return seq;
  }

  private firstIndex(): number {
    let i = 0;
    while (i < this.slots.length && this.slots[i] === undefined) i++;
    return i;
  }

  /** The oldest record of the lowest priority present. */
  private lowestOldest(): LogRecord | undefined {
    let best: LogRecord | undefined;
    for (const [p, q] of this.byPriority) {
      if (best && p >= best.priority) continue;
      while (q.head < q.seqs.length) {
        const r = this.slots[(q.seqs[q.head] as number) - this.base];
        if (r) {
          best = r;
          break;
        }
        q.head++;
      }
      if (q.head >= q.seqs.length) this.byPriority.delete(p);
    }
    return best;
  }

  /** Forgets one record; returns its framed bytes. */
  private remove(r: LogRecord): number {
    this.slots[r.seq - this.base] = undefined;
    const bytes = r.payload.byteLength + FRAME_HEADER_BYTES;
    this.liveBytes -= bytes;
    this.liveRecords--;
    return bytes;
  }

  /** Drops leading empty slots so memory follows the retained records. */
  private trimFront(): void {
    const i = this.firstIndex();
    if (i === 0) return;
    this.slots = i === this.slots.length ? [] : this.slots.slice(i);
    this.base += i;
    if (this.slots.length === 0) this.base = this.nextSeq;
    for (const [p, q] of this.byPriority) {
      while (q.head < q.seqs.length && (q.seqs[q.head] as number) < this.base) q.head++;
      if (q.head >= q.seqs.length) this.byPriority.delete(p);
      else if (q.head > 1024) {
        q.seqs = q.seqs.slice(q.head);
        q.head = 0;
      }
    }
  }

  private enforceAge(): void {
    if (this.cfg.maxAgeMs === Infinity) return;
    const cutoff = this.cfg.clock.now() - this.cfg.maxAgeMs;
    let records = 0;
    let bytes = 0;
    for (let r = this.slots[this.firstIndex()]; r && r.ts < cutoff; r = this.slots[this.firstIndex()]) {
      bytes += this.remove(r);
      records++;
    }
    if (records === 0) return;
    this.trimFront();
    this.counters.evict('age', records, bytes);
    this.wakeWritable();
  }

  read(fromSeq: number, maxRecords: number, maxBytes = Infinity): Promise<LogRecord[]> {
    this.enforceAge();
    const out: LogRecord[] = [];
    let bytes = 0;
    for (let i = Math.max(0, fromSeq - this.base); i < this.slots.length && out.length < maxRecords; i++) {
      const r = this.slots[i];
      if (!r) continue;
      if (out.length > 0 && bytes + r.payload.byteLength > maxBytes) break;
      out.push(r);
      bytes += r.payload.byteLength;
    }
    return Promise.resolve(out);
  }

  ack(uptoSeq: number): Promise<void> {
    const upto = Math.min(uptoSeq, this.nextSeq - 1);
    if (upto <= this.acked) return Promise.resolve();
    this.acked = upto;
    for (let i = 0; i < this.slots.length && this.base + i <= upto; i++) {
      const r = this.slots[i];
      if (r) this.remove(r);
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
    const first = this.slots[this.firstIndex()];
    return this.counters.snapshot({
      kind: 'memory',
      health: this.isWritable() || this.closed ? 'ok' : 'full',
      firstSeq: first ? first.seq : this.nextSeq,
      nextSeq: this.nextSeq,
      durableSeq: this.nextSeq - 1,
      ackedSeq: this.acked,
      records: this.liveRecords,
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
