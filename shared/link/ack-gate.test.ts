import { describe, expect, it } from 'vitest';
import { defineApp, session, sliding, tumbling } from '../dsl/index.ts';
import { AckGate, resultHorizon } from './ack-gate.ts';

const graph = (build: Parameters<typeof defineApp>[1]) => defineApp('t', build).graph();

describe('resultHorizon: how long results of an event may still change', () => {
  it('is 0 with no state, the longest window plus lateness with windows, unbounded otherwise', () => {
    expect(resultHorizon(graph((a) => { a.source('in').map((v) => v).sink('o'); })).ms).toBe(0);
    expect(resultHorizon(graph((a) => {
      const s = a.source<{ t: number; v: number }>('in', { eventTime: 't' }).keyBy((r) => r.t);
      s.window(tumbling('10s'), { allowedLateness: '5s' }).sum((r) => r.v).sink('a');
      s.window(sliding('30s', '10s')).count().sink('b');
    })).ms).toBe(30_000);
    const sessions = resultHorizon(graph((a) => { a.source<{ t: number }>('in', { eventTime: 't' }).keyBy((r) => r.t).window(session('5s')).count().name('s').sink('o'); }));
    expect(sessions.ms).toBe(Infinity);
    expect(sessions.unbounded).toMatch(/operator "s" uses session windows/);
    const proc = resultHorizon(graph((a) => { a.source('in').keyBy((r) => r).process({ onEvent: () => {} }).name('p').sink('o'); }));
    expect(proc.unbounded).toMatch(/operator "p" \(process\)/);
  });
});

describe('AckGate', () => {
  const setup = (horizon: number, hold = true) => {
    const log: string[] = [];
    let release!: () => void;
    let flushes = 0;
    const gate = new AckGate(horizon, () => { flushes++; log.push('flush'); return hold ? new Promise<void>((r) => { release = r; }) : Promise.resolve(); },
      async (wm) => { log.push(`persist ${wm}`); }, 0, ['c']);
    const ack = (name: string) => () => { log.push(`ack ${name}`); };
    return { gate, log, ack, flush: () => release(), flushes: () => flushes };
  };
  const turn = () => new Promise((r) => setImmediate(r));

  it('acks an event only after the watermark passes its time by the horizon, its results are written and the watermark saved', async () => {
    const { gate, log, ack, flush } = setup(10);
    gate.observed('c', 'p', 5);
    gate.delivered('c', 'p', 1, ack('p1'));
    await turn(); flush(); await turn();
    expect(log.filter((l) => l.startsWith('ack'))).toEqual([]); // watermark -inf: not final
    gate.watermark('c', 14);
    await turn(); flush(); await turn();
    expect(log.filter((l) => l.startsWith('ack'))).toEqual([]); // 5 + 10 > 14
    gate.watermark('c', 15);
    await turn(); flush(); await turn(); await turn();
    const i = log.lastIndexOf('flush');
    expect(log.slice(i)).toEqual(['flush', 'persist 15', 'ack p1']);
  });

  it('releases per producer only an unbroken prefix in seq order (acks are cumulative)', async () => {
    const { gate, log, ack } = setup(10, false);
    gate.observed('c', 'p', 100); gate.delivered('c', 'p', 1, ack('p1'));
    gate.observed('c', 'p', 3); gate.delivered('c', 'p', 2, ack('p2')); // its max so far is still 100
    gate.observed('c', 'q', 1); gate.delivered('c', 'q', 1, ack('q1'));
    gate.watermark('c', 50);
    await gate.settle();
    expect(log.filter((l) => l.startsWith('ack'))).toEqual(['ack q1']);
    gate.watermark('c', 110);
    await gate.settle();
    expect(log.filter((l) => l.startsWith('ack'))).toEqual(['ack q1', 'ack p2']);
  });

  it('with two inbound channels (a join) is final only up to the slower one; acks each channel of a producer', async () => {
    const log: string[] = [];
    const gate = new AckGate(10, () => Promise.resolve(), async (wm) => { log.push(`persist ${wm}`); }, 0, ['left', 'right']);
    const ack = (name: string) => () => { log.push(`ack ${name}`); };
    gate.observed('left', 'gw', 5); gate.delivered('left', 'gw', 10, ack('left 10'));
    gate.observed('right', 'gw', 4); gate.delivered('right', 'gw', 3, ack('right 3'));
    gate.watermark('left', 50_000); // the right channel is silent: its watermark is still -inf
    await gate.settle();
    expect(log).toEqual([]);
    gate.watermark('right', 14);
    await gate.settle();
    expect(log).toEqual(['persist 14', 'ack right 3']); // 5 + 10 > 14: left's event is not final yet
    gate.watermark('right', 15);
    await gate.settle();
    expect(log).toEqual(['persist 14', 'ack right 3', 'persist 15', 'ack left 10']);
  });

  it('acks nothing while the results cannot be written, and acks once a later flush succeeds', async () => {
    const log: string[] = [];
    let fail = true;
    const gate = new AckGate(0, () => (fail ? Promise.reject(new Error('disk full')) : Promise.resolve()), async () => {}, 0, ['c']);
    gate.observed('c', 'p', 1); gate.delivered('c', 'p', 4, () => log.push('ack p4'));
    await gate.settle();
    expect(log).toEqual([]);
    expect(gate.waiting).toBe(1);
    fail = false;
    gate.observed('c', 'p', 2); gate.delivered('c', 'p', 5, () => log.push('ack p5')); // a resend, say
    await gate.settle();
    expect(log).toEqual(['ack p5']); // cumulative: 5 covers 4
    expect(gate.waiting).toBe(0);
  });

  it('with no state (horizon 0) acks as soon as the results are written; settle() releases what it can', async () => {
    const { gate, log, ack, flush } = setup(0);
    gate.observed('c', 'p', 1); gate.delivered('c', 'p', 7, ack('p7'));
    const settled = gate.settle();
    await turn(); flush();
    await settled;
    expect(log).toEqual(['flush', 'ack p7']);
    expect(gate.waiting).toBe(0);
  });
});
