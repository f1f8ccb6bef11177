import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchAligned, batchSessions, sorted, type TimedEvent } from '../../test/reference/batch-windows.ts';
import { defineApp, session, sliding, tumbling, type WindowResult } from '../dsl/index.ts';
import type { WindowSpec } from '../graph/index.ts';
import { startRun } from '../runtime/index.ts';

interface Stats { count: number; sum: number; min: number; max: number }
const statsAgg = {
  create: (): Stats => ({ count: 0, sum: 0, min: Infinity, max: -Infinity }),
  add: (a: Stats, e: TimedEvent) => { a.count++; a.sum += e.value; a.min = Math.min(a.min, e.value); a.max = Math.max(a.max, e.value); return a; },
  merge: (a: Stats, b: Stats) => ({ count: a.count + b.count, sum: a.sum + b.sum, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) }),
  result: (a: Stats) => ({ ...a }),
};

/** Runs events (in the given arrival order) through a keyed window; returns results and late events. */
async function runWindow(events: readonly TimedEvent[], spec: WindowSpec, maxDelay: number, lateness = 0) {
  const app = defineApp('w', (a) => {
    const out = a.source<TimedEvent>('in', { format: 'object', eventTime: 'ts', maxDelay })
      .keyBy((e) => e.key).window(spec, { allowedLateness: lateness }).aggregate(statsAgg);
    out.sink('out');
    out.late().sink('late');
  });
  const results: WindowResult<string, Stats>[] = [];
  const late: TimedEvent[] = [];
  const run = startRun(app.graph(), {
    sources: { in: { type: 'values', values: events } },
    sinks: {
      out: { type: 'collect', onEvent: (v) => results.push(v as WindowResult<string, Stats>) },
      late: { type: 'collect', onEvent: (v) => late.push(v as TimedEvent) },
    },
    batchSize: 7,
  });
  const { metrics } = await run.done;
  return { results, late, metrics };
}

/** The newest revision of each (key, window), flattened like the batch results. */
function finalResults(results: WindowResult<string, Stats>[]) {
  const last = new Map<string, WindowResult<string, Stats>>();
  for (const r of results) {
    const id = `${r.key}|${r.windowStart}`;
    const prev = last.get(id);
    if (!prev || r.revision > prev.revision) last.set(id, r);
  }
  return sorted([...last.values()].map((r) => ({ key: r.key, windowStart: r.windowStart, windowEnd: r.windowEnd, ...r.value })));
}

/** Events with ts ascending, then each displaced by at most `disorder` (a bounded shuffle). */
const disorderedEvents = (disorder: number) =>
  fc.array(fc.record({ ts: fc.integer({ min: 0, max: 2000 }), key: fc.constantFrom('a', 'b', 'c', 'd'), value: fc.integer({ min: -50, max: 50 }) }), { minLength: 1, maxLength: 150 })
    .chain((evs) => fc.array(fc.integer({ min: 0, max: disorder }), { minLength: evs.length, maxLength: evs.length })
      .map((jitter) => {
        // Arrival order: sort by ts + jitter. Any event then arrives at most `disorder` after a later-ts one.
        const sortedByTs = [...evs].sort((x, y) => x.ts - y.ts);
        return sortedByTs.map((e, i) => ({ e, at: e.ts + jitter[i]! })).sort((x, y) => x.at - y.at).map((x) => x.e);
      }));

describe('event-time windows equal the batch computation', () => {
  const specs: [string, WindowSpec, (evs: TimedEvent[]) => ReturnType<typeof batchAligned>][] = [
    ['tumbling', tumbling(100), (e) => batchAligned(e, 100)],
    ['tumbling with offset', tumbling(100, { offset: 30 }), (e) => batchAligned(e, 100, 100, 30)],
    ['sliding', sliding(100, 25), (e) => batchAligned(e, 100, 25)],
    ['session', session(40), (e) => batchSessions(e, 40)],
  ];
  for (const [name, spec, batch] of specs) {
    it(`${name}: any arrival order within the declared disorder bound`, async () => {
      await fc.assert(fc.asyncProperty(disorderedEvents(60), async (events) => {
        const { results, late } = await runWindow(events, spec, 60);
        expect(late).toEqual([]);
        // Without lateness every window fires exactly once.
        expect(results.every((r) => r.revision === 0)).toBe(true);
        expect(finalResults(results)).toEqual(batch(events));
      }), { numRuns: 60 });
    });
  }

  it('disorder beyond maxDelay: on-time results plus the late side output account for every event', async () => {
    await fc.assert(fc.asyncProperty(disorderedEvents(300), async (events) => {
      const { results, late, metrics } = await runWindow(events, tumbling(100), 20);
      const counted = finalResults(results).reduce((n, r) => n + r.count, 0);
      expect(counted + late.length).toBe(events.length);
      expect(metrics.operators.find((o) => o.kind === 'aggregate')!.late).toBe(late.length);
      // The windows over the on-time events equal a batch over exactly those events.
      const onTime = events.filter((e) => !late.includes(e));
      expect(finalResults(results)).toEqual(batchAligned(onTime, 100));
    }), { numRuns: 60 });
  });

  it('allowed lateness covering the disorder: the newest revisions equal the batch computation', async () => {
    await fc.assert(fc.asyncProperty(disorderedEvents(300), async (events) => {
      const { results, late } = await runWindow(events, tumbling(100), 20, 300);
      expect(late).toEqual([]);
      expect(finalResults(results)).toEqual(batchAligned(events, 100));
    }), { numRuns: 60 });
  });
});

describe('lateness, revisions and the end of input', () => {
  const ev = (ts: number, key = 'k', value = 1): TimedEvent => ({ ts, key, value });

  it('a late event within allowed lateness re-emits its window with the next revision', async () => {
    const { results, metrics } = await runWindow([ev(5), ev(120), ev(7), ev(130), ev(8)], tumbling(100), 0, 50);
    const first = results.filter((r) => r.windowStart === 0);
    expect(first.map((r) => [r.revision, r.value.count])).toEqual([[0, 1], [1, 2], [2, 3]]);
    expect(metrics.operators.find((o) => o.kind === 'aggregate')!.lateUpdates).toBe(2);
  });

  it('an event beyond allowed lateness goes to the late side output and is counted', async () => {
    const { results, late, metrics } = await runWindow([ev(5), ev(200), ev(6)], tumbling(100), 0, 50);
    expect(late).toEqual([ev(6)]);
    expect(results.find((r) => r.windowStart === 0)!.value.count).toBe(1);
    expect(metrics.operators.find((o) => o.kind === 'aggregate')!.late).toBe(1);
  });

  it('at the end of a bounded input every open window fires', async () => {
    const { results } = await runWindow([ev(5, 'a'), ev(7, 'b'), ev(950, 'a')], tumbling(100), 10_000);
    expect(results.map((r) => [r.key, r.windowStart, r.value.count])).toEqual([['a', 0, 1], ['b', 0, 1], ['a', 900, 1]]);
  });

  it('a result carries event time end - 1, so a second window of the same size keeps it in the same window', async () => {
    const app = defineApp('ts', (a) => {
      a.source<TimedEvent>('in', { format: 'object', eventTime: 'ts' })
        .keyBy((e) => e.key).window(tumbling(10)).count()
        .keyBy((r) => r.key).window(tumbling(10)).sum((r) => r.value).sink('out');
    });
    const out: WindowResult<string, number>[] = [];
    const run = startRun(app.graph(), {
      sources: { in: { type: 'values', values: [ev(0), ev(9), ev(10), ev(25)] } },
      sinks: { out: { type: 'collect', onEvent: (v) => out.push(v as WindowResult<string, number>) } },
    });
    await run.done;
    expect(out.map((r) => [r.windowStart, r.value])).toEqual([[0, 2], [10, 1], [20, 1]]);
  });
});

describe('memory stays bounded for a fixed key set', () => {
  it('window state holds only open windows, however long the input', async () => {
    const n = 200_000;
    const events = function* () { for (let i = 0; i < n; i++) yield { ts: i, key: `k${i % 50}`, value: 1 }; };
    const app = defineApp('bounded', (a) => {
      a.source<TimedEvent>('in', { format: 'object', eventTime: 'ts' }).keyBy((e) => e.key).window(tumbling(1000)).count().sink('out');
    });
    let maxState = 0;
    let results = 0;
    const run = startRun(app.graph(), {
      sources: { in: { type: 'values', values: events() } },
      sinks: { out: { type: 'collect', onEvent: () => { results++; if (results % 50 === 0) maxState = Math.max(maxState, run.metrics().operators.find((o) => o.kind === 'aggregate')!.state!); } } },
    });
    await run.done;
    expect(results).toBe((n / 1000) * 50);
    // At most the open window plus the one firing: 2 x 50 keys, independent of n.
    expect(maxState).toBeLessThanOrEqual(100);
  });
});
