/** Opening a disk log: parse options, recover the directory, build the log. */
import { describeError, IoError } from '../errors.ts';
import { DiskLogImpl } from './disk-log.ts';
import { parseLogOptions, type LogOptions } from './options.ts';
import { recoverDir } from './recovery.ts';
import type { DiskLog } from './types.ts';

/**
 * Opens (creating if needed) the log in `dir` and recovers what a crash left there: a torn
 * tail is cut, damaged records elsewhere are skipped and copied to `quarantine/`, and every
 * repair is counted in `log.recovery` and `stats()`. Throws (IoError, retryable) only when
 * the directory cannot be created, listed or read at all.
 *
 * @example
 * const log = await openDiskLog('/var/lib/sluice/outbox/ch-1', { maxBytes: 64 << 20, overflow: 'reject' });
 * log.recovery.warnings.forEach((w) => console.warn(w.code, w.message));
 */
export async function openDiskLog(dir: string, options: LogOptions = {}): Promise<DiskLog> {
  const cfg = parseLogOptions(options, 'disk');
  try {
    const rec = await recoverDir(cfg.fs, dir);
    const log = new DiskLogImpl(cfg, dir, rec.index, rec.acked, rec.nextSeq, {
      warnings: rec.warnings,
      corruptRecords: rec.corruptRecords,
      truncatedBytes: rec.truncatedBytes,
    }, rec.epoch, rec.newEpoch);
    await log.start();
    return log;
  } catch (err) {
    throw new IoError('STORE_OPEN_FAILED', `cannot open the log in ${dir}: ${describeError(err)}`, {
      where: dir,
      fix: 'check that the directory is readable and writable and the disk is mounted',
      cause: err,
    });
  }
}
