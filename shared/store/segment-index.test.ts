import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Segment } from './segment.ts';
import { SegmentIndex } from './segment-index.ts';

type Op = { kind: 'append'; n: number } | { kind: 'ack'; by: number } | { kind: 'evict' } | { kind: 'trim' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 150 }) }),
  fc.record({ kind: fc.constant('ack' as const), by: fc.integer({ min: 0, max: 120 }) }),
  fc.record({ kind: fc.constant('evict' as const) }),
  fc.record({ kind: fc.constant('trim' as const) }),
);

describe('SegmentIndex accounting', () => {
  it('counts retained records exactly and bytes to within the head chunk, whatever the order of appends, acks and evictions', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 5, max: 300 }), (ops, perSegment) => {
        const index = new SegmentIndex();
        let next = 1;
        let seg = new Segment(1, 's1', 16, true);
        index.push(seg);
        const size = (seq: number): number => 28 + (seq % 7);
        for (const o of ops) {
          if (o.kind === 'append') {
            for (let k = 0; k < o.n; k++, next++) {
              if (seg.totalRecords >= perSegment) {
                seg.sealed = true;
                seg = new Segment(next, `s${next}`, 16, true);
                index.push(seg);
              }
              index.add(seg, next, seg.stagedEnd, size(next), next, 0);
              seg.stagedEnd += size(next);
            }
          } else if (o.kind === 'ack') index.advanceHead(Math.min(next, index.head + o.by));
          else if (o.kind === 'evict') index.evictOldestChunk(next - 1);
          else index.takeTrimmedSegments();
          let exact = 0;
          for (let s = index.head; s < next; s++) exact += size(s);
          expect(index.liveRecords).toBe(next - index.head);
          expect(index.liveBytes).toBeGreaterThanOrEqual(exact);
          expect(index.liveBytes - exact).toBeLessThanOrEqual(64 * 35);
          expect(index.segments.at(-1)).toBe(seg);
        }
      }),
      { numRuns: 500 },
    );
  });
});
