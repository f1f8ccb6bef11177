/** Shared types of the outbox log: records, stats, events and the log interface itself. */

/**
 * One stored record as `read()` returns it. `payload` is a view the log never reuses. A record
 * appended with `appendSpans` covers the seqs `seq .. seq + count - 1`; any other covers one.
 */
export interface LogRecord {
  readonly seq: number;
  readonly count: number;
  readonly ts: number;
  readonly priority: number;
  readonly payload: Uint8Array;
}

/** Per-append options: `priority` (0–255, higher is kept longer) and event time `ts` (ms). */
export interface AppendOptions {
  readonly priority?: number;
  readonly ts?: number;
}

/** One record of `appendSpans`: a payload standing for `count` seqs. */
export interface Span {
  readonly payload: Uint8Array;
  readonly count: number;
}

/** The seqs a batch received: `first..last`, contiguous. */
export interface SeqRange {
  readonly first: number;
  readonly last: number;
}

/** Why a record was dropped by a declared bound. */
export type EvictReason = 'size' | 'age' | 'priority';

/** What the log is doing now: `ok`, `full` (reject policy at its bound) or `faulted` (I/O failing). */
export type LogHealth = 'ok' | 'full' | 'faulted';

/** A point-in-time view of a log, for metrics and the dashboard. */
export interface LogStats {
  readonly kind: 'disk' | 'memory';
  readonly health: LogHealth;
  /** First seq that may still be read; everything below is acked or evicted. */
  readonly firstSeq: number;
  /** The seq the next append receives. */
  readonly nextSeq: number;
  /** Every seq up to here is durable (disk) or stored (memory). */
  readonly durableSeq: number;
  readonly ackedSeq: number;
  /** Retained (unacked, not evicted) seqs and their framed bytes. */
  readonly records: number;
  readonly bytes: number;
  /** Age in ms of the oldest retained record's `ts`, 0 when empty. */
  readonly oldestAgeMs: number;
  readonly evicted: Readonly<Record<EvictReason, number>>;
  readonly evictedBytes: number;
  /** Appends refused by the `reject` policy or while the disk is unwritable. */
  readonly rejected: number;
  /** Records found damaged (bad CRC, torn) and skipped or cut. */
  readonly corruptRecords: number;
  readonly truncatedBytes: number;
  readonly warnings: number;
  /** Failed I/O operations since open; `lastFault` says the newest. */
  readonly faults: number;
  readonly lastFault: string | undefined;
  readonly segments: number;
}

/** Status events, for logs and metrics; runtime faults arrive here instead of as throws. */
export type LogEvent =
  | { readonly type: 'durable'; readonly seq: number }
  | { readonly type: 'evicted'; readonly reason: EvictReason; readonly records: number; readonly bytes: number }
  | { readonly type: 'fault'; readonly code: string; readonly message: string }
  | { readonly type: 'recovered' }
  | { readonly type: 'writable' }
  | { readonly type: 'warning'; readonly code: string; readonly message: string };

/** Receives status events; must not throw (a throw is swallowed). */
export type LogListener = (event: LogEvent) => void;

/**
 * The outbox log interface shared by the disk and the memory implementation.
 * Seqs start at 1, grow by one per append and are never reused, even across restarts.
 */
export interface OutboxLog {
  readonly kind: 'disk' | 'memory';
  /**
   * Which incarnation of the log its seqs belong to: a log made anew (a wiped disk, a memory
   * log after a restart) numbers from 1 again under a later epoch, so a receiver can tell.
   */
  readonly epoch: number;
  /** Every seq up to this one is durable and may be read. */
  readonly durableSeq: number;
  /** The largest payload an append accepts (`maxRecordBytes`). */
  readonly maxRecordBytes: number;
  /** Stores one record; resolves with its seq once durable. Rejects (retryable) when refused. */
  append(payload: Uint8Array, opts?: AppendOptions): Promise<number>;
  /** Stores records all-or-nothing with contiguous seqs; one promise for the batch. */
  appendBatch(payloads: readonly Uint8Array[], opts?: AppendOptions): Promise<SeqRange>;
  /**
   * Stores records that each cover a run of seqs (`count` of them: a batch of events encoded
   * as one payload of at least `count` bytes), all-or-nothing with contiguous seqs: one frame,
   * one CRC and one index entry a span. A span is read, acked, evicted and counted as its
   * seqs, and leaves only when all of them are acked or evicted together.
   */
  appendSpans(spans: readonly Span[], opts?: AppendOptions): Promise<SeqRange>;
  /**
   * Durable records in seq order that hold seqs >= fromSeq (a span may begin below it),
   * skipping acked and evicted ones, up to `maxRecords` seqs and `maxBytes` payload bytes but
   * at least one record if any.
   */
  read(fromSeq: number, maxRecords: number, maxBytes?: number): Promise<LogRecord[]>;
  /**
   * As `read`, but hands the records to `use` (called once, synchronously when they are all
   * there) with their payloads lent: views into the log's cache, valid only while `use` runs,
   * so nothing is copied out. Resolves with what `use` returns.
   */
  readWith<T>(fromSeq: number, maxRecords: number, maxBytes: number, use: (records: readonly LogRecord[]) => T): Promise<T>;
  /** Trims every record <= uptoSeq; resolves when the cursor is persisted. */
  ack(uptoSeq: number): Promise<void>;
  /** Resolves once `seq` is durable (or the log closed). */
  whenDurable(seq: number): Promise<void>;
  /** True when an append of `bytes` payload bytes would be accepted now. */
  isWritable(bytes?: number): boolean;
  /** Resolves when appends are accepted again (back-pressure for sources). */
  whenWritable(): Promise<void>;
  stats(): LogStats;
  /** Listens to status events; returns the unsubscribe function. */
  subscribe(listener: LogListener): () => void;
  /** Flushes what is pending, persists the cursor and releases files. Idempotent. */
  close(): Promise<void>;
}

/** A problem recovery found and handled when opening a disk log. */
export interface RecoveryWarning {
  readonly code: string;
  readonly message: string;
}

/** What opening found and repaired; the same figures are in `stats()`. */
export interface RecoveryReport {
  readonly warnings: readonly RecoveryWarning[];
  readonly corruptRecords: number;
  readonly truncatedBytes: number;
}

/** A disk log, as `openDiskLog` returns it. */
export interface DiskLog extends OutboxLog {
  readonly dir: string;
  readonly recovery: RecoveryReport;
}
