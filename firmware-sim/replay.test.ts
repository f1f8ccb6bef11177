import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodePayload } from '../shared/wire/index.ts';
import { ConfigError } from '../shared/errors.ts';
import { parseReplay } from './replay.ts';
import { loadReplay } from './replay-file.ts';
import { generate } from './generate.ts';
import type { SimAction } from './device-sim.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const text = (name: string): string => readFileSync(fixture(name), 'utf8');
const START = 1_700_000_000_000;

describe('parseReplay', () => {
  it('reads the labelled WSN data as one device per mote, 5 s apart, with labels', () => {
    const data = parseReplay(text('wsn-labelled-slice.csv'));
    expect(data.kind).toBe('wsn-labelled');
    expect(data.devices.map((d) => d.id)).toEqual(['mote-1', 'mote-2', 'mote-3', 'mote-4']);
    const mote1 = data.devices[0]?.rows ?? [];
    expect(mote1).toHaveLength(40);
    expect((mote1[1]?.time ?? 0) - (mote1[0]?.time ?? 0)).toBe(5000);
    expect(mote1[0]?.reading).toEqual({ temp: expect.any(Number), hum: expect.any(Number) });
    expect(data.devices.flatMap((d) => d.rows).filter((r) => r.label === 'anomaly')).toHaveLength(34);
  });

  it('reads CityBench traffic as one device per road segment and weather as one station', () => {
    const traffic = parseReplay(text('aarhus-traffic-slice.csv'));
    expect(traffic.devices.map((d) => [d.id, d.rows.length])).toEqual([['segment-158324', 30], ['segment-158355', 30]]);
    expect(traffic.devices[0]?.rows[0]).toEqual({ time: Date.parse('2014-08-01T07:50:00Z'), reading: { count: 5, speed: 50, travel: 74, status: 'OK' } });
    const weather = parseReplay(text('aarhus-weather-slice.csv'));
    expect(weather.devices.map((d) => d.id)).toEqual(['aarhus-weather']);
    expect(weather.devices[0]?.rows[0]?.reading).toEqual({ temp: 18, hum: 56, wind: 7.4 });
  });

  it('reads RIoTBench SenML lines as one device per source with numeric fields', () => {
    const data = parseReplay(text('riotbench-sys-slice.csv'));
    expect(data.kind).toBe('riotbench');
    expect(data.devices.length).toBeGreaterThan(5);
    expect(data.devices[0]?.rows[0]?.reading).toMatchObject({ temperature: expect.any(Number), airquality_raw: expect.any(Number) });
    expect(data.units.temperature).toBe('far');
  });

  it('rejects an unknown layout and a bad row with the place and a fix', () => {
    expect(() => parseReplay('a,b\n1,2\n', 'x.csv')).toThrow(/cannot tell which dataset.*at x\.csv.*fix:/);
    expect(() => parseReplay('reading,mote_id,indoor,humidity,temperature,label\n1,1,1,oops,20,0\n', 'w.csv')).toThrow(ConfigError);
    expect(() => parseReplay('reading,mote_id,indoor,humidity,temperature,label\n1,1,1,oops,20,0\n', 'w.csv')).toThrow(/at w\.csv:2/);
  });

  it('reports a missing file as a ConfigError', async () => {
    await expect(loadReplay(fixture('no-such-file.csv'))).rejects.toThrow(/cannot read replay file: ENOENT/);
  });
});

describe('replaying through generate', () => {
  const data = parseReplay(text('wsn-labelled-slice.csv'));

  it('plays rows with time scaled by speed and passes labels through as ground truth', () => {
    const actions = generate({ replay: data, speed: 10, seed: 1, start: START, until: START + 60_000 });
    const pubs = actions.filter((a): a is Extract<SimAction, { type: 'publish' }> => a.type === 'publish');
    expect(pubs).toHaveLength(160);
    const mote1 = pubs.filter((p) => p.topic === 'sim/wsn/mote-1');
    expect((mote1[1]?.at ?? 0) - (mote1[0]?.at ?? 0)).toBe(500); // 5 s of data at 10×
    const first = decodePayload(mote1[0]?.payload ?? new Uint8Array(), 'json');
    expect(first.ok && first.value).toMatchObject({ id: 'mote-1', seq: 1, temp: 27.81, hum: 44.42 });
    const labels = actions.filter((a) => a.type === 'truth' && a.truth.fault === 'label');
    expect(labels).toHaveLength(34);
    expect(labels.every((l) => l.type === 'truth' && l.topic.startsWith('sim-truth/wsn/'))).toBe(true);
  });

  it('applies transport faults to replayed readings too', () => {
    const actions = generate({ replay: data, speed: 10, seed: 1, start: START, until: START + 60_000, faults: { drop: { p: 0.2 } } });
    const drops = actions.filter((a) => a.type === 'truth' && a.truth.fault === 'drop');
    expect(drops.length).toBeGreaterThan(10);
    expect(actions.filter((a) => a.type === 'publish')).toHaveLength(160 - drops.length);
  });
});
