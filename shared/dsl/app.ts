import { ConfigError, SluiceError, describeError } from '../errors.ts';
import { assembleGraph, parseDuration, type Duration, type EventTimeSpec, type Graph, type Reliability, type SourceFormat } from '../graph/index.ts';
import { DraftList, Stream } from './stream.ts';

export interface SourceOptions<T> {
  /** How raw input is parsed: `lines` (text), `json` (JSON lines), `csv` (header row), `senml` (RFC 8428 JSON), `object` (already parsed). */
  format?: SourceFormat;
  /** Event time: a field name (ms number or ISO-8601 text) or a function. Omit for no event time. */
  eventTime?: EventTimeSpec<T>;
  /** With format `lines`: parses each line (and its 1-based record number) into a value; throw to reject it (it goes to the dead-letter stream). */
  parse?: (line: string, record: number) => T;
  /** Bounded disorder: the watermark trails the newest event time by this much (default 0). */
  maxDelay?: Duration;
  /** Return a reason to reject a value; it goes to the dead-letter stream instead. */
  validate?: (value: T) => string | undefined | null | void;
  /**
   * Deployed to gateways, the source reads the devices that publish to this MQTT topic filter
   * on the gateway's local broker, one reading per message (default `<name>/#`).
   */
  topic?: string;
}

/** App parameters from `--param KEY=VALUE`, with typed readers and defaults. */
export class Params {
  constructor(private readonly values: Readonly<Record<string, string>>) {}

  string(key: string, fallback: string): string { return this.values[key] ?? fallback; }

  number(key: string, fallback: number): number {
    const raw = this.values[key];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) {
      throw new ConfigError('PARAM_NOT_A_NUMBER', `parameter ${key}="${raw}" is not a number`, { where: `--param ${key}`, fix: `pass a number, e.g. --param ${key}=${fallback}` });
    }
    return n;
  }

  /** Milliseconds, from text like `60s` or a number of ms. */
  duration(key: string, fallback: Duration): number {
    const raw = this.values[key];
    return parseDuration(raw === undefined ? fallback : /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw, `--param ${key}`);
  }

  all(): Readonly<Record<string, string>> { return this.values; }
}

/** What an app's builder function receives to declare sources. */
export class AppBuilder {
  /** @internal */
  readonly list = new DraftList();

  /**
   * Declares a named source, bound at run time to a file, stdin (`--in NAME=PATH|-`) or a channel.
   *
   * @example
   * app.source<Reading>('readings', { format: 'json', eventTime: 'ts', maxDelay: '5s' })
   */
  source<T = unknown>(name: string, opts: SourceOptions<T> = {}): Stream<T> {
    const format = opts.format ?? (opts.parse ? 'lines' : 'json');
    if (!['lines', 'json', 'csv', 'senml', 'object'].includes(format)) {
      throw new ConfigError('DSL_BAD_FORMAT', `source format "${format}" is unknown`, { where: `source "${name}"`, fix: 'use lines, json, csv, senml or object' });
    }
    const source = Object.freeze({
      format,
      eventTime: opts.eventTime,
      maxDelayMs: parseDuration(opts.maxDelay ?? 0, `source "${name}" maxDelay`),
      validate: opts.validate,
      parse: opts.parse,
      ...(opts.topic !== undefined ? { topic: checkTopicFilter(opts.topic, name) } : {}),
    });
    return new Stream<T>(this.list, this.list.add({ kind: 'source', source }, [], undefined, name));
  }
}

export interface AppOptions {
  /** Default delivery guarantee of the app's channels (default `at-least-once`). */
  reliability?: Reliability;
}

/** A named app: call `graph(params)` to build and validate its graph. */
export interface AppDefinition {
  readonly kind: 'sluice-app';
  readonly name: string;
  graph(params?: Record<string, string>): Graph;
}

/**
 * Defines a streaming app. The builder runs each time a graph is needed, with that run's parameters.
 *
 * @example
 * export default defineApp('word-count', (app, params) => {
 *   app.source<string>('text', { format: 'lines', eventTime: () => Date.now() })
 *     .flatMap((l) => l.split(/\s+/)).keyBy((w) => w)
 *     .window(tumbling(params.duration('window', '10s'))).count().sink('counts');
 * });
 */
export function defineApp(name: string, build: (app: AppBuilder, params: Params) => void, options: AppOptions = {}): AppDefinition {
  return Object.freeze({
    kind: 'sluice-app' as const,
    name,
    graph(params: Record<string, string> = {}): Graph {
      const app = new AppBuilder();
      try {
        build(app, new Params(Object.freeze({ ...params })));
      } catch (err) {
        if (err instanceof SluiceError) throw err;
        // The app's own code threw while declaring its graph: say so in one line.
        throw new ConfigError('APP_BUILD_FAILED', `app "${name}" failed while building its graph: ${describeError(err)}`, {
          where: `app "${name}"`, fix: 'check its --param values and the files it reads', cause: err,
        });
      }
      return assembleGraph(name, app.list.drafts, params, options.reliability);
    },
  });
}

export function isAppDefinition(x: unknown): x is AppDefinition {
  return typeof x === 'object' && x !== null && (x as AppDefinition).kind === 'sluice-app' && typeof (x as AppDefinition).graph === 'function';
}

/** MQTT 3.1.1 §4.7.1: `#` only last and alone in its level, `+` alone in its level. */
function checkTopicFilter(filter: string, source: string): string {
  const levels = filter.split('/');
  const bad = filter.length === 0 || levels.some((l, i) => (l.includes('#') && (l !== '#' || i !== levels.length - 1)) || (l.includes('+') && l !== '+'));
  if (bad) {
    throw new ConfigError('DSL_BAD_TOPIC', `topic filter ${JSON.stringify(filter)} is not a valid MQTT topic filter`, {
      where: `source "${source}"`, fix: 'use levels separated by "/", with "+" for one level and "#" only at the end, e.g. sim/plug/+',
    });
  }
  return filter;
}
