import { describe, expect, it } from 'vitest';
import { defineApp, tumbling } from '../dsl/index.ts';
import { splitGraph } from '../runtime/index.ts';
import { assignParts } from './index.ts';

const graph = defineApp('plant', (app) => {
  const readings = app.source<{ ts: number; m: string; v: number }>('readings', { eventTime: 'ts' });
  const clean = readings.filter((r) => r.v >= 0);
  const perMachine = clean.keyBy((r) => r.m).window(tumbling('1m')).mean((r) => r.v).place('cloud');
  perMachine.map((w) => w).sink('means');
  perMachine.late().sink('late');
  clean.filter((r) => r.v > 100).place('edge').sink('alerts');
}).graph();

describe('splitting an app into edge and cloud parts', () => {
  it('pins decide; sources sit at the edge; auto follows its input; late stays with its window', () => {
    const parts = Object.fromEntries([...assignParts(graph)].map(([id, p]) => [id, p.part]));
    expect(parts).toEqual({
      readings: 'edge', 'readings/filter': 'edge', 'readings/filter/keyBy': 'edge',
      'readings/filter/keyBy/aggregate': 'cloud', 'readings/filter/keyBy/aggregate/map': 'cloud',
      'sink:means': 'cloud', 'readings/filter/keyBy/aggregate/late': 'cloud', 'sink:late': 'cloud',
      'readings/filter/filter': 'edge', 'sink:alerts': 'edge',
    });
    expect(assignParts(graph).get('readings/filter/keyBy')!.reason).toBe('stateless: runs next to its input "readings/filter", at the edge');
  });

  it('each edge between parts becomes one channel: a sink on one side, a source on the other, same name', () => {
    const edge = splitGraph(graph, 'edge');
    const cloud = splitGraph(graph, 'cloud');
    expect(edge.outbound).toEqual(cloud.inbound);
    expect(edge.outbound).toEqual([{ name: '0-readings_filter_keyBy', from: 'readings/filter/keyBy', to: 'readings/filter/keyBy/aggregate', grouping: 'key' }]);
    expect(edge.graph.operators.map((o) => o.id)).toEqual(['readings', 'readings/filter', 'readings/filter/keyBy', 'readings/filter/filter', 'sink:alerts', 'sink:channel:0-readings_filter_keyBy']);
    const window = cloud.graph.operators.find((o) => o.id === 'readings/filter/keyBy/aggregate')!;
    expect(window.inputs).toEqual([{ from: 'channel:0-readings_filter_keyBy', grouping: 'key', port: 'in' }]);
  });
});
