import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decodePayload, encodePayload } from './payload.ts';
import type { PayloadFormat, PayloadResult } from './payload.ts';

function value<T>(r: PayloadResult<T>): T {
  if (!r.ok) throw new Error(`expected ok, got: ${r.reason}`);
  return r.value;
}

function reason(r: PayloadResult<unknown>): string {
  if (r.ok) throw new Error('expected a failure');
  return r.reason;
}

describe('encodePayload / decodePayload', () => {
  const reading = { id: 'plug-1', ts: 1_700_000_000_000, w: 12.5, kwh: 3.25, ok: true, tags: ['a'] };

  for (const format of ['json', 'cbor'] as const) {
    it(`round-trips an object as ${format}`, () => {
      expect(value(decodePayload(value(encodePayload(reading, format)), format))).toEqual(reading);
    });
  }

  it('writes plain CBOR that starts with a map header, not a cbor-x record tag', () => {
    const bytes = value(encodePayload({ a: 1 }, 'cbor'));
    expect(bytes[0]).toBe(0xa1);
  });

  it('resolves SenML into absolute records using the given now', () => {
    const bytes = value(encodePayload([{ bn: 'th/3:', n: 'temp', u: 'Cel', v: 21.5, t: -2 }], 'senml'));
    expect(value(decodePayload(bytes, 'senml', { now: 10_000_000 }))).toEqual([
      { name: 'th/3:temp', time: 9_998_000, unit: 'Cel', value: 21.5, kind: 'v' },
    ]);
  });

  const bad: Array<[string, Uint8Array, PayloadFormat, RegExp]> = [
    ['truncated JSON', new TextEncoder().encode('{"a":'), 'json', /bad JSON/],
    ['invalid UTF-8', Uint8Array.of(0x22, 0xff, 0xfe, 0x22), 'json', /UTF-8/],
    ['an empty payload', new Uint8Array(0), 'cbor', /empty/],
    ['truncated CBOR', Uint8Array.of(0xa2, 0x61, 0x61), 'cbor', /bad CBOR/],
    ['CBOR with trailing bytes', Uint8Array.of(0x01, 0x02), 'cbor', /bad CBOR/],
    ['SenML that is not an array', new TextEncoder().encode('{"n":"x","v":1}'), 'senml', /bad SenML: .*array/],
    ['SenML with two values', new TextEncoder().encode('[{"n":"x","v":1,"vb":true}]'), 'senml', /more than one value/],
  ];
  for (const [what, bytes, format, expected] of bad) {
    it(`reports ${what} as a reason`, () => {
      expect(reason(decodePayload(bytes, format))).toMatch(expected);
    });
  }

  it('rejects payloads over maxBytes before parsing', () => {
    expect(reason(decodePayload(new Uint8Array(100), 'json', { maxBytes: 10 }))).toMatch(/over the 10-byte limit/);
  });

  it('reports values that cannot be encoded', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(reason(encodePayload(cyclic, 'json'))).toMatch(/cannot encode as json/);
    expect(reason(encodePayload(10n, 'json'))).toMatch(/cannot encode/);
    expect(reason(encodePayload({ n: 'x' }, 'senml'))).toMatch(/array of records/);
    expect(reason(encodePayload(1, 'xml' as PayloadFormat))).toMatch(/unknown payload format/);
  });

  it('never throws on arbitrary bytes, whatever the format', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom<PayloadFormat>('json', 'cbor', 'senml'), (bytes, format) => {
      const r = decodePayload(bytes, format);
      expect(typeof r.ok).toBe('boolean');
    }), { numRuns: 2000 });
  });
});
