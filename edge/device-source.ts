import type { Aedes, AedesPublishPacket } from 'aedes';
import { decode } from 'cbor-x';
import type { Graph } from '../shared/graph/index.ts';
import type { BoundSources, SourceBinder } from '../shared/host/index.ts';

/** Counters of one gateway's device input, across its apps. */
export interface DeviceInputStats {
  messages: number;
  /** Messages dropped because the app could not keep up (its queue was full): counted, never silent. */
  overflow: number;
  /** CBOR payloads for an `object` source that did not decode. */
  undecodable: number;
}

/** Readings queued per source while its app is busy (back-pressure from its sinks or outbox). */
const MAX_QUEUED = 10_000;

/**
 * Binds the sources of a gateway's app part to the devices on the gateway's embedded broker:
 * each source subscribes (inside the broker, no extra connection) to its topic filter, default
 * `<source>/#`, and reads one reading per message — text for the `json`, `senml`, `csv` and
 * `lines` formats, CBOR for `object`. The run parses, validates and stamps them like any input.
 *
 * @example
 * const host = await FragmentHost.open({ ..., bindSources: deviceSources(broker.aedes, stats) });
 */
export function deviceSources(aedes: Aedes, stats: DeviceInputStats): SourceBinder {
  return (graph: Graph): BoundSources => {
    const closers: (() => void)[] = [];
    const bindings: BoundSources['bindings'] = {};
    for (const op of graph.operators) {
      if (op.config.kind !== 'source' || op.name.startsWith('channel:')) continue;
      const cfg = op.config.source;
      const filter = cfg.topic ?? `${op.name}/#`;
      const binary = cfg.format === 'object';
      const queue = new AsyncQueue<unknown>(MAX_QUEUED);
      const deliver = (packet: AedesPublishPacket, cb: () => void) => {
        stats.messages++;
        const payload = packet.payload as Buffer;
        let value: unknown = payload.toString('utf8');
        if (binary) {
          try { value = decode(payload); } catch { stats.undecodable++; cb(); return; }
        }
        if (!queue.push(value)) stats.overflow++;
        cb();
      };
      aedes.subscribe(filter, deliver, () => {});
      closers.push(() => { aedes.unsubscribe(filter, deliver, () => {}); queue.end(); });
      bindings[op.name] = binary ? { type: 'values', values: queue } : { type: 'lines', lines: queue as AsyncQueue<string> };
    }
    return { bindings, close: () => { for (const c of closers.splice(0)) c(); } };
  };
}

/** A bounded queue read as an async iterable; `end()` finishes the iteration. */
class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private ended = false;

  constructor(private readonly max: number) {}

  /** False when the queue is full and the item was not taken. */
  push(item: T): boolean {
    if (this.ended) return false;
    if (this.waiter) { const w = this.waiter; this.waiter = undefined; w({ value: item, done: false }); return true; }
    if (this.items.length - this.head >= this.max) return false;
    this.items.push(item);
    return true;
  }

  end(): void {
    this.ended = true;
    if (this.waiter) { const w = this.waiter; this.waiter = undefined; w({ value: undefined, done: true }); }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.head < this.items.length) {
          const value = this.items[this.head++]!;
          if (this.head > 1024 && this.head * 2 > this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
          return Promise.resolve({ value, done: false });
        }
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => { this.waiter = resolve; });
      },
      return: () => { this.end(); return Promise.resolve({ value: undefined, done: true }); },
    };
  }
}
