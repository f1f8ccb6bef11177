import { Decoder, Encoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { readSpan, toSpans, type PendingEvent } from './outbox-record.ts';

const decoder = new Decoder({ useRecords: false });
const eventsOf = (items: Uint8Array): unknown[] => decoder.decodeMultiple(items) as unknown[];
const events = (n: number, from = 0): PendingEvent[] => Array.from({ length: n }, (_, i) => [1000 + from + i, `k${(from + i) % 3}`, { v: from + i }]);
const asRecord = (payload: Uint8Array, count: number, seq = 1) => ({ seq, count, ts: 0, priority: 0, payload });

describe('outbox span records', () => {
  it('cuts a tick into spans at source batches and at maxEvents; each span decodes to its events', () => {
    const evs = events(25);
    const spans = toSpans(evs, [{ at: 7, position: { source: 'in.csv', record: 70 } }, { at: 20, position: { source: 'in.csv', record: 200 } }], 10, 1 << 20);
    expect(spans.map((s) => s.count)).toEqual([7, 10, 3, 5]);
    let at = 0;
    const positions = [];
    for (const s of spans) {
      const { items, position } = readSpan(asRecord(s.payload, s.count));
      expect(eventsOf(items)).toEqual(evs.slice(at, at + s.count));
      positions.push(position);
      at += s.count;
    }
    // The position rides on the span that ends its source batch, and only there.
    expect(positions).toEqual([{ source: 'in.csv', record: 70 }, undefined, { source: 'in.csv', record: 200 }, undefined]);
  });

  it('halves a span until it fits the byte bound', () => {
    const big: PendingEvent[] = Array.from({ length: 8 }, (_, i) => [i, undefined, 'x'.repeat(300)]);
    const spans = toSpans(big, [{ at: 8, position: { source: 's', record: 8 } }], 100, 700);
    expect(spans.map((s) => s.count)).toEqual([2, 2, 2, 2]);
    expect(spans.every((s) => s.payload.byteLength <= 700)).toBe(true);
    expect(readSpan(asRecord(spans[3]!.payload, 2)).position).toEqual({ source: 's', record: 8 });
  });

  it('leaves out an event that alone passes the bound, says its size, and moves its position to the span before', () => {
    const sizes: number[] = [];
    const evs: PendingEvent[] = [[0, undefined, 'a'], [1, undefined, 'b'], [2, undefined, 'y'.repeat(2000)]];
    const spans = toSpans(evs, [{ at: 3, position: { source: 's', record: 3 } }], 2, 700, (bytes) => sizes.push(bytes));
    expect(spans.map((s) => s.count)).toEqual([2]);
    expect(sizes).toHaveLength(1);
    expect(sizes[0]).toBeGreaterThan(2000);
    const { items, position } = readSpan(asRecord(spans[0]!.payload, 2));
    expect(eventsOf(items)).toEqual(evs.slice(0, 2));
    expect(position).toEqual({ source: 's', record: 3 });
    // The span before holds another source's position: that one stays.
    const other = toSpans(evs, [{ at: 2, position: { source: 'r', record: 9 } }, { at: 3, position: { source: 's', record: 3 } }], 10, 700);
    expect(other.map((s) => readSpan(asRecord(s.payload, s.count)).position)).toEqual([{ source: 'r', record: 9 }]);
    expect(toSpans([[0, undefined, 'y'.repeat(2000)]], [], 100, 700)).toEqual([]);
  });

  it('reads a record written before spans: one item [ts, key, value, source, record]', () => {
    const legacy = new Encoder({ useRecords: false }).encode([5, 'k', { v: 1 }, 'in.csv', 42]) as Uint8Array;
    const { items, position } = readSpan(asRecord(legacy, 1));
    expect(position).toEqual({ source: 'in.csv', record: 42 });
    expect((eventsOf(items)[0] as unknown[]).slice(0, 3)).toEqual([5, 'k', { v: 1 }]);
  });
});
