import { describe, it, expect } from 'vitest';
import { parseFaultList, parseFaults } from './faults.ts';

describe('parseFaults', () => {
  it('fills defaults, keeps overrides, leaves off kinds out and freezes the result', () => {
    const options = { drop: { p: 0.2 }, spike: true, stuck: false } as const;
    const config = parseFaults(options);
    expect(config.drop).toEqual({ p: 0.2 });
    expect(config.spike?.factor).toBeGreaterThan(1);
    expect(config.stuck).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
    expect(options).toEqual({ drop: { p: 0.2 }, spike: true, stuck: false });
  });

  it('rejects a probability above 1 and an unknown setting, naming the path', () => {
    expect(() => parseFaults({ drop: { p: 1.5 } })).toThrow(/drop\.p must be a probability.*at faults\.drop\.p/);
    expect(() => parseFaults({ spike: { size: 3 } as never })).toThrow(/unknown setting "size" for fault "spike"/);
  });

  it('turns a CLI list into options, "all" switching every kind on', () => {
    expect(parseFaultList('drop=0.05, dup ,ooo')).toEqual({ drop: { p: 0.05 }, duplicate: true, outOfOrder: true });
    expect(Object.keys(parseFaultList('all'))).toHaveLength(12);
    expect(() => parseFaultList('clock=0.5')).toThrow(/not a valid fault setting/);
  });
});
