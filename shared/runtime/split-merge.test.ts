import { describe, expect, it } from 'vitest';
import { batchAligned, type BatchResult, type TimedEvent } from '../../test/reference/batch-windows.ts';
import { createSeededRandom, type SeededRandom } from '../../test/support/seeded-random.ts';
import { defineApp, sliding, tumbling, type WindowResult } from '../dsl/index.ts';
import type { Graph, WindowSpec } from '../graph/index.ts';
import { channelBinding, splitGraph, startRun, type PushTarget, type SinkBinding } from './index.ts';

type Fn = 'count' | 'sum' | 'min' | 'max' | 'mean';
type Step = { type: 'event'; ts: number; key: unknown; value: unknown } | { type: 'watermark'; wm: number };

function app(fn: Fn, spec: WindowSpec, maxDelay: number, allowedLateness: number): Graph {
  return defineApp('split', (a) => {
    const w = a.source<TimedEvent>('readings', { format: 'object', eventTime: 'ts', maxDelay })
      .keyBy((e) => e.key).window(spec, { allowedLateness });
    const out = fn === 'count' ? w.count() : w[fn]((e) => e.value);
    out.sink('results');
    out.late().sink('late');
  }).graph();
}

/**
 * Runs the edge part once per gateway over that gateway's input, records what each sends on
 * its channel, then replays those sends into the cloud part in a seeded interleaving (each
 * gateway's order kept), with the watermark a receiver gives: the minimum over the gateways.
 * Values are cloned on the way, as the wire would copy them.
 */
async function runSplit(graph: Graph, inputs: readonly TimedEvent[][], rnd: SeededRandom, pick = (live: readonly number[]) => live[rnd.int(0, live.length - 1)]!) {
  const edge = splitGraph(graph, 'edge');
  const cloud = splitGraph(graph, 'cloud');
  expect(edge.outbound).toEqual(cloud.inbound);
  expect(edge.outbound).toHaveLength(1);
  const cut = edge.outbound[0]!;
  const sends: Step[][] = [];
  for (const input of inputs) {
    const log: Step[] = [];
    const channel: SinkBinding = {
      type: 'collect',
      onEvent: (value, ts, key) => log.push({ type: 'event', ts, key, value: structuredClone(value) }),
      onWatermark: (wm) => log.push({ type: 'watermark', wm }),
    };
    await startRun(edge.graph, { sources: { readings: { type: 'values', values: input } }, sinks: { [channelBinding(cut)]: channel } }).done;
    sends.push(log);
  }
  const results: WindowResult<string, number>[] = [];
  const late: TimedEvent[] = [];
  const replay = (into: PushTarget): Promise<void> => {
    const at = sends.map(() => 0);
    const marks = sends.map(() => -Infinity);
    let merged = -Infinity;
    for (;;) {
      const live = sends.flatMap((s, g) => (at[g]! < s.length ? [g] : []));
      if (live.length === 0) break;
      const g = pick(live);
      const step = sends[g]![at[g]!++]!;
      if (step.type === 'event') into.events([{ ts: step.ts, key: step.key, value: step.value }]);
      else {
        marks[g] = step.wm;
        const min = Math.min(...marks);
        if (min > merged) { merged = min; into.watermark(min); }
      }
    }
    return Promise.resolve();
  };
  const { metrics } = await startRun(cloud.graph, {
    sources: { [channelBinding(cut)]: { type: 'push', attach: replay } },
    sinks: {
      results: { type: 'collect', onEvent: (v) => results.push(v as WindowResult<string, number>) },
      ...(cloud.graph.operators.some((o) => o.id === 'sink:late') ? { late: { type: 'collect', onEvent: (v) => late.push(v as TimedEvent) } } : {}),
    },
  }).done;
  return { results, late, metrics };
}

/** The latest revision of each (key, window), after checking that revisions count up from 0 one by one. */
function finals(results: readonly WindowResult<string, number>[]) {
  const last = new Map<string, WindowResult<string, number>>();
  for (const r of results) {
    const id = `${r.key}|${r.windowStart}`;
    expect(r.revision, `revision of ${id}`).toBe(last.has(id) ? last.get(id)!.revision + 1 : 0);
    last.set(id, r);
  }
  return [...last.values()].map((r) => ({ key: r.key, windowStart: r.windowStart, windowEnd: r.windowEnd, value: r.value }))
    .sort((a, b) => a.windowStart - b.windowStart || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const valueOf = (fn: Fn, b: BatchResult) => (fn === 'mean' ? b.sum / b.count : b[fn]);

/** Each gateway's readings: keys shared by all gateways, out of order by up to `disorder` ms. */
function gatewayInputs(rnd: SeededRandom, gateways: number, n: number, disorder: number): TimedEvent[][] {
  return Array.from({ length: gateways }, () => {
    let t = rnd.int(0, 500);
    return Array.from({ length: n }, () => {
      t += rnd.int(0, 40);
      return { ts: Math.max(0, t - rnd.int(0, disorder)), key: `k${rnd.int(0, 4)}`, value: rnd.int(-50, 50) };
    });
  });
}

const WINDOWS: readonly [string, WindowSpec][] = [['tumbling 1s', tumbling(1000)], ['sliding 2s/500ms', sliding(2000, 500)]];

describe('a split aggregate: partials at several gateways merged in the cloud', () => {
  for (const fn of ['count', 'sum', 'min', 'max', 'mean'] as const) {
    for (const [name, spec] of WINDOWS) {
      it(`${fn} over ${name}: equals a batch computation over the union of all gateways' inputs, with out-of-order and late data`, async () => {
        for (const seed of [1, 2, 3]) {
          const rnd = createSeededRandom(seed * 7919 + fn.length);
          // Disorder 3 s, maxDelay 1 s: events up to 2 s behind the watermark, all within lateness.
          const inputs = gatewayInputs(rnd, 2 + (seed % 3), 400, 3000);
          const { results, late, metrics } = await runSplit(app(fn, spec, 1000, 2000), inputs, rnd);
          const w = spec.type === 'sliding' ? spec : { sizeMs: (spec as { sizeMs: number }).sizeMs, slideMs: (spec as { sizeMs: number }).sizeMs };
          const expected = batchAligned(inputs.flat(), w.sizeMs, w.slideMs).map((b) => ({ key: b.key, windowStart: b.windowStart, windowEnd: b.windowEnd, value: valueOf(fn, b) }));
          const got = finals(results);
          expect(got.map((r) => ({ ...r, value: Math.round(r.value * 1e9) / 1e9 })), `seed ${seed}`)
            .toEqual(expected.map((r) => ({ ...r, value: Math.round(r.value * 1e9) / 1e9 })));
          expect(late).toEqual([]);
          // The data really was late: some results were revised after their window fired.
          expect(metrics.operators.find((o) => o.id === 'readings/keyBy/aggregate')!.lateUpdates, `seed ${seed}`).toBeGreaterThan(0);
        }
      });
    }
  }

  it('events later than allowed lateness go to the late side output in the cloud, each once; the rest are counted exactly once', async () => {
    for (const seed of [4, 5, 6]) {
      const rnd = createSeededRandom(seed);
      const inputs = gatewayInputs(rnd, 3, 400, 3000);
      // maxDelay 0 and no lateness: many events are too late.
      const { results, late } = await runSplit(app('count', tumbling(1000), 0, 0), inputs, rnd);
      expect(late.length).toBeGreaterThan(0);
      const all = inputs.flat();
      const remaining = [...all];
      for (const l of late) remaining.splice(remaining.findIndex((e) => e === l || (e.ts === l.ts && e.key === l.key && e.value === l.value)), 1);
      expect(remaining.length).toBe(all.length - late.length);
      const expected = batchAligned(remaining, 1000).map((b) => ({ key: b.key, windowStart: b.windowStart, windowEnd: b.windowEnd, value: b.count }));
      expect(finals(results), `seed ${seed}`).toEqual(expected);
    }
  });

  it('with one gateway and watermarks kept in order, the same results, revisions and late events as the app run whole', async () => {
    for (const fn of ['count', 'mean'] as const) {
      for (const [, spec] of WINDOWS) {
        const rnd = createSeededRandom(11);
        const input = gatewayInputs(rnd, 1, 600, 3000)[0]!;
        const graph = app(fn, spec, 0, 500);
        const wholeResults: unknown[] = [];
        const wholeLate: unknown[] = [];
        await startRun(graph, {
          sources: { readings: { type: 'values', values: input } },
          sinks: { results: { type: 'collect', onEvent: (v) => wholeResults.push(v) }, late: { type: 'collect', onEvent: (v) => wholeLate.push(v) } },
        }).done;
        const { results, late } = await runSplit(graph, [input], rnd);
        expect(wholeLate.length).toBeGreaterThan(0);
        expect(wholeResults.some((r) => (r as WindowResult<string, number>).revision > 0)).toBe(true);
        expect(results).toEqual(wholeResults);
        expect(late).toEqual(wholeLate);
      }
    }
  });

  it('a windowAll aggregate (one key, undefined, across every gateway) merges the same way', async () => {
    const rnd = createSeededRandom(12);
    const inputs = gatewayInputs(rnd, 3, 300, 2000);
    const graph = defineApp('all', (a) => {
      a.source<TimedEvent>('readings', { format: 'object', eventTime: 'ts', maxDelay: 1000 }).windowAll(tumbling(1000), { allowedLateness: 2000 }).max((e) => e.value).sink('results');
    }).graph();
    const { results } = await runSplit(graph, inputs, rnd);
    const byWindow = new Map<number, number>();
    for (const e of inputs.flat()) {
      const start = e.ts - (e.ts % 1000);
      byWindow.set(start, Math.max(byWindow.get(start) ?? -Infinity, e.value));
    }
    const got = finals(results);
    expect(got.every((r) => r.key === undefined)).toBe(true);
    expect(got.map((r) => [r.windowStart, r.value])).toEqual([...byWindow].sort((a, b) => a[0] - b[0]));
  });

  it('a late partial from one gateway updates the merged result, with the next revision', async () => {
    const rnd = createSeededRandom(9);
    const g1 = [{ ts: 100, key: 'a', value: 1 }, { ts: 1500, key: 'a', value: 1 }, { ts: 200, key: 'a', value: 10 }];
    const g2 = [{ ts: 300, key: 'a', value: 5 }, { ts: 1600, key: 'a', value: 1 }];
    // All of g2's sends first, then g1's: both are past 1000 when g1's late event arrives.
    const { results } = await runSplit(app('sum', tumbling(1000), 0, 5000), [g2, g1], rnd, (live) => live[0]!);
    const first = results.filter((r) => r.windowStart === 0);
    // The window fired with 1 + 5; g1's late 10 then revised it to 16.
    expect(first.map((r) => [r.value, r.revision])).toEqual([[6, 0], [16, 1]]);
  });
});
