import { describe, expect, it } from 'vitest';
import { decodeDesired, decodeStatus, encodeControl, type DesiredApp, type DesiredState } from './control.ts';
import { partFinalTopic } from './topics.ts';

const HASH = 'a'.repeat(64);
const app = (extra: Partial<DesiredApp> & Record<string, unknown> = {}): DesiredApp =>
  ({ app: 'plugs', version: 2, hash: HASH, params: {}, producers: ['gw-1'], ...extra }) as DesiredApp;
const desired = (apps: DesiredApp[]): Uint8Array => encodeControl({ type: 'desired', node: 'cloud-1', revision: 7, apps } satisfies DesiredState);
const reason = (bytes: Uint8Array): string => { const r = decodeDesired(bytes); if (r.ok) throw new Error('expected a refusal'); return r.reason; };

describe('desired state', () => {
  it('round-trips an app with its partitions and the ones a worker owns', () => {
    const r = decodeDesired(desired([app({ partitions: 4, owned: [1, 3] })]));
    expect(r.ok && r.message.apps[0]).toEqual(app({ partitions: 4, owned: [1, 3] }));
  });

  it('refuses a partition count out of range, and owned partitions past the count, naming the app', () => {
    expect(reason(desired([app({ partitions: 0 })]))).toBe('apps[0]: partitions must be a whole number 1..256, got 0');
    expect(reason(desired([app({ partitions: 2, owned: [2] })]))).toBe('apps[0]: owned must be an array of partition numbers below partitions, got [2]');
    expect(reason(desired([app({ owned: [1] })]))).toMatch(/^apps\[0\]: owned must be/);
  });

  it('refuses what is not a desired state, with the reason', () => {
    expect(reason(new TextEncoder().encode('{"type":"status"}'))).toBe('type must be "desired", got "status"');
    expect(reason(new TextEncoder().encode('not json'))).toMatch(/^not UTF-8 JSON/);
  });
});

describe('status', () => {
  it('carries the partitions a worker runs of each app', () => {
    const bytes = encodeControl({ type: 'status', node: 'cloud-1', role: 'cloud', online: true, tags: [], at: 1, apps: [{ app: 'plugs', version: 2, state: 'running', partitions: [0, 2] }] });
    const r = decodeStatus(bytes);
    expect(r.ok && r.message.apps?.[0]?.partitions).toEqual([0, 2]);
  });
});

describe('partFinalTopic', () => {
  it('names the retained final watermark of one partition, and refuses reserved app names', () => {
    expect(partFinalTopic('plugs', 3)).toBe('sluice/v1/plugs/final/3');
    expect(() => partFinalTopic('node', 0)).toThrow(/reserved/);
    expect(() => partFinalTopic('plugs', -1)).toThrow(/partition -1/);
  });
});
