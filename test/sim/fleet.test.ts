import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { performance } from 'node:perf_hooks';
import { createFleet, createManualClock, generate } from '../../firmware-sim/index.ts';
import type { Fleet } from '../../firmware-sim/index.ts';
import type { TruthRecord } from '../../firmware-sim/index.ts';
import { startBroker, until } from './broker.ts';
import type { TestBroker } from './broker.ts';

describe('live fleet against aedes', () => {
  let broker: TestBroker;
  const fleets: Fleet[] = [];
  beforeAll(async () => { broker = await startBroker(); });
  afterAll(async () => {
    await Promise.all(fleets.map((f) => f.close()));
    await broker.close();
  });

  it('publishes within 2% of the requested rate, and the broker receives every reading', async () => {
    // 500 devices × 4 Hz = 2000 readings/s; 60,000 expected in the 30 s window the issue names, so 2% is 1,200.
    const fleet = createFleet({ broker: broker.url, model: 'plug', devices: 500, rate: 4, seed: 3, clientIdPrefix: 'rate-' });
    fleets.push(fleet);
    let count = 0;
    broker.onPublish((p) => { if (p.topic.startsWith('sim/plug/')) count++; });
    fleet.start();
    await fleet.whenConnected();
    // Let every device pass its first period (phases are spread over 250 ms) before measuring.
    await until(() => fleet.stats().sent > 2000 * 1.5, 'a warm-up', 10_000);
    // Counted where the readings leave the simulator, so a busy broker process (other suites
    // share the 2 cores) cannot skew the window's edges; delivery is checked below.
    const s0 = fleet.stats().sent;
    const t0 = performance.now();
    await until(() => performance.now() - t0 >= 30_000, 'the window', 40_000);
    const rate = ((fleet.stats().sent - s0) * 1000) / (performance.now() - t0);
    expect(Math.abs(rate - 2000) / 2000).toBeLessThan(0.02);
    expect(fleet.stats().requestedRate).toBe(2000);
    await fleet.close();
    const total = fleet.stats().sent;
    await until(() => count >= total, 'every reading at the broker', 20_000);
    expect(count).toBe(total);
    expect(fleet.stats()).toMatchObject({ skipped: 0, overflow: 0, errors: 0 });
  }, 90_000);

  it('publishes exactly what generate() gives for the same seed, when driven by a manual clock', async () => {
    const start = 1_700_000_000_000;
    const clock = createManualClock(start);
    const sim = { model: 'vibration', devices: 5, rate: 2, seed: 21, format: 'cbor', topicRoot: 'same',
      faults: { drop: { p: 0.1 }, duplicate: { p: 0.1 }, outOfOrder: { p: 0.1, maxDelayMs: 3000 }, spike: { p: 0.1 }, clock: true } } as const;
    const expected = generate({ ...sim, start, until: start + 20_000 }).filter((a) => a.type === 'publish');
    const got: Array<{ topic: string; hex: string }> = [];
    broker.onPublish((p) => { if (p.topic.startsWith('same/')) got.push({ topic: p.topic, hex: p.payload.toString('hex') }); });
    const fleet = createFleet({ ...sim, broker: broker.url, clock, clientIdPrefix: 'same-' });
    fleets.push(fleet);
    fleet.start();
    await fleet.whenConnected();
    clock.advance(20_000);
    await until(() => got.length >= expected.length, 'every reading at the broker', 10_000);
    // One TCP connection per device keeps each device's order; devices interleave freely.
    for (let d = 0; d < 5; d++) {
      const topic = `same/vibration/vibration-0000${d}`;
      const want = expected.filter((a) => a.topic === topic).map((a) => (a.type === 'publish' ? Buffer.from(a.payload).toString('hex') : ''));
      expect(got.filter((g) => g.topic === topic).map((g) => g.hex)).toEqual(want);
    }
    expect(got).toHaveLength(expected.length);
    await fleet.close();
  });

  it('shows every fault kind on the wire: data patterns and ground truth', async () => {
    const truths: TruthRecord[] = [];
    const seqs = new Map<string, number[]>();
    const disconnects = new Set<string>();
    broker.aedes.on('clientDisconnect', (c) => { if (c.id.startsWith('faulty-')) disconnects.add(c.id); });
    broker.onPublish((p, id) => {
      if (p.topic.startsWith('sim-truth/climate/')) truths.push(JSON.parse(p.payload.toString()) as TruthRecord);
      else if (id.startsWith('faulty-') && p.topic.startsWith('sim/climate/')) {
        const body = JSON.parse(p.payload.toString()) as { id: string; seq: number };
        let list = seqs.get(body.id);
        if (list === undefined) seqs.set(body.id, (list = []));
        list.push(body.seq);
      }
    });
    const fleet = createFleet({
      broker: broker.url, model: 'climate', devices: 20, rate: 10, seed: 5, clientIdPrefix: 'faulty-',
      faults: {
        clock: true, jitter: { maxMs: 20 }, burst: { p: 0.02, size: 3 }, outOfOrder: { p: 0.05, maxDelayMs: 400 },
        duplicate: { p: 0.05 }, drop: { p: 0.05 }, disconnect: { p: 0.005, minMs: 300, maxMs: 600 },
        storm: { everyMs: 1500, fraction: 0.5, downMs: 300, spreadMs: 200 }, battery: { lifeS: 3 },
        stuck: { p: 0.02, length: 3 }, spike: { p: 0.03 }, drift: { p: 0.02, length: 5 },
      },
    });
    fleets.push(fleet);
    fleet.start();
    const kinds = ['clock', 'jitter', 'burst', 'out-of-order', 'duplicate', 'drop', 'disconnect', 'storm', 'battery-low', 'battery-empty', 'stuck', 'spike', 'drift'];
    await until(() => kinds.every((k) => truths.some((t) => t.fault === k)), 'ground truth of every kind', 20_000);
    const dup = truths.find((t) => t.fault === 'duplicate' && (seqs.get(t.device) ?? []).filter((s) => s === t.seq).length === 2);
    expect(dup).toBeDefined();
    const drop = truths.filter((t) => t.fault === 'drop');
    expect(drop.every((t) => !(seqs.get(t.device) ?? []).includes(t.seq ?? -1))).toBe(true);
    expect(truths.some((t) => t.fault === 'out-of-order' && (seqs.get(t.device) ?? []).some((s, i, all) => s === t.seq && all.slice(0, i).some((x) => x > s)))).toBe(true);
    // Simulated disconnects and storms really close device connections.
    expect(disconnects.size).toBeGreaterThan(3);
    await fleet.close();
  });
});
