import { describe, expect, it } from 'vitest';
import { Encoder, Tag } from 'cbor-x';
import { decodeItems, encodeItems, type ItemTriple } from './items.ts';

/** The plain encoding earlier builds wrote (no records): what decoded values must still equal. */
const plain = new Encoder({ useRecords: false, copyBuffers: true });

const decodeAll = (items: Uint8Array): unknown[] => {
  const out: unknown[] = [];
  decodeItems(items, (item) => { out.push(item); return true; });
  return out;
};

/** Occurrences of `needle` in `hay`. */
function count(hay: Uint8Array, needle: Uint8Array): number {
  let n = 0;
  for (let at = Buffer.from(hay).indexOf(needle); at >= 0; at = Buffer.from(hay).indexOf(needle, at + 1)) n++;
  return n;
}

const reading = (i: number) => ({ device: `plug-${i % 7}`, w: 800 + i / 4, kwh: 42.3, seq: i });

describe('encodeItems / decodeItems', () => {
  it('writes the keys of a shape once per call, not once per event', () => {
    const events: ItemTriple[] = Array.from({ length: 300 }, (_, i) => [1000 + i, undefined, reading(i)]);
    const items = encodeItems(events);
    expect(count(items, plain.encode('device'))).toBe(1);
    expect(count(plain.encode(events), plain.encode('device'))).toBe(300);
    expect(decodeAll(items)).toEqual(events);
  });

  it('makes each call define the shapes it uses, so its items decode on their own', () => {
    const first = encodeItems([[1, undefined, reading(1)]]);
    const second = encodeItems([[2, 'k', reading(2)]]);
    // A decoder that never saw `first` (another process, or after a restart).
    const fresh = new Encoder({ useRecords: false });
    expect(fresh.decodeMultiple(Buffer.from(second))).toEqual([[2, 'k', reading(2)]]);
    expect(decodeAll(Buffer.concat([first, second]))).toEqual([[1, undefined, reading(1)], [2, 'k', reading(2)]]);
  });

  it('decodes every kind of value as the plain encoding did (a Map stays a Map)', () => {
    class Point { x = 1; y = 2; }
    const values: unknown[] = [
      new Map<unknown, unknown>([['a', 1], [2, 'b']]), new Set([1, 2]), new Date(1_700_000_000_000), new Uint8Array([1, 2, 3]),
      { a: { b: { c: [1, { d: 2 }] } } }, { 1: 'one', 2: 'two' }, { u: undefined, n: null, inf: -Infinity }, 2n ** 70n,
      new Point(), [{ a: 1 }, { a: 2 }, { b: 3 }], 'text', 3.5, {}, { 'a b': 1, '': 2 },
    ];
    for (const value of values) {
      const events: ItemTriple[] = [[1, undefined, value], [2, 'k', value]];
      const before: unknown[] = [];
      plain.decodeMultiple(Buffer.from(plain.encode(events).subarray(1)), (item: unknown) => { before.push(item); });
      expect(decodeAll(encodeItems(events))).toStrictEqual(before);
    }
  });

  it('reads plain-map items as earlier builds stored them, alone or before new ones', () => {
    const events: ItemTriple[] = [[1, undefined, reading(1)], [2, 'k', reading(2)]];
    const old = Buffer.from(plain.encode(events).subarray(1));
    expect(decodeAll(old)).toEqual(events);
    expect(decodeAll(Buffer.concat([old, encodeItems([[3, undefined, reading(3)]])]))).toEqual([...events, [3, undefined, reading(3)]]);
  });

  it("never reads a shape from an earlier call's items into a reference the items do not define", () => {
    decodeAll(encodeItems([[1, undefined, { x: 1, y: 'a' }]])); // defines a shape as record 57344
    // [4, undefined, <record 57344> [5, 'z']]: a reference with no definition before it.
    const dangling = Uint8Array.from([0x83, 0x04, 0xf7, 0xd9, 0xe0, 0x00, 0x82, 0x05, 0x61, 0x7a]);
    const [item] = decodeAll(dangling) as [unknown[]];
    expect(item[2]).toBeInstanceOf(Tag);
    expect(item[2]).not.toHaveProperty('x');
  });

  it('stops when `each` returns false', () => {
    const seen: unknown[] = [];
    decodeItems(encodeItems([[1, undefined, 'a'], [2, undefined, 'b'], [3, undefined, 'c']]), (item) => { seen.push(item); return seen.length < 2; });
    expect(seen).toHaveLength(2);
  });
});
