import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.ts';
import { defineApp, tumbling, type AppBuilder, type WindowResult } from '../dsl/index.ts';
import { splitGraph, startRun, type SinkBinding, type SourceBinding } from './index.ts';

interface Letter { deadLetter: true; op: string; reason: string; payload: unknown }

/** Runs an app over in-memory inputs; returns what each sink and the dead-letter stream got. */
async function runApp(build: (a: AppBuilder) => void, sources: Record<string, SourceBinding>, sinkNames: string[], opts: { batchSize?: number } = {}) {
  const graph = defineApp('t', build).graph();
  const out: Record<string, unknown[]> = Object.fromEntries(sinkNames.map((n) => [n, []]));
  const letters: Letter[] = [];
  const sinks: Record<string, SinkBinding> = Object.fromEntries(sinkNames.map((n) => [n, { type: 'collect', onEvent: (v: unknown) => out[n]!.push(v) }]));
  sinks['dead-letter'] = { type: 'collect', onEvent: (v) => letters.push(v as Letter) };
  const { metrics } = await startRun(graph, { sources, sinks, ...opts }).done;
  return { out, letters, metrics };
}

const lines = (...l: string[]): SourceBinding => ({ type: 'lines', lines: l });

describe('source formats and the dead-letter stream', () => {
  it('JSON lines: bad lines go to dead letters with reason, source and line; good ones all pass', async () => {
    const { out, letters, metrics } = await runApp((a) => { a.source('in', { format: 'json' }).sink('o'); },
      { in: lines('{"a":1}', '{"a":', '', '{"a":3}', 'not json') }, ['o']);
    expect(out.o).toEqual([{ a: 1 }, { a: 3 }]);
    expect(letters.map((l) => [l.op, l.payload])).toEqual([['in', '{"a":'], ['in', 'not json']]);
    expect(letters[0]!.reason).toMatch(/^line 2: not valid JSON/);
    expect(letters[1]!.reason).toMatch(/^line 5: not valid JSON/);
    expect(metrics.deadLetters).toBe(2);
    expect(metrics.operators.find((o) => o.id === 'in')!.deadLettered).toBe(2);
  });

  it('CSV: header row, numbers as numbers, RFC 4180 quotes; wrong field counts are dead-lettered', async () => {
    const { out, letters } = await runApp((a) => { a.source('in', { format: 'csv' }).sink('o'); },
      { in: lines('id,name,temp', '1,"Smith, J",21.5', '2,"say ""hi""",-3', '3,short', '4,"open,x') }, ['o']);
    expect(out.o).toEqual([{ id: 1, name: 'Smith, J', temp: 21.5 }, { id: 2, name: 'say "hi"', temp: -3 }]);
    expect(letters.map((l) => l.reason)).toEqual(['line 4: 2 fields, but the header has 3', 'line 5: unterminated quoted field']);
  });

  it('SenML: a pack becomes one event per resolved record; a bad pack is dead-lettered', async () => {
    const pack = JSON.stringify([{ bn: 'urn:dev:ow:10e2073a01080063:', bt: 1.320067464e9, bu: 'Cel', n: 'temp', v: 23.1 }, { n: 'temp', t: 10, v: 23.4 }]);
    const { out, letters } = await runApp((a) => { a.source('in', { format: 'senml', eventTime: 'time' }).sink('o'); },
      { in: lines(pack, '[{"v":"warm"}]', '{"not":"a pack"}') }, ['o']);
    expect(out.o).toMatchObject([
      { name: 'urn:dev:ow:10e2073a01080063:temp', time: 1320067464000, unit: 'Cel', value: 23.1 },
      { name: 'urn:dev:ow:10e2073a01080063:temp', time: 1320067474000, unit: 'Cel', value: 23.4 },
    ]);
    expect(letters).toHaveLength(2);
    expect(letters.every((l) => /not a SenML pack/.test(l.reason))).toBe(true);
  });

  it('validation, a throwing parse, a missing event time and a throwing map are dead-lettered; the run continues', async () => {
    const { out, letters } = await runApp((a) => {
      a.source<{ t: number; v: number }>('in', {
        format: 'lines',
        parse: (l) => { if (l.startsWith('#')) throw new Error('comment line'); const [t, v] = l.split(' '); return { t: Number(t), v: Number(v) }; },
        eventTime: 't',
        validate: (r) => (r.v < 0 ? `v must be >= 0, got ${r.v}` : undefined),
      }).map((r) => { if (r.v === 13) throw new Error('unlucky'); return r.v; }).sink('o');
    }, { in: lines('1 5', '# note', '2 -1', 'x 7', '3 13', '4 8') }, ['o']);
    expect(out.o).toEqual([5, 8]);
    expect(letters.map((l) => [l.op, l.reason])).toEqual([
      ['in', 'line 2: comment line'],
      ['in', 'record 3: v must be >= 0, got -1'],
      ['in', 'record 4: no event time (field "t" gave NaN)'],
      ['in/map', 'unlucky'],
    ]);
  });
});

describe('back-pressure', () => {
  it('a slow sink holds the sources; its buffer stays bounded and nothing is lost', async () => {
    let maxBuffered = 0;
    let written = 0;
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, cb) {
        written += chunk.toString().split('\n').length - 1;
        setImmediate(cb);
      },
    });
    const probe = setInterval(() => { maxBuffered = Math.max(maxBuffered, slow.writableLength); }, 1);
    const n = 100_000;
    const values = Array.from({ length: n }, (_, i) => ({ i, pad: 'x'.repeat(40) }));
    const graph = defineApp('bp', (a) => { a.source('in', { format: 'object' }).sink('o'); }).graph();
    const { metrics } = await startRun(graph, { sources: { in: { type: 'values', values } }, sinks: { o: { type: 'stream', stream: slow } }, batchSize: 256 }).done;
    clearInterval(probe);
    await new Promise<void>((r) => slow.end(r));
    expect(written).toBe(n);
    expect(metrics.backpressureWaits).toBeGreaterThan(0);
    // One batch of ~60-byte lines beyond the high-water mark at most: bounded, independent of n.
    expect(maxBuffered).toBeLessThan(16 * 1024 + 256 * 80);
  });
});

describe('stream groupings across parallel instances', () => {
  const values = Array.from({ length: 4000 }, (_, i) => ({ k: `key${i % 37}`, i }));

  it('key grouping: every key is handled by exactly one instance, so keyed state sees all its events', async () => {
    const { out, metrics } = await runApp((a) => {
      a.source<{ k: string }>('in', { format: 'object' }).keyBy((v) => v.k)
        .process<number, [string, number]>({ onEvent: (_v, ctx) => { const n = (ctx.state() ?? 0) + 1; ctx.setState(n); ctx.emit([ctx.key as string, n]); } })
        .parallelism(4).shuffle().sink('o');
    }, { in: { type: 'values', values } }, ['o']);
    const maxPerKey = new Map<string, number>();
    for (const [k, n] of out.o as [string, number][]) maxPerKey.set(k, Math.max(maxPerKey.get(k) ?? 0, n));
    for (let k = 0; k < 37; k++) expect(maxPerKey.get(`key${k}`)).toBe(values.filter((v) => v.k === `key${k}`).length);
    const inst = metrics.operators.find((o) => o.kind === 'process')!.inPerInstance;
    expect(inst).toHaveLength(4);
    expect(inst.filter((n) => n > 0).length).toBeGreaterThan(1);
  });

  it('shuffle spreads round-robin, broadcast copies to all, global sends all to one', async () => {
    const { out, metrics } = await runApp((a) => {
      const s = a.source('in', { format: 'object' });
      s.shuffle().map((v) => v).name('sh').parallelism(4).shuffle().sink('o1');
      s.broadcast().map((v) => v).name('bc').parallelism(3).shuffle().sink('o2');
      s.global().map((v) => v).name('gl').parallelism(2).shuffle().sink('o3');
    }, { in: { type: 'values', values } }, ['o1', 'o2', 'o3']);
    const per = (id: string) => metrics.operators.find((o) => o.id === id)!.inPerInstance;
    expect(per('sh')).toEqual([1000, 1000, 1000, 1000]);
    expect(per('bc')).toEqual([4000, 4000, 4000]);
    expect(per('gl')).toEqual([4000, 0]);
    expect([out.o1!.length, out.o2!.length, out.o3!.length]).toEqual([4000, 12000, 4000]);
  });
});

describe('multi-input operators', () => {
  interface Ev { ts: number; k: string; v: number }
  const left: Ev[] = [{ ts: 1, k: 'a', v: 1 }, { ts: 3, k: 'b', v: 2 }, { ts: 12, k: 'a', v: 3 }, { ts: 15, k: 'a', v: 4 }];
  const right: Ev[] = [{ ts: 2, k: 'a', v: 10 }, { ts: 4, k: 'a', v: 20 }, { ts: 11, k: 'b', v: 30 }, { ts: 14, k: 'a', v: 40 }];

  it('a windowed join emits every pair with equal keys in the same window, as a nested loop would', async () => {
    const { out } = await runApp((a) => {
      const l = a.source<Ev>('l', { format: 'object', eventTime: 'ts' }).keyBy((e) => e.k);
      const r = a.source<Ev>('r', { format: 'object', eventTime: 'ts' }).keyBy((e) => e.k);
      l.join(r).window(tumbling(10)).apply((x, y) => `${x.k}:${x.v}x${y.v}`).sink('o');
    }, { l: { type: 'values', values: left }, r: { type: 'values', values: right } }, ['o']);
    const expected: string[] = [];
    for (const x of left) for (const y of right) if (x.k === y.k && Math.floor(x.ts / 10) === Math.floor(y.ts / 10)) expected.push(`${x.k}:${x.v}x${y.v}`);
    expect([...out.o!].sort()).toEqual(expected.sort());
  });

  it('union merges streams and windows see the minimum watermark of both', async () => {
    const { out } = await runApp((a) => {
      const l = a.source<Ev>('l', { format: 'object', eventTime: 'ts' });
      const r = a.source<Ev>('r', { format: 'object', eventTime: 'ts' });
      l.union(r).keyBy((e) => e.k).window(tumbling(10)).sum((e) => e.v).sink('o');
    }, { l: { type: 'values', values: left }, r: { type: 'values', values: right } }, ['o']);
    const got = (out.o as WindowResult<string, number>[]).map((w) => [w.key, w.windowStart, w.value]).sort();
    expect(got).toEqual([['a', 0, 31], ['a', 10, 47], ['b', 0, 2], ['b', 10, 30]].sort());
  });
});

describe('timers and processing time', () => {
  it('an event-time timer fires when the watermark passes it, with its key', async () => {
    const { out } = await runApp((a) => {
      a.source<{ ts: number; k: string }>('in', { format: 'object', eventTime: 'ts' }).keyBy((e) => e.k)
        .process<number, string>({
          onEvent: (_v, ctx) => { ctx.setState((ctx.state() ?? 0) + 1); ctx.timers.eventTime(ctx.timestamp + 100); },
          onTimer: (t, ctx) => { ctx.emit(`${String(ctx.key)}@${t}:${ctx.state()}`); ctx.setState(undefined); },
        }).sink('o');
    }, { in: { type: 'values', values: [{ ts: 0, k: 'x' }, { ts: 50, k: 'y' }, { ts: 99, k: 'x' }, { ts: 160, k: 'x' }, { ts: 400, k: 'y' }] } }, ['o']);
    // An event is processed before the watermark it advances: x@160 is counted before timer 100 fires.
    expect(out.o).toEqual(['x@100:3', 'y@150:1', 'x@199:undefined', 'x@260:undefined', 'y@500:1']);
  });

  it('processing-time windows fire on the clock, driven here by a manual clock', async () => {
    const clock = createManualClock(1_000_000);
    const results: WindowResult<undefined, number>[] = [];
    const feed: { resolve?: (v: unknown) => void } = {};
    async function* input() {
      yield 1; yield 2;
      await new Promise((r) => { feed.resolve = r; });
      yield 3;
    }
    const graph = defineApp('pt', (a) => { a.source<number>('in', { format: 'object' }).windowAll(tumbling(1000), { time: 'processing' }).sum().sink('o'); }).graph();
    const run = startRun(graph, { sources: { in: { type: 'values', values: input() } }, sinks: { o: { type: 'collect', onEvent: (v) => results.push(v as WindowResult<undefined, number>) } }, clock, batchSize: 1 });
    await new Promise<void>((r) => { const check = () => (feed.resolve ? r() : setImmediate(check)); check(); });
    expect(results).toEqual([]);
    clock.advance(1000);
    expect(results.map((r) => [r.windowStart, r.value])).toEqual([[1_000_000, 3]]);
    feed.resolve!(undefined);
    await run.done;
    // The end of input fires the window still open.
    expect(results.map((r) => [r.windowStart, r.value])).toEqual([[1_000_000, 3], [1_001_000, 3]]);
  });
});

describe('metrics', () => {
  it('counts per operator, rates and sampled latency', async () => {
    const values = Array.from({ length: 50_000 }, (_, i) => i);
    const { metrics } = await runApp((a) => { a.source<number>('in', { format: 'object' }).filter((v) => v % 2 === 0).map((v) => v * 2).sink('o'); }, { in: { type: 'values', values } }, ['o']);
    const f = metrics.operators.find((o) => o.kind === 'filter')!;
    expect([f.in, f.out]).toEqual([50_000, 25_000]);
    expect(f.rateIn).toBeGreaterThan(0);
    expect(f.latencyMs.samples).toBe(Math.floor(50_000 / 1024));
    expect(metrics.operators.find((o) => o.kind === 'sink')!.in).toBe(25_000);
  });

  it('unbound and unknown sources and sinks are refused with the fix', () => {
    const graph = defineApp('b', (a) => { a.source('in').sink('o'); }).graph();
    expect(() => startRun(graph, { sources: {}, sinks: { o: { type: 'stdout' } } })).toThrow(/source "in" has no input.*--in in=FILE/);
    expect(() => startRun(graph, { sources: { in: { type: 'file', path: '/nonexistent/x' } }, sinks: { o: { type: 'stdout' } } })).toThrow(/does not exist/);
    expect(() => startRun(graph, { sources: { in: lines() }, sinks: { o: { type: 'stdout' }, p: { type: 'stdout' } } })).toThrow(/no sink "p".*its sinks are: o, dead-letter/);
  });
});

describe('watermarks into a sink target', () => {
  const target = (seen: { writes: number[]; marks: [number, number][] }): SinkBinding => ({
    type: 'target',
    target: {
      write: (ts) => { seen.writes.push(ts); },
      watermark: (wm) => { seen.marks.push([wm, seen.writes.length]); },
      end: () => Promise.resolve(),
    },
  });
  const values = Array.from({ length: 20 }, (_, i) => ({ t: i * 10 }));

  it('reach the target mid-stream, after the events they cover (a channel carries them on)', async () => {
    const seen = { writes: [] as number[], marks: [] as [number, number][] };
    await startRun(defineApp('t', (a) => { a.source<{ t: number }>('in', { format: 'object', eventTime: 't' }).sink('o'); }).graph(),
      { sources: { in: { type: 'values', values } }, sinks: { o: target(seen), 'dead-letter': { type: 'collect', onEvent: () => {} } } }).done;
    const finite = seen.marks.filter(([wm]) => Number.isFinite(wm));
    expect(finite.map(([wm]) => wm)).toEqual(values.map((v) => v.t));
    // Each watermark came after the event that raised it.
    for (const [wm, written] of finite) expect(seen.writes.slice(0, written)).toContain(wm);
  });

  it('from several sink instances: the minimum over them, never ahead of a slower one', async () => {
    const seen = { writes: [] as number[], marks: [] as [number, number][] };
    await startRun(defineApp('t', (a) => { a.source<{ t: number }>('in', { format: 'object', eventTime: 't' }).shuffle().map((v) => v).parallelism(2).shuffle().sink('o'); }).graph(),
      { sources: { in: { type: 'values', values } }, sinks: { o: target(seen), 'dead-letter': { type: 'collect', onEvent: () => {} } } }).done;
    const marks = seen.marks.map(([wm]) => wm);
    expect(marks.length).toBeGreaterThan(2);
    expect([...marks].sort((x, y) => x - y)).toEqual(marks); // only ever moves forward
    // With round-robin to two instances, a watermark never passes an event not yet written.
    for (const [wm, written] of seen.marks) if (Number.isFinite(wm)) expect(Math.max(...seen.writes.slice(0, written))).toBeGreaterThanOrEqual(wm);
    expect(marks.at(-1)).toBe(Infinity);
  });
});

describe('sink watermarks', () => {
  it('a sink target sees each watermark as it moves, not only the final one (channels pass them on)', async () => {
    const marks: number[] = [];
    const graph = defineApp('w', (a) => { a.source<{ ts: number }>('in', { format: 'object', eventTime: 'ts' }).sink('o'); }).graph();
    await startRun(graph, { sources: { in: { type: 'values', values: [{ ts: 1 }, { ts: 5 }, { ts: 9 }] } }, sinks: { o: { type: 'collect', onEvent: () => {}, onWatermark: (wm) => marks.push(wm) } }, batchSize: 1 }).done;
    expect(marks).toEqual([1, 5, 9, Infinity]);
  });

  it('a sink with several instances passes on each watermark once all of them have it', async () => {
    const marks: number[] = [];
    const graph = defineApp('w', (a) => {
      a.source<{ ts: number }>('in', { format: 'object', eventTime: 'ts' }).shuffle().map((v) => v).parallelism(2).shuffle().map((v) => v).place('cloud').sink('o');
    }).graph();
    const edge = splitGraph(graph, 'edge');
    const channel = edge.graph.operators.find((o) => o.config.kind === 'sink')!;
    expect(channel.parallelism).toBe(2);
    let events = 0;
    await startRun(edge.graph, {
      sources: { in: { type: 'values', values: [{ ts: 1 }, { ts: 5 }, { ts: 9 }] } },
      sinks: { [channel.name]: { type: 'collect', onEvent: () => { events++; }, onWatermark: (wm) => marks.push(wm) } },
      batchSize: 1,
    }).done;
    expect(events).toBe(3);
    expect(marks).toEqual([1, 5, 9, Infinity]);
  });
});
