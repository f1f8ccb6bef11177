import { describe, expect, it } from 'vitest';
import { defineApp, tumbling } from '../dsl/index.ts';
import { cloudPartitioning, planApp } from './index.ts';

interface R { ts: number; house: number; plug: string; w: number }

const partitioning = (build: Parameters<typeof defineApp>[1]) => cloudPartitioning(planApp(defineApp('a', build).graph()));

describe('cloudPartitioning', () => {
  it('splits a cloud part whose channels are keyed and which keeps each key in place', () => {
    const p = partitioning((app) => {
      app.source<R>('plugs', { eventTime: 'ts' }).keyBy((r) => r.house).window(tumbling('1m')).sum((r) => r.w).map((w) => w).sink('totals');
    });
    expect(p.byKey).toBe(true);
  });

  it('keeps one partition when a channel into the cloud is not keyed', () => {
    const p = partitioning((app) => {
      app.source<R>('plugs', { eventTime: 'ts' }).map((r) => r).place('cloud').sink('all');
    });
    expect(p).toEqual({ byKey: false, reason: expect.stringMatching(/is not keyed/) });
  });

  it('keeps one partition when the cloud re-keys the stream', () => {
    const p = partitioning((app) => {
      app.source<R>('plugs', { eventTime: 'ts' }).keyBy((r) => r.plug).window(tumbling('1m')).sum((r) => r.w)
        .keyBy((w) => String(w.key).length).window(tumbling('1m')).count().sink('odd');
    });
    expect(p).toEqual({ byKey: false, reason: expect.stringMatching(/re-keys the stream in the cloud/) });
  });

  it('has nothing to split when no channel reaches the cloud', () => {
    const p = partitioning((app) => { app.source<R>('plugs', { eventTime: 'ts' }).map((r) => r).sink('local'); });
    expect(p).toEqual({ byKey: false, reason: 'no channel reaches the cloud' });
  });
});
