/**
 * One simulated device as a seeded, deterministic state machine. Each tick samples the model
 * (or the next replayed row), applies the switched-on faults, and queues what the device will
 * do and when: publish a reading, publish ground truth, disconnect, reconnect. The live fleet
 * and `generate()` both drain it with `nextAt()`/`pop()`, so they see the same sequence.
 */
import type { Random } from './random.ts';
import { createRandom } from './random.ts';
import type { Reading } from './models/index.ts';
import type { FaultKind } from './faults.ts';
import { encodeReading } from './encode.ts';
import type { SimConfig } from './options.ts';
import { deviceId } from './options.ts';
import type { ReplayDevice } from './replay.ts';

/** One fault injected, as published on the ground-truth topic (always JSON). */
export interface TruthRecord {
  readonly device: string;
  readonly fault: FaultKind;
  /** Fleet time (ms) at which the fault was injected. */
  readonly at: number;
  /** The affected reading, when the fault concerns one. */
  readonly seq?: number;
  readonly detail?: Readonly<Record<string, number | string | boolean>>;
}

/** Something a device does at fleet time `at` (ms). */
export type SimAction =
  | { readonly type: 'publish'; readonly at: number; readonly device: number; readonly topic: string; readonly payload: Uint8Array; readonly seq: number; readonly ts: number }
  | { readonly type: 'truth'; readonly at: number; readonly device: number; readonly topic: string; readonly payload: Uint8Array; readonly truth: TruthRecord }
  | { readonly type: 'disconnect' | 'connect'; readonly at: number; readonly device: number };

const utf8 = new TextEncoder();

/** The stream that seeds fleet-wide storm draws; devices use streams 0..n-1. */
export const STORM_STREAM = -1;

/** The simulation of one device. `t0` is when the device starts, `fleetStart` when the fleet did. */
export class DeviceSim {
  readonly index: number;
  readonly id: string;
  private readonly cfg: SimConfig;
  private readonly rng: Random;
  private readonly topic: string;
  private readonly truthTopic: string;
  private readonly units: Readonly<Record<string, string>>;
  private readonly replay: ReplayDevice | undefined;
  private readonly state: unknown;
  private readonly pending: SimAction[] = [];
  private readonly t0: number;
  private readonly fleetStart: number;
  private readonly phase: number;
  private readonly offsetMs: number;
  private readonly driftPpm: number;
  private readonly batteryLifeMs: number;
  private tick = 0;
  private lastTickAt: number;
  private seq = 0;
  private done = false;
  private nextStorm: number;
  private offlineUntil = -Infinity;
  private buffered = 0;
  private battery = 100;
  private batteryLow = false;
  private burstLeft = 0;
  private burstHeld: Array<{ seq: number; ts: number; payload: Uint8Array }> = [];
  private stuckLeft = 0;
  private stuckValue = 0;
  private driftLeft = 0;
  private driftStep = 0;
  private driftOffset = 0;

  constructor(cfg: SimConfig, index: number, t0: number, fleetStart: number) {
    this.cfg = cfg;
    this.index = index;
    this.id = deviceId(cfg, index);
    this.rng = createRandom(cfg.seed, index);
    this.topic = `${cfg.topicRoot}/${cfg.modelName}/${this.id}`;
    this.truthTopic = `${cfg.truthRoot}/${cfg.modelName}/${this.id}`;
    this.replay = cfg.replay?.devices[index];
    this.units = cfg.model?.units ?? cfg.replay?.units ?? {};
    this.t0 = t0;
    this.lastTickAt = t0;
    this.fleetStart = fleetStart;
    // Draw order is fixed: phase, model state, then per-device fault parameters.
    this.phase = this.replay ? 0 : this.rng.range(0, cfg.periodMs);
    this.state = cfg.model?.init(this.rng, index);
    const { clock, battery, storm } = cfg.faults;
    this.offsetMs = clock ? Math.round(this.rng.range(-clock.maxOffsetMs, clock.maxOffsetMs)) : 0;
    this.driftPpm = clock ? Math.round(this.rng.range(-clock.maxDriftPpm, clock.maxDriftPpm) * 10) / 10 : 0;
    this.batteryLifeMs = battery ? battery.lifeS * 1000 * this.rng.range(0.8, 1.2) : Infinity;
    this.nextStorm = storm ? fleetStart + storm.everyMs : Infinity;
  }

  /** Fleet time of this device's next action; Infinity once it has nothing more to do. */
  nextAt(): number {
    this.fill();
    return this.pending[0]?.at ?? Infinity;
  }

  /** Removes and returns the next action (call after `nextAt()` is finite). */
  pop(): SimAction | undefined {
    this.fill();
    return this.pending.shift();
  }

  /** Runs ticks until the earliest queued action cannot be preceded by a later tick. */
  private fill(): void {
    while (!this.done) {
      const t = this.tickTime();
      if (t === undefined) {
        this.finish(this.lastTickAt);
        break;
      }
      const head = this.pending[0];
      if (head !== undefined && head.at < Math.min(t, this.nextStorm)) break;
      if (this.nextStorm <= t) this.runStorm();
      else this.runTick(t);
    }
  }

  private tickTime(): number | undefined {
    if (this.replay === undefined) return this.t0 + this.phase + this.tick * this.cfg.periodMs;
    const row = this.replay.rows[this.tick];
    const start = this.cfg.replay?.start ?? 0;
    return row === undefined ? undefined : this.t0 + (row.time - start) / this.cfg.speed;
  }

  private finish(at: number): void {
    this.done = true;
    if (this.burstHeld.length > 0) this.flushBurst(at);
  }

  private enqueue(action: SimAction): void {
    // Stable insert by time: equal times keep the order they were queued in.
    let i = this.pending.length;
    while (i > 0 && (this.pending[i - 1] as SimAction).at > action.at) i--;
    this.pending.splice(i, 0, action);
  }

  private truth(at: number, fault: FaultKind, seq?: number, detail?: TruthRecord['detail']): void {
    const record: TruthRecord = { device: this.id, fault, at, ...(seq === undefined ? {} : { seq }), ...(detail ? { detail } : {}) };
    this.enqueue({ type: 'truth', at, device: this.index, topic: this.truthTopic, payload: utf8.encode(JSON.stringify(record)), truth: record });
  }

  private runTick(t: number): void {
    const { faults } = this.cfg;
    const rng = this.rng;
    const first = this.tick === 0;
    this.tick++;
    this.lastTickAt = t;
    if (first && faults.clock) this.truth(t, 'clock', undefined, { offsetMs: this.offsetMs, driftPpm: this.driftPpm });
    if (first && faults.jitter) this.truth(t, 'jitter', undefined, { maxMs: faults.jitter.maxMs });
    if (faults.disconnect && t >= this.offlineUntil && rng.chance(faults.disconnect.p)) {
      const { minMs, maxMs } = faults.disconnect;
      this.goOffline(t, t + rng.range(minMs, maxMs), 'disconnect');
    }

    const row = this.replay?.rows[this.tick - 1];
    const reading: Reading = row ? { ...row.reading } : (this.cfg.model?.sample(this.state, rng, t, this.cfg.periodMs) ?? {});
    const seq = ++this.seq;
    if (row?.label !== undefined) this.truth(t, 'label', seq, { label: row.label });

    if (faults.battery) {
      this.battery -= (this.cfg.periodMs / this.batteryLifeMs) * 100;
      if (this.battery <= 0) {
        this.truth(t, 'battery-empty', seq);
        this.enqueue({ type: 'disconnect', at: t, device: this.index });
        this.finish(t);
        return;
      }
      if (!this.batteryLow && this.battery <= 10) {
        this.batteryLow = true;
        this.truth(t, 'battery-low', seq, { battery: Math.round(this.battery * 10) / 10 });
      }
      reading.bat = Math.round(this.battery * 10) / 10;
    }
    this.sensorFaults(t, seq, reading);

    const jitter = faults.jitter ? rng.range(0, faults.jitter.maxMs) : 0;
    const sampled = t + jitter;
    const ts = Math.round(sampled + this.offsetMs + this.driftPpm * 1e-6 * (sampled - this.fleetStart));
    if (faults.drop && rng.chance(faults.drop.p)) {
      this.truth(t, 'drop', seq);
      return;
    }
    const payload = encodeReading(this.cfg.format, this.id, seq, ts, reading, this.units);
    this.send(t, sampled, seq, ts, payload);
  }

  private send(t: number, sampled: number, seq: number, ts: number, payload: Uint8Array): void {
    const { faults } = this.cfg;
    const rng = this.rng;
    if (sampled < this.offlineUntil) {
      // Store and forward: the firmware keeps readings while offline, up to its buffer.
      if (this.buffered >= (faults.disconnect?.buffer ?? 100)) {
        this.truth(t, 'drop', seq, { reason: 'offline buffer full' });
        return;
      }
      this.buffered++;
      this.enqueue({ type: 'publish', at: this.offlineUntil, device: this.index, topic: this.topic, payload, seq, ts });
      return;
    }
    if (this.burstLeft > 0 || (faults.burst && rng.chance(faults.burst.p))) {
      if (this.burstLeft === 0) {
        this.burstLeft = faults.burst?.size ?? 1;
        this.truth(t, 'burst', seq, { size: this.burstLeft });
      }
      this.burstHeld.push({ seq, ts, payload });
      if (--this.burstLeft === 0) this.flushBurst(sampled);
      return;
    }
    let at = sampled;
    if (faults.outOfOrder && rng.chance(faults.outOfOrder.p)) {
      // At least 1.5 periods plus any jitter, so the next reading really overtakes this one.
      const least = 1.5 * this.cfg.periodMs + (faults.jitter?.maxMs ?? 0);
      const delay = rng.range(least, Math.max(least, faults.outOfOrder.maxDelayMs));
      at += delay;
      this.truth(t, 'out-of-order', seq, { delayMs: Math.round(delay) });
    }
    this.enqueue({ type: 'publish', at, device: this.index, topic: this.topic, payload, seq, ts });
    if (faults.duplicate && rng.chance(faults.duplicate.p)) {
      this.truth(t, 'duplicate', seq);
      this.enqueue({ type: 'publish', at: at + rng.range(0, Math.min(this.cfg.periodMs, 1000) / 2), device: this.index, topic: this.topic, payload, seq, ts });
    }
  }

  private flushBurst(at: number): void {
    for (const h of this.burstHeld) {
      this.enqueue({ type: 'publish', at, device: this.index, topic: this.topic, payload: h.payload, seq: h.seq, ts: h.ts });
    }
    this.burstHeld = [];
    this.burstLeft = 0;
  }

  private goOffline(t: number, until: number, fault: 'disconnect' | 'storm'): void {
    this.offlineUntil = until;
    this.buffered = 0;
    this.truth(t, fault, undefined, { downMs: Math.round(until - t) });
    this.enqueue({ type: 'disconnect', at: t, device: this.index });
    this.enqueue({ type: 'connect', at: until, device: this.index });
  }

  /** Storms are fleet-wide: every device sees the same storm times and decides to join. */
  private runStorm(): void {
    const storm = this.cfg.faults.storm;
    const at = this.nextStorm;
    if (storm === undefined) return;
    this.nextStorm += storm.everyMs;
    if (this.rng.chance(storm.fraction) && at >= this.offlineUntil) {
      this.goOffline(at, at + storm.downMs + this.rng.range(0, storm.spreadMs), 'storm');
    }
  }

  private sensorFaults(t: number, seq: number, reading: Reading): void {
    const { stuck, spike, drift } = this.cfg.faults;
    if (!stuck && !spike && !drift) return;
    const field = this.cfg.model?.primary ?? Object.keys(reading).find((k) => typeof reading[k] === 'number');
    const value = field === undefined ? undefined : reading[field];
    if (field === undefined || typeof value !== 'number') return;
    const scale = this.cfg.model?.scale ?? Math.max(1, Math.abs(value));
    const rng = this.rng;
    let v = value;
    if (drift && (this.driftLeft > 0 || rng.chance(drift.p))) {
      if (this.driftLeft === 0) {
        this.driftLeft = drift.length;
        this.driftOffset = 0;
        this.driftStep = ((rng.chance(0.5) ? 1 : -1) * drift.amount * scale) / drift.length;
      }
      this.driftLeft--;
      this.driftOffset += this.driftStep;
      v += this.driftOffset;
      this.truth(t, 'drift', seq, { field, offset: round3(this.driftOffset) });
    }
    if (stuck && (this.stuckLeft > 0 || rng.chance(stuck.p))) {
      if (this.stuckLeft === 0) {
        this.stuckLeft = stuck.length;
        this.stuckValue = v;
      }
      this.stuckLeft--;
      v = this.stuckValue;
      this.truth(t, 'stuck', seq, { field, value: v });
    } else if (spike && rng.chance(spike.p)) {
      v = Math.abs(v) > scale * 0.1 ? v * spike.factor : v + spike.factor * scale;
      this.truth(t, 'spike', seq, { field, value: round3(v) });
    }
    reading[field] = round3(v);
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
