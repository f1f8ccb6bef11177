import { describe, expect, it } from 'vitest';
import { createChannelSender } from '../../shared/link/index.ts';
import { createMemoryLog } from '../../shared/store/index.ts';
import { linkRig } from '../support/link-rig.ts';

const rig = linkRig('oversize');

describe('an event too large for the outbox', () => {
  it('is counted and left out; the events around it and after it are stored, and nothing throws', async () => {
    const client = await rig.connect('edge');
    const log = createMemoryLog({ maxBytes: 1 << 20, maxRecordBytes: 2048 });
    const sender = createChannelSender({ client, app: 'a', channel: 'c', producer: 'gw', log });
    sender.push(1, undefined, { w: 1 });
    sender.push(2, undefined, { blob: 'x'.repeat(5000) });
    sender.push(3, undefined, { w: 3 });
    await sender.flushed();
    sender.push(4, undefined, { w: 4 });
    sender.watermark(4);
    await sender.flushed();
    const st = sender.stats();
    expect(st.appended).toBe(3);
    expect(st.droppedTooLarge).toBe(1);
    expect(st.lastTooLarge).toMatch(/an event of \d+ encoded bytes, over the 2048-byte bound/);
    const stored = await log.read(1, 10);
    expect(stored.reduce((n, r) => n + r.count, 0)).toBe(3);
    await sender.close();
  });
});
