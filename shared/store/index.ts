/**
 * shared/store — the log behind every channel outbox.
 *
 * A log assigns each appended record a seq (1, 2, 3, … never reused, even across restarts),
 * keeps it within declared bounds (bytes, age) under an overflow policy, serves it to the
 * sender with `read`, and forgets it on `ack`. Two implementations share the `OutboxLog`
 * interface: `openDiskLog` (at-least-once and exactly-once channels) and `createMemoryLog`
 * (best-effort channels).
 *
 * Disk format: a directory of segments `<20-digit base seq>.seg`, each a 16-byte header and
 * CRC-framed records; `ack.cursor` holds the acked seq and the head (atomic replace);
 * `quarantine/` keeps copies of damaged bytes found on open. Appends are group-committed:
 * records appended within `groupCommitMs` (default 5 ms, at most 50) share one write and one
 * fsync, and `append()` resolves once its record is durable. `read` serves only durable
 * records, from an in-memory tail cache when it reaches back far enough, else from disk.
 *
 * Bounds: `maxBytes` (retained framed bytes = payload + 28 per record) and `maxAgeMs` (by each
 * record's `ts`). Overflow policies: `drop-oldest` evicts the oldest records; `reject` refuses
 * appends with a retryable `STORE_FULL` error until acks make room (`whenWritable()` waits for
 * that); `priority` drops the lowest retained priority, oldest first (on disk by compacting sealed
 * segments in the background; appends are refused past 125% of the bound while it catches up).
 * Disk eviction works in chunks of 64 records and only on durable records, so the bound may be
 * passed by what still waits for its group commit (at most `maxPendingBytes`); disk space is
 * freed a whole segment at a time. Evictions are counted by reason in `stats()` and announced
 * as `evicted` events; a sender sees evicted records as gaps in the seqs `read` returns.
 *
 * Faults: a failing disk (ENOSPC, EROFS, EIO) never throws out of the log or crashes the
 * process: accepted appends wait (their promises stay pending) while writes are retried with
 * backoff, `stats().health` is `faulted`, a `fault` event is emitted, and `recovered` follows
 * when a write succeeds again. `reject` refuses new appends meanwhile (`STORE_UNWRITABLE`);
 * every policy refuses past `maxPendingBytes` of unwritten records (`STORE_BACKLOG`), so memory
 * stays bounded; `drop-oldest` (and `priority`) also drop the oldest segment on ENOSPC to make
 * room. Closing while the disk still fails rejects unwritten appends (`STORE_CLOSED_UNWRITTEN`).
 * Damaged files found on open are cut (torn tail of the last segment) or skipped (damage
 * elsewhere), counted, copied to `quarantine/`, and reported in `log.recovery` and `stats()`.
 *
 * Hot path: prefer `appendSpans` (a batch of events as one record: one frame, CRC and index
 * entry for them all), `appendBatch` (one promise per batch) or `append` without awaiting
 * each; seqs are assigned synchronously in call order either way.
 *
 * @example
 * import { openDiskLog } from '../store/index.ts';
 * const log = await openDiskLog('/var/lib/sluice/outbox/ch-1', { maxBytes: 64 << 20, overflow: 'reject' });
 * const seq = await log.append(payload);            // durable when it resolves
 * const batch = await log.read(log.stats().ackedSeq + 1, 1000, 1 << 20);
 * await log.ack(batch.at(-1)?.seq ?? 0);            // after the cloud acked them
 * await log.close();
 */
export type {
  AppendOptions,
  EvictReason,
  LogEvent,
  LogHealth,
  LogListener,
  LogRecord,
  LogStats,
  OutboxLog,
  SeqRange,
  Span,
} from './types.ts';
export type { LogConfig, LogOptions, OverflowPolicy } from './options.ts';
export { parseLogOptions } from './options.ts';
export type { Clock, ManualClock } from '../clock.ts';
export { createManualClock, systemClock } from '../clock.ts';
export type { FileLayer, LogFile, OpenFlags } from './file-layer.ts';
export { nodeFileLayer } from './file-layer.ts';
export type { FaultMode, FaultyFileLayer } from './faulty-file-layer.ts';
export { createFaultyFileLayer } from './faulty-file-layer.ts';
export type { DiskLog, RecoveryReport, RecoveryWarning } from './types.ts';
export { openDiskLog } from './open-disk-log.ts';
export { createMemoryLog } from './memory-log.ts';
export { FRAME_HEADER_BYTES } from './frame.ts';
export { writeFileAtomically, readJsonFile } from './json-file.ts';
