import { describe, it, expect } from 'vitest';
import { decodePayload } from '../shared/wire/index.ts';
import { generate } from './generate.ts';
import type { GenerateOptions } from './generate.ts';
import type { SimAction, TruthRecord } from './device-sim.ts';
import { MODEL_NAMES } from './models/index.ts';
import type { FaultKind } from './faults.ts';

const START = 1_700_000_000_000;

type Publish = Extract<SimAction, { type: 'publish' }>;

function publishes(actions: SimAction[]): Publish[] {
  return actions.filter((a): a is Publish => a.type === 'publish');
}

function truths(actions: SimAction[]): TruthRecord[] {
  return actions.flatMap((a) => (a.type === 'truth' ? [a.truth] : []));
}

function body(p: Publish): Record<string, number | string> {
  const r = decodePayload(p.payload, 'json');
  if (!r.ok) throw new Error(r.reason);
  return r.value as Record<string, number | string>;
}

describe('generate', () => {
  const base: GenerateOptions = { model: 'plug', devices: 20, rate: 2, seed: 7, start: START, until: START + 60_000, faults: { drop: true, duplicate: true, outOfOrder: true, spike: true, clock: true, jitter: true } };

  it('gives the same sequence, payload bytes included, for the same seed', () => {
    const a = generate({ ...base, format: 'cbor' });
    const b = generate({ ...base, format: 'cbor' });
    expect(a.length).toBeGreaterThan(2000);
    expect(b).toEqual(a);
  });

  it('gives a different sequence for another seed', () => {
    const a = publishes(generate(base)).map((p) => Buffer.from(p.payload).toString());
    const b = publishes(generate({ ...base, seed: 8 })).map((p) => Buffer.from(p.payload).toString());
    expect(b).not.toEqual(a);
  });

  it('returns actions in time order', () => {
    const ats = generate(base).map((a) => a.at);
    expect(ats).toEqual([...ats].sort((x, y) => x - y));
  });

  it('publishes devices × rate × seconds readings with contiguous seqs when no fault is on', () => {
    const ps = publishes(generate({ ...base, faults: {}, devices: 10, until: START + 100_000 }));
    expect(ps.length).toBeGreaterThanOrEqual(1990);
    expect(ps.length).toBeLessThanOrEqual(2000);
    for (let d = 0; d < 10; d++) {
      const seqs = ps.filter((p) => p.device === d).map((p) => p.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
  });

  for (const model of MODEL_NAMES) {
    it(`encodes ${model} readings that decode in every format`, () => {
      for (const format of ['json', 'cbor', 'senml'] as const) {
        const [p] = publishes(generate({ model, devices: 1, seed: 3, start: START, until: START + 2000, format }));
        if (p === undefined) throw new Error('no publish');
        const r = decodePayload(p.payload, format, { now: START });
        expect(r.ok).toBe(true);
        if (format === 'senml' && r.ok) {
          expect((r.value as Array<{ name: string; time: number }>)[0]).toMatchObject({ name: `${model}-00000:seq`, time: p.ts });
        }
        expect(p.topic).toBe(`sim/${model}/${model}-00000`);
      }
    });
  }

  it('gives plugs a house, household and plug id and a cumulative kWh that never falls', () => {
    const ps = publishes(generate({ model: 'plug', devices: 40, seed: 1, start: START, until: START + 30_000 }));
    const last = body(ps.filter((p) => p.device === 39).at(-1) as Publish);
    expect(last).toMatchObject({ house: 1, household: 0, plug: 7 });
    const kwh = ps.filter((p) => p.device === 5).map((p) => body(p).kwh as number);
    expect(kwh).toEqual([...kwh].sort((x, y) => x - y));
  });
});

describe('generate: every fault kind shows in the data and in the ground truth', () => {
  const actions = generate({
    model: 'climate', devices: 30, rate: 1, seed: 11, start: START, until: START + 600_000,
    faults: {
      clock: { maxOffsetMs: 5000 }, jitter: true, burst: { p: 0.01, size: 4 }, outOfOrder: { p: 0.02, maxDelayMs: 4000 },
      duplicate: { p: 0.02 }, drop: { p: 0.02 }, disconnect: { p: 0.002, minMs: 5000, maxMs: 20_000 },
      storm: { everyMs: 200_000, fraction: 0.5, downMs: 3000, spreadMs: 1000 }, battery: { lifeS: 500 },
      stuck: { p: 0.005, length: 5 }, spike: { p: 0.01, factor: 5 }, drift: { p: 0.003, length: 20, amount: 2 },
    },
  });
  const ps = publishes(actions);
  const ts = truths(actions);
  const of = (kind: FaultKind): TruthRecord[] => ts.filter((t) => t.fault === kind);
  const sent = (device: number, seq: number): Publish[] => ps.filter((p) => p.device === device && p.seq === seq);
  const index = (id: string): number => Number(id.slice(-5));

  it('has ground truth of every kind', () => {
    const kinds: FaultKind[] = ['clock', 'jitter', 'burst', 'out-of-order', 'duplicate', 'drop', 'disconnect', 'storm', 'battery-low', 'battery-empty', 'stuck', 'spike', 'drift'];
    for (const k of kinds) expect(of(k).length, k).toBeGreaterThan(0);
  });

  it('sends a duplicate twice and a dropped reading never', () => {
    for (const t of of('duplicate')) expect(sent(index(t.device), t.seq ?? -1)).toHaveLength(2);
    for (const t of of('drop')) expect(sent(index(t.device), t.seq ?? -1)).toHaveLength(0);
  });

  it('delays an out-of-order reading so that later ones overtake it', () => {
    let checked = 0;
    let overtaken = 0;
    for (const t of of('out-of-order')) {
      const d = index(t.device);
      const mine = sent(d, t.seq ?? -1)[0];
      if (mine === undefined) continue; // the window's end cut it off
      checked++;
      expect(mine.at - t.at).toBeGreaterThanOrEqual(Number(t.detail?.delayMs) - 1);
      // A drop, a disconnect or an empty battery right after it can leave nothing to overtake it.
      if (ps.some((p) => p.device === d && p.seq > (t.seq ?? 0) && p.at < mine.at)) overtaken++;
    }
    expect(checked).toBeGreaterThan(10);
    expect(overtaken / checked).toBeGreaterThan(0.8);
  });

  it('sends a burst together', () => {
    const t = of('burst')[0] as TruthRecord;
    const held = [0, 1, 2, 3].map((k) => sent(index(t.device), (t.seq ?? 0) + k)[0]?.at);
    expect(new Set(held).size).toBe(1);
  });

  it('freezes a stuck value, multiplies a spike and shifts a drift', () => {
    const stuck = of('stuck').filter((t) => sent(index(t.device), t.seq ?? -1).length > 0);
    expect(stuck.length).toBeGreaterThan(0);
    for (const t of stuck) expect(sent(index(t.device), t.seq ?? -1).map((p) => body(p).temp)).toContain(t.detail?.value);
    for (const s of of('spike')) {
      for (const p of sent(index(s.device), s.seq ?? -1)) expect(body(p).temp).toBe(s.detail?.value);
    }
    const drifts = of('drift').filter((d) => d.device === of('drift')[0]?.device);
    expect(Math.abs(Number(drifts.at(-1)?.detail?.offset))).toBeGreaterThan(Math.abs(Number(drifts[0]?.detail?.offset)));
  });

  it('disconnects, buffers, and flushes the backlog on reconnect', () => {
    const t = of('disconnect')[0] as TruthRecord;
    const d = index(t.device);
    const down = actions.find((a) => a.type === 'disconnect' && a.device === d && a.at === t.at);
    const up = actions.find((a) => a.type === 'connect' && a.device === d && a.at > t.at);
    expect(down).toBeDefined();
    const flushed = ps.filter((p) => p.device === d && p.at === up?.at);
    expect(flushed.length).toBeGreaterThan(1);
  });

  it('drops many devices at once in a storm', () => {
    const at = of('storm')[0]?.at;
    const downs = actions.filter((a) => a.type === 'disconnect' && a.at === at);
    expect(downs.length).toBeGreaterThan(5);
  });

  it('drains the battery and stops a device when it is empty', () => {
    const t = of('battery-empty')[0] as TruthRecord;
    const d = index(t.device);
    const bats = ps.filter((p) => p.device === d).map((p) => body(p).bat as number);
    expect(bats[0]).toBeGreaterThan(bats.at(-1) as number);
    expect(ps.filter((p) => p.device === d && p.seq >= (t.seq ?? 0))).toHaveLength(0);
  });

  it('stamps readings with the device clock offset', () => {
    const t = of('clock').find((c) => Math.abs(Number(c.detail?.offsetMs)) > 1000) as TruthRecord;
    const p = ps.find((x) => x.device === index(t.device) && x.seq === 1);
    expect(Math.abs((p?.ts ?? 0) - (p?.at ?? 0) - Number(t.detail?.offsetMs))).toBeLessThan(300);
  });
});
