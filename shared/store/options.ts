/** User options of a log and their parsing into a frozen config. */
import { ConfigError } from '../errors.ts';
import { systemClock, type Clock } from '../clock.ts';
import { nodeFileLayer, type FileLayer } from './file-layer.ts';

/** What to do when the bytes bound is reached. */
export type OverflowPolicy = 'drop-oldest' | 'reject' | 'priority';

/** What a user passes to `openDiskLog` / `createMemoryLog`. Every field is optional. */
export interface LogOptions {
  /** Bound on retained framed bytes (default 256 MiB on disk, 64 MiB in memory). */
  readonly maxBytes?: number;
  /** Records older than this (by their `ts`) are evicted; default: no age bound. */
  readonly maxAgeMs?: number;
  /** Default `drop-oldest`. */
  readonly overflow?: OverflowPolicy;
  /** Size at which the active segment is sealed (default maxBytes / 8, at most 16 MiB). */
  readonly segmentBytes?: number;
  /** Longest time the first record of a group waits before the group's write starts (default 5, max 50). */
  readonly groupCommitMs?: number;
  /**
   * A group commits early once this many bytes are pending (default 32 KiB). On a busy link the
   * groups then go every few ms, not at the end of each `groupCommitMs` window, and the next
   * gathers while one is written: at 170 k events/s of 110 bytes, a group every ~2 ms.
   */
  readonly groupCommitBytes?: number;
  /**
   * The ack cursor is written at most this often (default 50 ms; `ack()` resolves once it is).
   * A crash forgets at most that much ack progress: the restart resends those records, and
   * receivers drop them as duplicates.
   */
  readonly cursorIntervalMs?: number;
  /** Recently committed bytes kept in memory so the sender rarely reads the disk (default 4 MiB). */
  readonly tailCacheBytes?: number;
  /** Largest accepted payload (default 1 MiB, or maxBytes / 4 when smaller). */
  readonly maxRecordBytes?: number;
  /** Memory that may hold unwritten records while the disk fails (default 16 MiB). */
  readonly maxPendingBytes?: number;
  /** First retry delay after an I/O fault; doubles up to `retryMaxMs` (defaults 50 / 2000). */
  readonly retryMs?: number;
  readonly retryMaxMs?: number;
  readonly clock?: Clock;
  /** The file layer; tests inject faults here. Default: node:fs. */
  readonly fs?: FileLayer;
}

/** The parsed, frozen form of `LogOptions`. */
export interface LogConfig {
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly overflow: OverflowPolicy;
  readonly segmentBytes: number;
  readonly groupCommitMs: number;
  readonly groupCommitBytes: number;
  readonly cursorIntervalMs: number;
  readonly tailCacheBytes: number;
  readonly maxRecordBytes: number;
  readonly maxPendingBytes: number;
  readonly retryMs: number;
  readonly retryMaxMs: number;
  readonly clock: Clock;
  readonly fs: FileLayer;
}

const MIB = 1024 * 1024;
const POLICIES: readonly OverflowPolicy[] = ['drop-oldest', 'reject', 'priority'];

function num(opts: LogOptions, key: keyof LogOptions, dflt: number, min: number, max: number): number {
  const v = opts[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max) {
    throw new ConfigError('STORE_BAD_OPTION', `log option ${key} is ${String(v)}`, {
      where: `options.${key}`,
      fix: `use a number from ${min} to ${max}`,
    });
  }
  return v;
}

/**
 * Validates `opts` (never mutating it) into a frozen config.
 * @example parseLogOptions({ maxBytes: 8 << 20, overflow: 'reject' }, 'disk')
 */
export function parseLogOptions(opts: LogOptions = {}, kind: 'disk' | 'memory' = 'disk'): LogConfig {
  const overflow = opts.overflow ?? 'drop-oldest';
  if (!POLICIES.includes(overflow)) {
    throw new ConfigError('STORE_BAD_OPTION', `overflow policy "${String(overflow)}" is unknown`, {
      where: 'options.overflow',
      fix: `use one of ${POLICIES.join(', ')}`,
    });
  }
  const maxBytes = num(opts, 'maxBytes', kind === 'disk' ? 256 * MIB : 64 * MIB, 4096, Number.MAX_SAFE_INTEGER);
  // Eighths of the bound: whole segments are what frees disk, so keep them small beside it.
  const dfltSegment = Math.min(16 * MIB, Math.max(1024, Math.floor(maxBytes / 8)));
  const segmentBytes = num(opts, 'segmentBytes', dfltSegment, 1024, 1024 * MIB);
  const maxRecordBytes = num(opts, 'maxRecordBytes', Math.min(MIB, Math.floor(maxBytes / 4)), 1, 64 * MIB);
  if (maxRecordBytes > maxBytes) {
    throw new ConfigError('STORE_BAD_OPTION', `maxRecordBytes ${maxRecordBytes} exceeds maxBytes ${maxBytes}`, {
      where: 'options.maxRecordBytes',
      fix: 'raise maxBytes or lower maxRecordBytes',
    });
  }
  const retryMs = num(opts, 'retryMs', 50, 1, 60_000);
  return Object.freeze({
    maxBytes,
    maxAgeMs: num(opts, 'maxAgeMs', Infinity, 1, Infinity),
    overflow,
    segmentBytes,
    groupCommitMs: num(opts, 'groupCommitMs', 5, 0, 50),
    groupCommitBytes: num(opts, 'groupCommitBytes', 32 * 1024, 1024, 256 * MIB),
    cursorIntervalMs: num(opts, 'cursorIntervalMs', 50, 0, 60_000),
    tailCacheBytes: num(opts, 'tailCacheBytes', 4 * MIB, 0, 1024 * MIB),
    maxRecordBytes,
    maxPendingBytes: num(opts, 'maxPendingBytes', 16 * MIB, 1024, 1024 * MIB),
    retryMs,
    retryMaxMs: num(opts, 'retryMaxMs', 2000, retryMs, 600_000),
    clock: opts.clock ?? systemClock,
    fs: opts.fs ?? nodeFileLayer,
  });
}
