import { describe, expect, it } from 'vitest';
import { WatermarkMarks } from './watermark-marks.ts';

describe('WatermarkMarks', () => {
  it('gives a frame the newest watermark recorded at or before its last seq', () => {
    const m = new WatermarkMarks();
    m.add(10, 100); m.add(20, 200); m.add(30, 300);
    expect([m.at(5), m.at(10), m.at(25), m.at(99)]).toEqual([-Infinity, 100, 200, 300]);
    m.dropUpTo(20);
    expect([m.at(15), m.at(30)]).toEqual([200, 300]);
  });

  it('stays bounded through a long outage, never gives a watermark newer than the exact one, and keeps the newest', () => {
    const exact = new WatermarkMarks(Infinity);
    const bounded = new WatermarkMarks(256);
    // A million batches while nothing is acked: one mark each.
    for (let seq = 1; seq <= 1_000_000; seq++) { exact.add(seq * 3, seq * 10); bounded.add(seq * 3, seq * 10); }
    expect(bounded.size).toBeLessThanOrEqual(256);
    for (let s = 0; s <= 3_000_003; s += 7919) expect(bounded.at(s)).toBeLessThanOrEqual(exact.at(s));
    expect(bounded.at(3_000_000)).toBe(exact.at(3_000_000));
  });
});
