import { describe, expect, it } from 'vitest';
import { defineApp, tumbling } from '../dsl/index.ts';
import { splitGraph } from '../runtime/index.ts';
import { inboundGroups } from './inbound-groups.ts';

const cloudPart = (build: Parameters<typeof defineApp>[1]) => splitGraph(defineApp('g', build).graph({}), 'cloud');

describe('inboundGroups', () => {
  it("puts a join's two sides in one group, named '' as a part's only group", () => {
    const part = cloudPart((a) => {
      const l = a.source<{ k: string; t: number }>('left', { format: 'json', eventTime: 't' }).keyBy((r) => r.k);
      const r = a.source<{ k: string; t: number }>('right', { format: 'json', eventTime: 't' }).keyBy((r) => r.k);
      l.join(r).window(tumbling('10s')).apply((x, y) => ({ x, y })).sink('out');
    });
    expect(inboundGroups(part)).toEqual([{ name: '', channels: part.inbound.map((c) => c.name).sort() }]);
  });

  it('keeps two pipelines that never meet apart, each named for its channel', () => {
    const part = cloudPart((a) => {
      a.source<{ k: string; t: number; v: number }>('temps', { format: 'json', eventTime: 't' }).keyBy((r) => r.k).window(tumbling('10s')).sum((r) => r.v).sink('temp-sums');
      a.source<{ k: string; t: number; v: number }>('vibration', { format: 'json', eventTime: 't' }).keyBy((r) => r.k).window(tumbling('10s')).max((r) => r.v).sink('vib-max');
    });
    const names = part.inbound.map((c) => c.name);
    expect(names).toHaveLength(2);
    expect(inboundGroups(part)).toEqual(names.map((n) => ({ name: n, channels: [n] })));
  });

  it('names a group of several channels for all of them, so another grouping never shares its name', () => {
    const part = cloudPart((a) => {
      const l = a.source<{ k: string; t: number }>('left', { format: 'json', eventTime: 't' }).keyBy((r) => r.k);
      const r = a.source<{ k: string; t: number }>('right', { format: 'json', eventTime: 't' }).keyBy((r) => r.k);
      l.join(r).window(tumbling('10s')).apply((x, y) => ({ x, y })).sink('out');
      a.source<{ k: string; t: number; v: number }>('temps', { format: 'json', eventTime: 't' }).keyBy((x) => x.k).window(tumbling('10s')).sum((x) => x.v).sink('sums');
    });
    const [left, right, temps] = part.inbound.map((c) => c.name) as [string, string, string];
    expect(inboundGroups(part)).toEqual([{ name: `${left}+${right}`, channels: [left, right] }, { name: temps, channels: [temps] }]);
  });
});
