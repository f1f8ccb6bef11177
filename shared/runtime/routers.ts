import type { Collector } from '../ops/index.ts';
import { partitionOf } from './partition.ts';

/** One output feeding several consumers. */
export class Fanout implements Collector {
  constructor(private readonly targets: readonly Collector[]) {}
  push(ts: number, key: unknown, value: unknown): void {
    for (let i = 0; i < this.targets.length; i++) this.targets[i]!.push(ts, key, value);
  }
  watermark(wm: number): void {
    for (const t of this.targets) t.watermark(wm);
  }
}

/** Key grouping: each key always reaches the same instance. Watermarks reach all. */
export class KeyRouter implements Collector {
  constructor(private readonly targets: readonly Collector[]) {}
  push(ts: number, key: unknown, value: unknown): void {
    this.targets[partitionOf(key, this.targets.length)]!.push(ts, key, value);
  }
  watermark(wm: number): void { for (const t of this.targets) t.watermark(wm); }
}

/** Shuffle grouping: round-robin over the instances. */
export class RoundRobin implements Collector {
  private next = 0;
  constructor(private readonly targets: readonly Collector[]) {}
  push(ts: number, key: unknown, value: unknown): void {
    this.targets[this.next]!.push(ts, key, value);
    this.next = (this.next + 1) % this.targets.length;
  }
  watermark(wm: number): void { for (const t of this.targets) t.watermark(wm); }
}

/** Global grouping: every event to the first instance. */
export class ToFirst implements Collector {
  constructor(private readonly targets: readonly Collector[]) {}
  push(ts: number, key: unknown, value: unknown): void { this.targets[0]!.push(ts, key, value); }
  watermark(wm: number): void { for (const t of this.targets) t.watermark(wm); }
}

/** One input slot of an operator with several: events pass through, watermarks merge. */
export class Port implements Collector {
  constructor(
    private readonly deliver: (ts: number, key: unknown, value: unknown) => void,
    private readonly merge: { update(slot: number, wm: number): void },
    private readonly slot: number,
  ) {}
  push(ts: number, key: unknown, value: unknown): void { this.deliver(ts, key, value); }
  watermark(wm: number): void { this.merge.update(this.slot, wm); }
}
