/**
 * The app model: a graph of operator specs joined by typed edges. Pure data plus the user's
 * functions; the runtime translates it, one translator per operator kind.
 */

/** How events travel along an edge between operator instances (Storm's stream groupings). */
export type Grouping = 'forward' | 'key' | 'shuffle' | 'broadcast' | 'global';

/** Where an operator may run. `auto` leaves it to the planner; a selector names node tags. */
export type Placement = 'edge' | 'cloud' | 'auto' | { selector: string };

/** What a stream carries, as far as the graph can know it before anything runs. */
export type ValueType = 'any' | 'string' | 'number' | 'object';

/** The shape of a stream: which operators may follow it. */
export type StreamShape = 'plain' | 'keyed' | 'windowed' | 'joined';

/** The time domain of a stream: event time (watermarks flow) or none (processing time only). */
export type TimeDomain = 'event' | 'none';

export type SourceFormat = 'lines' | 'json' | 'csv' | 'senml' | 'object';
export type ExecFormat = 'json' | 'cbor';

/** Event-time extraction: a field name (number in ms, or ISO-8601 text) or a function. */
export type EventTimeSpec<T = any> = string | ((value: T) => number);

export interface SourceConfig {
  readonly format: SourceFormat;
  readonly eventTime: EventTimeSpec | undefined;
  readonly maxDelayMs: number;
  /** For `lines`: turns each line into a value; a throw sends the line to the dead-letter stream. */
  readonly parse: ((line: string, record: number) => any) | undefined;
  /** Returns a reason when the value is invalid; the value then goes to the dead-letter stream. */
  readonly validate: ((value: any) => string | undefined | null | void) | undefined;
  /** On a gateway: the MQTT topic filter its devices publish to on the local broker (default `<name>/#`). */
  readonly topic?: string;
}

export type WindowSpec =
  | { readonly type: 'tumbling'; readonly sizeMs: number; readonly offsetMs: number }
  | { readonly type: 'sliding'; readonly sizeMs: number; readonly slideMs: number; readonly offsetMs: number }
  | { readonly type: 'session'; readonly gapMs: number };

export interface WindowConfig {
  readonly window: WindowSpec;
  readonly time: 'event' | 'processing';
  readonly allowedLatenessMs: number;
}

/** A user-defined incremental aggregation (Flink's AggregateFunction). */
export interface Aggregator<V = any, A = any, R = any> {
  create(): A;
  add(acc: A, value: V): A;
  merge(a: A, b: A): A;
  result(acc: A): R;
}

export interface AggregateConfig extends WindowConfig {
  /** Built-in name ('count', 'sum', ...) or 'custom'; decomposable ones can be split later. */
  readonly fn: 'count' | 'sum' | 'min' | 'max' | 'mean' | 'reduce' | 'custom';
  readonly aggregator: Aggregator;
  /** Set when the aggregate reads numbers from the value itself (no selector given). */
  readonly needsNumbers: boolean;
  /**
   * Set only by the planner when it splits a decomposable aggregate across gateways: `partial`
   * runs at each gateway and emits accumulators, `merge` combines them in the cloud.
   */
  readonly stage?: 'partial' | 'merge';
}

export interface JoinConfig extends WindowConfig {
  readonly combine: (left: any, right: any, key: any) => any;
}

export interface ExecConfig {
  readonly command: string;
  readonly args: readonly string[];
  readonly format: ExecFormat;
  readonly restartDelayMs: number;
  readonly maxRestartDelayMs: number;
  readonly queueCapacity: number;
  readonly eventTime: EventTimeSpec | undefined;
  readonly cwd: string | undefined;
}

/** A keyed process function: per-key state and event/processing-time timers (Flink's KeyedProcessFunction). */
export interface ProcessFunction<T = any, S = any, O = any> {
  onEvent(value: T, ctx: ProcessContext<S, O>): void;
  onTimer?(time: number, ctx: ProcessContext<S, O>): void;
}

export interface ProcessContext<S, O> {
  readonly key: unknown;
  /** The event time of the current event, or the time of the firing timer. */
  readonly timestamp: number;
  readonly watermark: number;
  state(): S | undefined;
  setState(value: S | undefined): void;
  emit(value: O, ts?: number): void;
  timers: {
    eventTime(at: number): void;
    processingTime(at: number): void;
  };
  now(): number;
}

export type OperatorConfig =
  | { readonly kind: 'source'; readonly source: SourceConfig }
  | { readonly kind: 'map'; readonly fn: (value: any) => any }
  | { readonly kind: 'filter'; readonly fn: (value: any) => boolean }
  | { readonly kind: 'flatMap'; readonly fn: (value: any) => Iterable<any> }
  | { readonly kind: 'keyBy'; readonly fn: (value: any) => unknown }
  | { readonly kind: 'aggregate'; readonly aggregate: AggregateConfig }
  | { readonly kind: 'join'; readonly join: JoinConfig }
  | { readonly kind: 'union' }
  | { readonly kind: 'process'; readonly fn: ProcessFunction }
  | { readonly kind: 'exec'; readonly exec: ExecConfig }
  | { readonly kind: 'late' }
  | { readonly kind: 'sink' };

export type OperatorKind = OperatorConfig['kind'];

/** An edge into an operator. `port` tells the two inputs of a join apart. */
export interface Edge {
  readonly from: string;
  readonly grouping: Grouping;
  readonly port: 'left' | 'right' | 'in';
}

export interface OperatorSpec {
  readonly id: string;
  /** The source or sink name users bind to files or channels; for others equal to the id. */
  readonly name: string;
  readonly config: OperatorConfig;
  readonly inputs: readonly Edge[];
  readonly placement: Placement;
  readonly parallelism: number;
  /** Overrides the app's reliability for channels carrying this operator's output. */
  readonly reliability?: Reliability;
  readonly shape: StreamShape;
  readonly time: TimeDomain;
  readonly valueType: ValueType;
}

/** Delivery guarantee of a channel (Flume's levels): memory-only outbox, or a disk outbox with acks. */
export type Reliability = 'best-effort' | 'at-least-once';

/** A validated app graph, operators in topological order. */
export interface Graph {
  readonly app: string;
  /** The app's default for every channel; an operator may override it for the edges leaving it. */
  readonly reliability: Reliability;
  readonly operators: readonly OperatorSpec[];
  readonly params: Readonly<Record<string, string>>;
}
