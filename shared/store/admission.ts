/** The errors an append can meet, shared by both log kinds so callers see one vocabulary. */
import { ConfigError, IoError, SluiceError } from '../errors.ts';
import { FRAME_HEADER_BYTES } from './frame.ts';
import type { AppendOptions } from './types.ts';

/** Checks per-append options; returns the error to reject with, or undefined. */
export function checkAppend(opts: AppendOptions | undefined, where: string): SluiceError | undefined {
  if (!opts) return undefined;
  const p = opts.priority;
  if (p !== undefined && (!Number.isInteger(p) || p < 0 || p > 255)) {
    return new ConfigError('STORE_BAD_PRIORITY', `priority ${String(p)} is not an integer from 0 to 255`, {
      where: `append to ${where}`,
      fix: 'pass a priority from 0 (dropped first) to 255 (kept longest)',
    });
  }
  if (opts.ts !== undefined && !Number.isFinite(opts.ts)) {
    return new ConfigError('STORE_BAD_TS', `ts ${String(opts.ts)} is not a finite number`, {
      where: `append to ${where}`,
      fix: 'pass event time in milliseconds since the epoch',
    });
  }
  return undefined;
}

export function tooBigError(bytes: number, max: number, where: string): SluiceError {
  return new ConfigError('STORE_RECORD_TOO_BIG', `a ${bytes}-byte record exceeds maxRecordBytes ${max}`, {
    where: `append to ${where}`,
    fix: 'split the payload or raise maxRecordBytes',
  });
}

export function closedError(where: string): SluiceError {
  return new SluiceError('STORE_CLOSED', 'the log is closed', { where, fix: 'open the log again before appending' });
}

const WHY = {
  full: ['STORE_FULL', 'the log is at its byte bound (overflow policy refuses new records)', 'wait for whenWritable() or for acks; or raise maxBytes'],
  unwritable: ['STORE_UNWRITABLE', 'the disk refuses writes', 'wait for whenWritable(); free space or remount the disk read-write'],
  backlog: ['STORE_BACKLOG', 'too many records wait for the disk', 'wait for whenWritable(); the disk is slow or failing'],
} as const;

/** The retryable refusal sources see as back-pressure. */
export function fullError(why: keyof typeof WHY, where: string): SluiceError {
  const [code, what, fix] = WHY[why];
  return new IoError(code, what, { where, fix, retryable: true });
}

/**
 * What admission needs to know of `n` records (payload and seqs covered of record i): framed
 * bytes, largest payload, seqs; or why one cannot be stored.
 */
export function measureRecords(
  n: number,
  payloadAt: (i: number) => Uint8Array,
  countAt: (i: number) => number,
  maxSpan: number,
  where: string,
): { bytes: number; largest: number; seqs: number } | SluiceError {
  let bytes = 0;
  let largest = 0;
  let seqs = 0;
  for (let i = 0; i < n; i++) {
    const size = payloadAt(i).byteLength;
    const count = countAt(i);
    if (!Number.isSafeInteger(count) || count < 1 || count > maxSpan || count > Math.max(1, size)) {
      return new ConfigError('STORE_BAD_SPAN', `a span of ${String(count)} seqs in a ${size}-byte payload cannot be stored`, {
        where: `append to ${where}`,
        fix: `pass a whole count from 1 to ${maxSpan}, at most one seq per payload byte`,
      });
    }
    bytes += size + FRAME_HEADER_BYTES;
    if (size > largest) largest = size;
    seqs += count;
  }
  return { bytes, largest, seqs };
}

/** Record i of a batch of one-seq payloads covers one seq. */
export const ONE_SEQ = (): number => 1;
