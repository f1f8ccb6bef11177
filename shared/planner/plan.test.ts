import { describe, expect, it } from 'vitest';
import { defineApp, tumbling } from '../dsl/index.ts';
import { planApp } from './index.ts';

const graph = defineApp('plant', (app) => {
  const readings = app.source<{ ts: number; m: string; v: number }>('readings', { eventTime: 'ts' });
  const means = readings.filter((r) => r.v >= 0).keyBy((r) => r.m).window(tumbling('1m'), { allowedLateness: '10s' }).mean((r) => r.v);
  means.map((w) => w).sink('means');
  means.late().sink('late');
}).graph();

describe('planApp', () => {
  const plan = planApp(graph);

  it('lists every operator of the app as written, with where it runs and why', () => {
    expect(plan.operators.map((o) => [o.id, o.where, o.rule])).toEqual([
      ['readings', 'edge', 'source'],
      ['readings/filter', 'edge', 'follows-input'],
      ['readings/filter/keyBy', 'edge', 'follows-input'],
      ['readings/filter/keyBy/aggregate', 'split', 'decomposable-split'],
      ['readings/filter/keyBy/aggregate/map', 'cloud', 'input-in-cloud'],
      ['sink:means', 'cloud', 'input-in-cloud'],
      ['readings/filter/keyBy/aggregate/late', 'cloud', 'late-with-window'],
      ['sink:late', 'cloud', 'input-in-cloud'],
    ]);
    expect(plan.operators[3]!.partial).toBe('readings/filter/keyBy/aggregate/partial');
  });

  it('executes a split aggregate as a partial at the edge and a merge in the cloud under its own id', () => {
    const ids = plan.executed.operators.map((o) => [o.id, plan.parts.get(o.id)]);
    expect(ids.slice(2, 5)).toEqual([
      ['readings/filter/keyBy', 'edge'],
      ['readings/filter/keyBy/aggregate/partial', 'edge'],
      ['readings/filter/keyBy/aggregate', 'cloud'],
    ]);
    const [partial, merge] = [plan.executed.operators[3]!, plan.executed.operators[4]!];
    expect(partial.config.kind === 'aggregate' && partial.config.aggregate.stage).toBe('partial');
    expect(partial.inputs).toEqual([{ from: 'readings/filter/keyBy', grouping: 'key', port: 'in' }]);
    expect(merge.config.kind === 'aggregate' && merge.config.aggregate.stage).toBe('merge');
    expect(merge.inputs).toEqual([{ from: 'readings/filter/keyBy/aggregate/partial', grouping: 'key', port: 'in' }]);
    // The original graph is left as it was: running it whole needs no split.
    expect(graph.operators.some((o) => o.id.endsWith('/partial'))).toBe(false);
  });

  it('names one channel where the graph crosses: from the partial to the merge, by key', () => {
    expect(plan.channels).toEqual([{
      name: '0-readings_filter_keyBy_aggregate_partial', from: 'readings/filter/keyBy/aggregate/partial',
      to: 'readings/filter/keyBy/aggregate', grouping: 'key',
    }]);
  });

  it('gives the same channels every time, in every process', () => {
    expect(planApp(graph).channels).toEqual(plan.channels);
  });
});
