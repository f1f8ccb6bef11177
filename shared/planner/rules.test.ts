import { describe, expect, it } from 'vitest';
import { defineApp, session, sliding, tumbling, type AppBuilder } from '../dsl/index.ts';
import { placeOperators, type OperatorPlacement } from './index.ts';

type R = { ts: number; m: string; v: number };

function placed(build: (app: AppBuilder) => void): Record<string, OperatorPlacement> {
  return Object.fromEntries(placeOperators(defineApp('t', build).graph()));
}

const where = (p: Record<string, OperatorPlacement>) => Object.fromEntries(Object.entries(p).map(([id, x]) => [id, x.where]));

describe('static placement rules', () => {
  it('a source runs at the edge, on every gateway; stateless auto operators follow their input', () => {
    const p = placed((app) => { app.source<R>('readings', { eventTime: 'ts' }).filter((r) => r.v > 0).map((r) => r.v).sink('out'); });
    expect(p['readings']).toEqual({ where: 'edge', rule: 'source', reason: 'a source runs where its devices are: on every gateway, over its own devices' });
    expect(p['readings/filter']).toEqual({ where: 'edge', rule: 'follows-input', reason: 'stateless: runs next to its input "readings", at the edge' });
    expect(p['readings/filter/map']!.reason).toBe('stateless: runs next to its input "readings/filter", at the edge');
    expect(p['sink:out']).toMatchObject({ where: 'edge', rule: 'follows-input' });
  });

  it('an exec operator keeps no keyed state: it follows its input too', () => {
    const p = placed((app) => { app.source<R>('readings').exec('cat').sink('out'); });
    expect(p['readings/exec']).toEqual({ where: 'edge', rule: 'follows-input', reason: 'keeps no keyed state: runs next to its input "readings", at the edge' });
  });

  it('pins decide, for stateless and keyed operators and sources alike', () => {
    const p = placed((app) => {
      const r = app.source<R>('readings', { eventTime: 'ts' }).place('cloud');
      r.map((x) => x).place('edge').sink('a');
      r.keyBy((x) => x.m).window(tumbling('1m')).reduce((a) => a).place('edge').sink('b');
    });
    expect(p['readings']).toEqual({ where: 'cloud', rule: 'pinned', reason: "pinned to the cloud with .place('cloud')" });
    expect(p['readings/map']).toEqual({ where: 'edge', rule: 'pinned', reason: "pinned with .place('edge'): runs on every gateway over its own devices" });
    expect(p['readings/keyBy/aggregate']).toEqual({
      where: 'edge', rule: 'pinned',
      reason: "pinned with .place('edge'): a window aggregate runs whole on every gateway, as the pin asserts its key stays within one gateway",
    });
  });

  it('a decomposable aggregate pinned to the edge runs whole there, not split', () => {
    const p = placed((app) => { app.source<R>('r', { eventTime: 'ts' }).keyBy((x) => x.m).window(tumbling('1m')).sum((x) => x.v).place('edge').sink('out'); });
    expect(p['r/keyBy/aggregate']).toMatchObject({ where: 'edge', rule: 'pinned' });
  });

  it('a node selector places at the edge, on the gateways it selects', () => {
    const p = placed((app) => { app.source<R>('r').filter(() => true).place({ selector: 'site=north' }).sink('out'); });
    expect(p['r/filter']).toEqual({ where: 'edge', rule: 'selector', reason: 'node selector "site=north": runs on every gateway it selects, over that gateway\'s own devices' });
  });

  it('count, sum, min, max and mean over tumbling or sliding event-time windows are split', () => {
    for (const fn of ['count', 'sum', 'min', 'max', 'mean'] as const) {
      for (const [name, spec] of [['tumbling', tumbling('1m')], ['sliding', sliding('1m', '10s')]] as const) {
        const p = placed((app) => {
          const w = app.source<R>('r', { eventTime: 'ts' }).keyBy((x) => x.m).window(spec, { allowedLateness: '5s' });
          (fn === 'count' ? w.count() : w[fn]((x) => x.v)).sink('out');
        });
        expect(p['r/keyBy/aggregate'], `${fn} ${name}`).toEqual({
          where: 'split', rule: 'decomposable-split',
          reason: `a ${fn} over ${name} windows is decomposable: a partial per gateway (per key and window) and a final merge in the cloud, which fires on the slowest gateway's watermark`,
        });
        expect(p['sink:out']).toEqual({ where: 'cloud', rule: 'input-in-cloud', reason: 'its input "r/keyBy/aggregate" is produced in the cloud, and data does not flow back to the gateways' });
      }
    }
  });

  it('a windowAll aggregate is split too: its one key spans every gateway', () => {
    const p = placed((app) => { app.source<R>('r', { eventTime: 'ts' }).windowAll(tumbling('1m')).max((x) => x.v).sink('out'); });
    expect(p['r/aggregate']!.where).toBe('split');
  });

  it('reduce and custom aggregates, session and processing-time windows run whole in the cloud, each with its reason', () => {
    const p = placed((app) => {
      const k = app.source<R>('r', { eventTime: 'ts' }).keyBy((x) => x.m);
      k.window(tumbling('1m')).reduce((a) => a).name('reduce').sink('a');
      k.window(tumbling('1m')).aggregate({ create: () => 0, add: (a: number) => a + 1, merge: (a: number, b: number) => a + b, result: (a: number) => a }).name('custom').sink('b');
      k.window(session('30s')).count().name('sessions').sink('c');
      k.window(tumbling('1m'), { time: 'processing' }).count().name('wallclock').sink('d');
    });
    const head = (what: string) => `${what} keeps state per key, and a key may span gateways; `;
    expect(p['reduce']).toEqual({ where: 'cloud', rule: 'not-splittable', reason: `${head('a reduce over tumbling windows')}a reduce is not one of the decomposable aggregates (count, sum, min, max, mean), so it cannot be split: runs whole in the cloud` });
    expect(p['custom']!.reason).toBe(`${head('a custom aggregate over tumbling windows')}a custom aggregate is not one of the decomposable aggregates (count, sum, min, max, mean), so it cannot be split: runs whole in the cloud`);
    expect(p['sessions']).toEqual({ where: 'cloud', rule: 'not-splittable', reason: `${head('a count over session windows')}session windows would have to be merged across gateways by gap, which the split does not do: runs whole in the cloud` });
    expect(p['wallclock']).toEqual({ where: 'cloud', rule: 'not-splittable', reason: `${head('a count over tumbling windows')}processing-time windows fire on the clock of the node that runs them, so gateways and the cloud would cut different windows: runs whole in the cloud` });
  });

  it('a window join and a keyed process function run whole in the cloud', () => {
    const p = placed((app) => {
      const a = app.source<R>('a', { eventTime: 'ts' }).keyBy((x) => x.m);
      const b = app.source<R>('b', { eventTime: 'ts' }).keyBy((x) => x.m);
      a.join(b).window(tumbling('1m')).apply((l, r) => ({ l, r })).sink('joined');
      a.process({ onEvent: (v, ctx) => ctx.emit(v) }).sink('processed');
    });
    expect(p['a/keyBy/join']).toEqual({ where: 'cloud', rule: 'keyed-spans-gateways', reason: 'a window join keeps state per key, and a key may span gateways: runs whole in the cloud' });
    expect(p['a/keyBy/process']).toEqual({ where: 'cloud', rule: 'keyed-spans-gateways', reason: 'a keyed process function keeps state per key, and a key may span gateways: runs whole in the cloud' });
  });

  it('an auto operator with any input in the cloud runs in the cloud', () => {
    const p = placed((app) => {
      const a = app.source<R>('a');
      const b = app.source<R>('b').place('cloud');
      a.union(b).sink('all');
    });
    expect(p['a/union']).toEqual({ where: 'cloud', rule: 'input-in-cloud', reason: 'its input "b" is produced in the cloud, and data does not flow back to the gateways' });
  });

  it('the late side output stays with its window; with a split window it goes with the cloud merge', () => {
    const p = placed((app) => {
      const k = app.source<R>('r', { eventTime: 'ts' }).keyBy((x) => x.m);
      const split = k.window(tumbling('1m')).count().name('split');
      split.sink('counts');
      split.late().sink('late-split');
      const pinned = k.window(tumbling('1m')).count().name('pinned').place('edge');
      pinned.sink('edge-counts');
      pinned.late().sink('late-edge');
    });
    expect(p['split/late']).toEqual({ where: 'cloud', rule: 'late-with-window', reason: "with its window's final merge in the cloud: only the merge sees every gateway's watermark, so only it knows an event is too late" });
    expect(p['pinned/late']).toEqual({ where: 'edge', rule: 'late-with-window', reason: 'with its window, in the edge: too-late events are known only where the window runs' });
    expect(where(p)).toMatchObject({ 'sink:late-split': 'cloud', 'sink:late-edge': 'edge', 'sink:edge-counts': 'edge' });
  });

  it('is deterministic: the same graph gives the same placement', () => {
    const build = (app: AppBuilder) => { app.source<R>('r', { eventTime: 'ts' }).keyBy((x) => x.m).window(tumbling('1m')).mean((x) => x.v).sink('out'); };
    expect([...placeOperators(defineApp('t', build).graph())]).toEqual([...placeOperators(defineApp('t', build).graph())]);
  });
});
