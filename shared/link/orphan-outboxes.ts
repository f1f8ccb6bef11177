import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openDiskLog } from '../store/index.ts';

/** An outbox no channel of the part opens any more, and the events it still holds. */
export interface OrphanOutbox {
  readonly path: string;
  readonly events: number;
}

/**
 * Outboxes in `dir` other than those named in `used` that still hold events: left by an
 * earlier version of the app whose channel had another name or another number of partitions.
 * Nothing sends them now; they are reported, so they are not lost without a word.
 *
 * @example
 * await orphanOutboxes('/var/lib/sluice/apps/plant/outbox', new Set(['0-readings']));
 * // [{ path: '/var/lib/sluice/apps/plant/outbox/0-readings.p1', events: 1200 }]
 */
export async function orphanOutboxes(dir: string, used: ReadonlySet<string>): Promise<OrphanOutbox[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: OrphanOutbox[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || used.has(e.name)) continue;
    const path = join(dir, e.name);
    const log = await openDiskLog(path).catch(() => undefined);
    if (!log) continue;
    const { records } = log.stats();
    await log.close();
    if (records > 0) out.push({ path, events: records });
  }
  return out;
}

/** What a user is told of an orphan, in one line. */
export function describeOrphan(o: OrphanOutbox): string {
  return `${o.events} event(s) in ${o.path} will not be sent: no channel of this app has that name now (renamed, or its partitions changed); remove the directory once they are not needed`;
}
