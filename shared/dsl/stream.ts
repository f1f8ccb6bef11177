import type {
  AggregateConfig, Aggregator, Draft, Duration, EventTimeSpec, ExecFormat, Grouping, OperatorConfig,
  Placement, ProcessFunction, Reliability, ValueType, WindowSpec,
} from '../graph/index.ts';
import { parseDuration } from '../graph/index.ts';
import { countAgg, maxAgg, meanAgg, minAgg, reduceAgg, sumAgg } from './aggregators.ts';

/** The drafts of one app under construction; streams append to it. */
export class DraftList {
  readonly drafts: Draft[] = [];
  add(config: OperatorConfig, inputs: Draft['inputs'], valueType?: ValueType, name?: string): number {
    this.drafts.push({ config, inputs, explicitName: name, placement: 'auto', parallelism: 1, valueType });
    return this.drafts.length - 1;
  }
}

/** One result of a window: the key, the window's bounds (ms since epoch), the value and its revision. */
export interface WindowResult<K, R> {
  key: K;
  windowStart: number;
  windowEnd: number;
  value: R;
  /** 0 for the first firing; each late update within allowed lateness emits the next revision. */
  revision: number;
}

export interface WindowOptions {
  /** `event` (default) fires on watermarks; `processing` on the wall clock. */
  time?: 'event' | 'processing';
  /** How long after a window fires late events still update it (default 0). */
  allowedLateness?: Duration;
}

export interface ExecOptions {
  /** `json` (JSON lines, default) or `cbor` (4-byte big-endian length, then a CBOR value). */
  format?: ExecFormat;
  /** First restart delay after a crash; doubles up to `maxRestartDelay`. */
  restartDelay?: Duration;
  maxRestartDelay?: Duration;
  /** Events buffered for the program before the sources are paused. */
  queueCapacity?: number;
  /** Read each output's event time from this field or function (default: the latest input's). */
  eventTime?: EventTimeSpec;
  cwd?: string;
}

/**
 * A stream of values of type T. Each method adds an operator and returns the stream it emits.
 * `name`, `place` and `parallelism` set properties of the operator that produced this stream.
 *
 * @example
 * app.source<string>('text', { format: 'lines' })
 *   .flatMap((line) => line.split(/\s+/)).filter((w) => w.length > 0)
 *   .keyBy((w) => w).window(tumbling('10s')).count()
 *   .sink('counts');
 */
export class Stream<T> {
  constructor(
    protected readonly list: DraftList,
    /** Index of the draft that emits this stream. */
    readonly at: number,
    protected readonly grouping: Grouping = 'forward',
  ) {}

  protected edge(port: 'in' | 'left' | 'right' = 'in'): Draft['inputs'][number] {
    return { draft: this.at, grouping: this.grouping, port };
  }

  protected next<U>(config: OperatorConfig, valueType?: ValueType): Stream<U> {
    return new Stream<U>(this.list, this.list.add(config, [this.edge()], valueType));
  }

  /** Sets the stable id of the operator that emits this stream (used for state, metrics, placement). */
  name(id: string): this {
    this.list.drafts[this.at]!.explicitName = id;
    return this;
  }

  /** Placement hint for the operator that emits this stream: `edge`, `cloud`, `auto` or `{ selector }`. */
  place(where: Placement): this {
    this.list.drafts[this.at]!.placement = where;
    return this;
  }

  /** Number of parallel instances of the operator that emits this stream. */
  parallelism(n: number): this {
    this.list.drafts[this.at]!.parallelism = n;
    return this;
  }

  /** Delivery guarantee for channels carrying this operator's output, overriding the app's. */
  reliability(level: Reliability): this {
    this.list.drafts[this.at]!.reliability = level;
    return this;
  }

  /** Next edge: round-robin over the downstream instances. */
  shuffle(): Stream<T> { return new Stream<T>(this.list, this.at, 'shuffle'); }
  /** Next edge: every downstream instance gets every event. */
  broadcast(): Stream<T> { return new Stream<T>(this.list, this.at, 'broadcast'); }
  /** Next edge: all events to the first downstream instance. */
  global(): Stream<T> { return new Stream<T>(this.list, this.at, 'global'); }
  /** Next edge: instance i to instance i (the default). */
  forward(): Stream<T> { return new Stream<T>(this.list, this.at, 'forward'); }

  map<U>(fn: (value: T) => U): Stream<U> { return this.next({ kind: 'map', fn }); }
  filter(fn: (value: T) => boolean): Stream<T> { return this.next({ kind: 'filter', fn }); }
  flatMap<U>(fn: (value: T) => Iterable<U>): Stream<U> { return this.next({ kind: 'flatMap', fn }); }

  keyBy<K>(fn: (value: T) => K): KeyedStream<T, K> {
    return new KeyedStream<T, K>(this.list, this.list.add({ kind: 'keyBy', fn }, [this.edge()]), 'key');
  }

  /** Windows over the whole stream (no key): every event goes to one instance. */
  windowAll(spec: WindowSpec, opts: WindowOptions = {}): WindowedStream<T, undefined> {
    const s = this.grouping === 'forward' ? this.global() : this;
    return new WindowedStream<T, undefined>(this.list, s.edge(), spec, opts);
  }

  union(...others: Stream<T>[]): Stream<T> {
    const inputs = [this.edge(), ...others.map((o) => o.edge())];
    return new Stream<T>(this.list, this.list.add({ kind: 'union' }, inputs));
  }

  /**
   * Runs any program as an operator over stdin/stdout (Unix-pipe style), supervised: a crash is
   * reported and the program restarted; output it cannot parse goes to the dead-letter stream.
   *
   * @example
   * readings.exec('python3 detect.py').sink('alerts')
   */
  exec<U = unknown>(command: string | readonly string[], opts: ExecOptions = {}): Stream<U> {
    const argv = typeof command === 'string' ? ['/bin/sh', '-c', command] : [...command];
    return this.next({
      kind: 'exec',
      exec: Object.freeze({
        command: argv[0] ?? '', args: Object.freeze(argv.slice(1)), format: opts.format ?? 'json',
        restartDelayMs: parseDuration(opts.restartDelay ?? 100, 'exec restartDelay'),
        maxRestartDelayMs: parseDuration(opts.maxRestartDelay ?? 5000, 'exec maxRestartDelay'),
        queueCapacity: opts.queueCapacity ?? 10_000, eventTime: opts.eventTime, cwd: opts.cwd,
      }),
    });
  }

  /** Ends the stream in a named sink, bound at run time (`--out NAME=PATH`) or to a channel. */
  sink(name: string): void {
    this.list.add({ kind: 'sink' }, [this.edge()], undefined, name);
  }
}

/** A stream whose events carry a key; the next edge partitions by that key. */
export class KeyedStream<T, K> extends Stream<T> {
  window(spec: WindowSpec, opts: WindowOptions = {}): WindowedStream<T, K> {
    return new WindowedStream<T, K>(this.list, this.edge(), spec, opts);
  }

  /** Starts a windowed inner join with another keyed stream: pairs with equal keys in the same window. */
  join<U>(other: KeyedStream<U, K>): JoinBuilder<T, U, K> {
    return new JoinBuilder<T, U, K>(this.list, this.edge('left'), other.edgeFor('right'));
  }

  /** Per-key state and timers, for logic windows cannot express. */
  process<S, O>(fn: ProcessFunction<T, S, O>): Stream<O> {
    return this.next({ kind: 'process', fn });
  }

  /** @internal */
  edgeFor(port: 'left' | 'right'): Draft['inputs'][number] { return this.edge(port); }
}

function windowConfig(spec: WindowSpec, opts: WindowOptions) {
  return {
    window: spec,
    time: opts.time ?? 'event',
    allowedLatenessMs: parseDuration(opts.allowedLateness ?? 0, 'allowedLateness'),
  } as const;
}

/** Events grouped into windows, waiting for an aggregation. */
export class WindowedStream<T, K> {
  constructor(
    private readonly list: DraftList,
    private readonly input: Draft['inputs'][number],
    private readonly spec: WindowSpec,
    private readonly opts: WindowOptions,
  ) {}

  private agg<R>(fn: AggregateConfig['fn'], aggregator: Aggregator, needsNumbers: boolean): WindowOutput<WindowResult<K, R>, T> {
    const aggregate: AggregateConfig = Object.freeze({ ...windowConfig(this.spec, this.opts), fn, aggregator, needsNumbers });
    return new WindowOutput(this.list, this.list.add({ kind: 'aggregate', aggregate }, [this.input]));
  }

  count(): WindowOutput<WindowResult<K, number>, T> { return this.agg('count', countAgg(), false); }
  sum(sel?: (v: T) => number): WindowOutput<WindowResult<K, number>, T> { return this.agg('sum', sumAgg(sel), !sel); }
  min(sel?: (v: T) => number): WindowOutput<WindowResult<K, number>, T> { return this.agg('min', minAgg(sel), !sel); }
  max(sel?: (v: T) => number): WindowOutput<WindowResult<K, number>, T> { return this.agg('max', maxAgg(sel), !sel); }
  mean(sel?: (v: T) => number): WindowOutput<WindowResult<K, number>, T> { return this.agg('mean', meanAgg(sel), !sel); }
  reduce(fn: (a: T, b: T) => T): WindowOutput<WindowResult<K, T>, T> { return this.agg('reduce', reduceAgg(fn), false); }
  aggregate<A, R>(aggregator: Aggregator<T, A, R>): WindowOutput<WindowResult<K, R>, T> {
    return this.agg('custom', aggregator, false);
  }
}

/** The results of a window; `late()` is the side output of events too late even for allowed lateness. */
export class WindowOutput<O, L> extends Stream<O> {
  late(): Stream<L> {
    return new Stream<L>(this.list, this.list.add({ kind: 'late' }, [{ draft: this.at, grouping: 'forward', port: 'in' }]));
  }
}

export class JoinBuilder<L, R, K> {
  constructor(
    private readonly list: DraftList,
    private readonly left: Draft['inputs'][number],
    private readonly right: Draft['inputs'][number],
  ) {}

  window(spec: WindowSpec, opts: WindowOptions = {}) {
    return {
      /** Emits `combine(left, right)` for every pair with equal keys in the same window. */
      apply: <O>(combine: (left: L, right: R, key: K) => O): WindowOutput<O, L | R> => {
        const join = Object.freeze({ ...windowConfig(spec, opts), combine });
        return new WindowOutput<O, L | R>(this.list, this.list.add({ kind: 'join', join }, [this.left, this.right]));
      },
    };
  }
}
