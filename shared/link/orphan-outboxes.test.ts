import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDiskLog } from '../store/index.ts';
import { orphanOutboxes } from './orphan-outboxes.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-orphans-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('orphanOutboxes', () => {
  it('reports outboxes no channel opens that still hold events, and only those', async () => {
    const fill = async (name: string, events: number, acked: number) => {
      const log = await openDiskLog(join(dir, name));
      for (let i = 0; i < events; i++) await log.append(new Uint8Array([i]));
      await log.ack(acked);
      await log.close();
    };
    await fill('0-readings', 5, 0); // in use
    await fill('0-readings.p1', 4, 1); // the old partition layout: 3 events left
    await fill('1-old-name', 2, 2); // all acked: nothing to lose
    expect(await orphanOutboxes(dir, new Set(['0-readings']))).toEqual([{ path: join(dir, '0-readings.p1'), events: 3 }]);
    expect(await orphanOutboxes(join(dir, 'missing'), new Set())).toEqual([]);
  });
});
