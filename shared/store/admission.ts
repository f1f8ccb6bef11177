/** The errors an append can meet, shared by both log kinds so callers see one vocabulary. */
import { ConfigError, IoError, SluiceError } from '../errors.ts';
import { FRAME_HEADER_BYTES, MAX_SPAN } from './frame.ts';
import type { AppendOptions, SeqRange } from './types.ts';

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

/** `n` records to store: the payload of record i and the seqs it covers. */
export interface Records {
  readonly n: number;
  payloadAt(i: number): Uint8Array;
  countAt(i: number): number;
}

/** What admission needs to know of records: framed bytes, largest payload; or why one cannot be stored. */
function measure(r: Records, where: string): { bytes: number; largest: number } | SluiceError {
  let bytes = 0;
  let largest = 0;
  for (let i = 0; i < r.n; i++) {
    const size = r.payloadAt(i).byteLength;
    const count = r.countAt(i);
    if (!Number.isSafeInteger(count) || count < 1 || count > MAX_SPAN || count > Math.max(1, size)) {
      return new ConfigError('STORE_BAD_SPAN', `a span of ${String(count)} seqs in a ${size}-byte payload cannot be stored`, {
        where: `append to ${where}`,
        fix: `pass a whole count from 1 to ${MAX_SPAN}, at most one seq per payload byte`,
      });
    }
    bytes += size + FRAME_HEADER_BYTES;
    if (size > largest) largest = size;
  }
  return { bytes, largest };
}

/**
 * Stores records all-or-nothing, as both logs do: measures them, asks `admit` (which may make
 * room or refuse), then `put`s each (returning its last seq). Returns the seqs given from
 * `first`, or the refusal.
 */
export function appendAll(
  r: Records,
  first: number,
  where: string,
  admit: (bytes: number, largest: number) => Error | undefined,
  put: (payload: Uint8Array, count: number) => number,
): SeqRange | Error {
  const m = measure(r, where);
  if (m instanceof Error) return m;
  if (r.n === 0) return { first, last: first - 1 };
  const err = admit(m.bytes, m.largest);
  if (err) return err;
  let last = first;
  for (let i = 0; i < r.n; i++) last = put(r.payloadAt(i), r.countAt(i));
  return { first, last };
}
