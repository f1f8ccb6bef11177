import { describe, expect, it } from 'vitest';
import { defineApp, session, tumbling, type AppBuilder } from '../dsl/index.ts';
import { ConfigError } from '../errors.ts';

const graphOf = (build: (a: AppBuilder) => void) => defineApp('t', build).graph();

function rejection(build: (a: AppBuilder) => void): ConfigError {
  try {
    graphOf(build);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('graph was accepted');
}

describe('stable operator ids', () => {
  it('derives ids from the path from the source, the same on every build', () => {
    const build = (a: AppBuilder) => {
      const s = a.source<string>('words', { format: 'lines' });
      s.map((w) => w.toUpperCase()).sink('upper');
      s.map((w) => w.length).sink('lengths');
    };
    const ids = graphOf(build).operators.map((o) => o.id);
    expect(ids).toEqual(['words', 'words/map', 'sink:upper', 'words/map#2', 'sink:lengths']);
    expect(graphOf(build).operators.map((o) => o.id)).toEqual(ids);
  });

  it('an edit elsewhere in the app does not change an unrelated id', () => {
    const a1 = graphOf((a) => { a.source('x').map((v) => v).sink('o'); a.source('y').filter(() => true).sink('p'); });
    const a2 = graphOf((a) => { a.source('x').map((v) => v).filter(() => true).sink('o'); a.source('y').filter(() => true).sink('p'); });
    expect(a1.operators.find((o) => o.name === 'p')!.inputs[0]!.from).toBe('y/filter');
    expect(a2.operators.find((o) => o.name === 'p')!.inputs[0]!.from).toBe('y/filter');
  });

  it('.name() sets the id, and downstream ids follow it', () => {
    const g = graphOf((a) => { a.source('in').map((v) => v).name('parse').filter(() => true).sink('out'); });
    expect(g.operators.map((o) => o.id)).toEqual(['in', 'parse', 'parse/filter', 'sink:out']);
  });
});

describe('mistakes are rejected before anything runs, naming the operator and the fix', () => {
  it('two operators with the same id', () => {
    const e = rejection((a) => { const s = a.source('in'); s.map((v) => v).name('p').sink('o1'); s.filter(() => true).name('p').sink('o2'); });
    expect(e.code).toBe('GRAPH_DUPLICATE_ID');
    expect(e.message).toMatch(/"p".*fix: give one of them another \.name/);
  });

  it('two sinks with the same name', () => {
    const e = rejection((a) => { const s = a.source('in'); s.sink('out'); s.map((v) => v).sink('out'); });
    expect(e.code).toBe('GRAPH_DUPLICATE_ID');
    expect(e.message).toMatch(/two sinks are named "out"/);
  });

  it('an event-time window on a stream without event time', () => {
    const e = rejection((a) => { a.source<{ k: string }>('in', { format: 'json' }).keyBy((v) => v.k).window(tumbling('1m')).count().sink('o'); });
    expect(e.code).toBe('GRAPH_NO_EVENT_TIME');
    expect(e.message).toMatch(/"in" has none.*fix: give its source an eventTime/);
  });

  it('a processing-time window needs no event time', () => {
    expect(() => graphOf((a) => { a.source<{ k: string }>('in').keyBy((v) => v.k).window(tumbling('1m'), { time: 'processing' }).count().sink('o'); })).not.toThrow();
  });

  it('an edge between incompatible types: sum of text lines without a selector', () => {
    const e = rejection((a) => { a.source('in', { format: 'lines', eventTime: () => 0 }).windowAll(tumbling(10)).sum().sink('o'); });
    expect(e.code).toBe('GRAPH_TYPE_MISMATCH');
    expect(e.message).toMatch(/sum needs numbers, but "in" emits string values.*fix: pass a selector/);
  });

  it('an edge between incompatible shapes: a join of an unkeyed stream (built by hand, as a graph file would be)', async () => {
    const { assembleGraph } = await import('./assemble.ts');
    const src = { kind: 'source', source: { format: 'json', eventTime: 'ts', maxDelayMs: 0, parse: undefined, validate: undefined } } as const;
    const win = { window: tumbling(10), time: 'event', allowedLatenessMs: 0, combine: () => 0 } as const;
    const drafts = [
      { config: src, inputs: [], explicitName: 'a', placement: 'auto', parallelism: 1, valueType: undefined },
      { config: src, inputs: [], explicitName: 'b', placement: 'auto', parallelism: 1, valueType: undefined },
      { config: { kind: 'join', join: win }, inputs: [{ draft: 0, grouping: 'forward', port: 'left' }, { draft: 1, grouping: 'forward', port: 'right' }], explicitName: undefined, placement: 'auto', parallelism: 1, valueType: undefined },
      { config: { kind: 'sink' }, inputs: [{ draft: 2, grouping: 'forward', port: 'in' }], explicitName: 'o', placement: 'auto', parallelism: 1, valueType: undefined },
    ] as const;
    expect(() => assembleGraph('t', drafts.map((d) => ({ ...d })), {})).toThrow(/a plain stream from "a" cannot feed a window join.*fix: key both sides first/);
  });

  it('a union of streams with and without event time', () => {
    const e = rejection((a) => { a.source('x', { eventTime: 'ts' }).union(a.source('y')).sink('o'); });
    expect(e.code).toBe('GRAPH_MIXED_TIME');
  });

  it('an operator whose output goes nowhere', () => {
    const e = rejection((a) => { a.source('in').map((v) => v); });
    expect(e.code).toBe('GRAPH_DANGLING');
    expect(e.message).toMatch(/"in\/map" has no consumer.*fix: end the stream with \.sink/);
  });

  it('a forward edge between different parallelisms', () => {
    const e = rejection((a) => { a.source('in').map((v) => v).parallelism(4).sink('o'); });
    expect(e.code).toBe('GRAPH_FORWARD_PARALLELISM');
    expect(e.message).toMatch(/fix: .*shuffle/);
  });

  it('an invalid placement hint', () => {
    const e = rejection((a) => { a.source('in').map((v) => v).place('fog' as 'edge').sink('o'); });
    expect(e.code).toBe('GRAPH_BAD_PLACEMENT');
    expect(e.message).toMatch(/"in\/map".*use "edge", "cloud", "auto" or \{ selector/);
  });

  it('an invalid name', () => {
    const e = rejection((a) => { a.source('in put').sink('o'); });
    expect(e.code).toBe('GRAPH_BAD_NAME');
  });

  it('an app with no source', () => {
    expect(() => graphOf(() => {})).toThrow(/has no source/);
  });

  it('bad durations and window lengths say where', () => {
    expect(() => graphOf((a) => { a.source('in', { maxDelay: 'soon' }).sink('o'); })).toThrow(/"soon" is not a duration; at source "in" maxDelay/);
    expect(() => session(0)).toThrow(/longer than 0/);
  });
});

describe('placement hints are recorded', () => {
  it('keeps edge, cloud, auto and selectors on each operator', () => {
    const g = graphOf((a) => {
      a.source('in').place('edge').map((v) => v).place({ selector: 'site=plant-7' }).filter(() => true).place('cloud').sink('o');
    });
    expect(g.operators.map((o) => o.placement)).toEqual(['edge', { selector: 'site=plant-7' }, 'cloud', 'auto']);
  });
});
