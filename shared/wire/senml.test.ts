import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { encodeSenml, resolveSenml } from './senml.ts';
import type { SenmlRecord, SenmlResult } from './senml.ts';

const NOW = 1_700_000_000_000;

function records(r: SenmlResult): SenmlRecord[] {
  if (!r.ok) throw new Error(`expected ok, got: ${r.reason}`);
  return r.records;
}

function reason(r: SenmlResult): string {
  if (r.ok) throw new Error('expected a rejection');
  return r.reason;
}

describe('resolveSenml: RFC 8428 section 5 examples', () => {
  it('resolves a single datapoint with no time to "now" (5.1.1)', () => {
    const rs = records(resolveSenml([{ n: 'urn:dev:ow:10e2073a01080063', u: 'Cel', v: 23.1 }], NOW));
    expect(rs).toEqual([{ name: 'urn:dev:ow:10e2073a01080063', time: NOW, unit: 'Cel', value: 23.1, kind: 'v' }]);
  });

  it('joins the base name with each name (5.1.2)', () => {
    const rs = records(resolveSenml([
      { bn: 'urn:dev:ow:10e2073a01080063:', n: 'voltage', u: 'V', v: 120.1 },
      { n: 'current', u: 'A', v: 1.2 },
    ], NOW));
    expect(rs.map((r) => [r.name, r.unit, r.value])).toEqual([
      ['urn:dev:ow:10e2073a01080063:voltage', 'V', 120.1],
      ['urn:dev:ow:10e2073a01080063:current', 'A', 1.2],
    ]);
  });

  it('applies base time, base unit and relative times (5.1.3 and its resolved form)', () => {
    const rs = records(resolveSenml([
      { bn: 'urn:dev:ow:10e2073a0108006:', bt: 1.276020076001e9, bu: 'A', bver: 5, n: 'voltage', u: 'V', v: 120.1 },
      { n: 'current', t: -5, v: 1.2 },
      { n: 'current', t: -4, v: 1.3 },
      { n: 'current', v: 1.7 },
    ], NOW));
    expect(rs[0]).toEqual({ name: 'urn:dev:ow:10e2073a0108006:voltage', time: 1_276_020_076_001, unit: 'V', value: 120.1, kind: 'v' });
    expect(rs[1]).toEqual({ name: 'urn:dev:ow:10e2073a0108006:current', time: 1_276_020_071_001, unit: 'A', value: 1.2, kind: 'v' });
    expect(rs[2]?.time).toBe(1_276_020_072_001);
    expect(rs[3]?.time).toBe(1_276_020_076_001);
  });

  it('keeps string, boolean and data values with their kind (multiple data types)', () => {
    const rs = records(resolveSenml([
      { bn: 'urn:dev:ow:10e2073a01080063:', n: 'temperature', u: 'Cel', v: 23.1 },
      { n: 'label', vs: 'Machine Room' },
      { n: 'open', vb: false },
      { n: 'nfc-reader', vd: 'aGkgCg' },
    ], NOW));
    expect(rs.map((r) => [r.kind, r.value])).toEqual([
      ['v', 23.1], ['vs', 'Machine Room'], ['vb', false], ['vd', 'aGkgCg'],
    ]);
  });

  it('treats times below 2^28 s as relative to now, negative ones in the past', () => {
    const rs = records(resolveSenml([{ n: 'x', v: 1, t: -5 }, { n: 'x', v: 2, t: 0 }, { n: 'x', v: 3, bt: 10 }], NOW));
    expect(rs.map((r) => r.time)).toEqual([NOW - 5000, NOW, NOW + 10_000]);
  });

  it('adds base value and base sum, and accepts a sum-only record', () => {
    const rs = records(resolveSenml([
      { bn: 'meter:', bv: 100, bs: 1000, n: 'w', v: 5 },
      { n: 'kwh', s: 7 },
      { n: 'w', v: -3, u: 'W', ut: 10 },
    ], NOW));
    expect(rs[0]).toEqual({ name: 'meter:w', time: NOW, value: 105, kind: 'v' });
    expect(rs[1]).toMatchObject({ value: 1007, kind: 's', sum: 1007 });
    expect(rs[2]).toMatchObject({ value: 97, kind: 'v', unit: 'W', updateTime: 10_000 });
  });

  it('lets a later base field replace an earlier one for the records after it', () => {
    const rs = records(resolveSenml([
      { bn: 'a/', n: 'x', v: 1 }, { n: 'y', v: 2 }, { bn: 'b/', n: 'x', v: 3 },
    ], NOW));
    expect(rs.map((r) => r.name)).toEqual(['a/x', 'a/y', 'b/x']);
  });

  it('ignores unknown fields that do not end in an underscore', () => {
    const rs = records(resolveSenml([{ n: 'x', v: 1, extra: 'fine' }], NOW));
    expect(rs).toHaveLength(1);
  });
});

describe('resolveSenml: rejections', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['not an array', { n: 'x', v: 1 }, /array/],
    ['a record that is not an object', [1], /record 0: must be a JSON object/],
    ['two value fields', [{ n: 'x', v: 1, vs: 'a' }], /more than one value field/],
    ['no value', [{ n: 'x' }], /no value/],
    ['an empty resolved name', [{ v: 1 }], /name is empty/],
    ['a name starting with "-"', [{ n: '-x', v: 1 }], /4\.5\.1/],
    ['a name with a space', [{ bn: 'dev 1:', n: 'x', v: 1 }], /4\.5\.1/],
    ['a newer bver', [{ bver: 11, n: 'x', v: 1 }], /newer than the supported/],
    ['an unknown must-understand field', [{ n: 'x', v: 1, foo_: 1 }], /must-understand field "foo_"/],
    ['a padded vd', [{ n: 'x', vd: 'aGk=' }], /base64url/],
    ['a string v', [{ n: 'x', v: '1' }], /"v" \(value\) must be a finite number/],
    ['a string bt', [{ bt: '1', n: 'x', v: 1 }], /"bt"/],
    ['a numeric vb', [{ n: 'x', vb: 1 }], /"vb"/],
    ['a negative ut', [{ n: 'x', v: 1, ut: -1 }], /"ut"/],
  ];
  for (const [what, pack, expected] of cases) {
    it(`rejects ${what}`, () => {
      expect(reason(resolveSenml(pack, NOW))).toMatch(expected);
    });
  }

  it('names the index of the bad record', () => {
    expect(reason(resolveSenml([{ n: 'x', v: 1 }, { n: 'y' }], NOW))).toMatch(/^record 1:/);
  });
});

describe('encodeSenml', () => {
  it('factors out base name, base time and a shared unit', () => {
    const pack = encodeSenml([
      { name: 'plug/1:w', time: 1_700_000_000_000, unit: 'W', value: 12.5, kind: 'v' },
      { name: 'plug/1:a', time: 1_700_000_001_500, unit: 'W', value: 0.5, kind: 'v' },
    ]);
    expect(pack).toEqual([
      { bn: 'plug/1:', bt: 1_700_000_000, bu: 'W', n: 'w', v: 12.5 },
      { n: 'a', t: 1.5, v: 0.5 },
    ]);
  });

  it('falls back to a common prefix when the given base name does not fit every name', () => {
    const pack = encodeSenml([
      { name: 'a/x', time: 1_700_000_000_000, value: 1, kind: 'v' },
      { name: 'b/y', time: 1_700_000_000_000, value: 2, kind: 'v' },
    ], { name: 'a/' });
    expect(pack[0]?.bn).toBeUndefined();
    expect(records(resolveSenml(pack, 0)).map((r) => r.name)).toEqual(['a/x', 'b/y']);
  });

  it('round-trips resolved records with absolute times', () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9:/._-]{0,12}$/);
    const rec: fc.Arbitrary<SenmlRecord> = fc.oneof(
      fc.record({ name, time: fc.integer({ min: 2 ** 28 * 1000, max: 4e12 }), value: fc.double({ noNaN: true, noDefaultInfinity: true }), kind: fc.constant('v' as const) }),
      fc.record({ name, time: fc.integer({ min: 2 ** 28 * 1000, max: 4e12 }), value: fc.string(), kind: fc.constant('vs' as const), unit: fc.constantFrom('Cel', '%RH') }),
      fc.record({ name, time: fc.integer({ min: 2 ** 28 * 1000, max: 4e12 }), value: fc.boolean(), kind: fc.constant('vb' as const) }),
    );
    fc.assert(fc.property(fc.array(rec, { minLength: 1, maxLength: 8 }), (rs) => {
      const normal = rs.map((r) => (r.kind === 'v' && Object.is(r.value, -0) ? { ...r, value: 0 } : r));
      expect(records(resolveSenml(JSON.parse(JSON.stringify(encodeSenml(normal))), 0))).toEqual(normal);
    }));
  });

  it('returns an empty pack for no records', () => {
    expect(encodeSenml([])).toEqual([]);
  });
});
