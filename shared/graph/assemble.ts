import { ConfigError } from '../errors.ts';
import { KIND_IO, fits, timeOf, typeFits, widen } from './io.ts';
import type {
  Graph, Grouping, OperatorConfig, OperatorSpec, Placement, Reliability, StreamShape, TimeDomain, ValueType,
} from './types.ts';

/** An operator as the DSL records it: inputs point at earlier drafts by index. */
export interface Draft {
  readonly config: OperatorConfig;
  readonly inputs: readonly { readonly draft: number; readonly grouping: Grouping; readonly port: 'left' | 'right' | 'in' }[];
  /** `.name(...)`, or the source/sink name. */
  explicitName: string | undefined;
  placement: Placement;
  parallelism: number;
  reliability?: Reliability;
  /** A declared output type (e.g. a source's format); otherwise inferred. */
  readonly valueType: ValueType | undefined;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const PLACEMENTS = new Set(['edge', 'cloud', 'auto']);

/**
 * Turns DSL drafts into a validated graph: resolves stable ids, infers each stream's shape,
 * time domain and value type, and rejects mistakes before anything runs.
 *
 * Unnamed operators get `<input id>/<kind>` (with `#2`, `#3` for siblings of the same kind), so
 * an id depends only on the path from its source, not on unrelated edits elsewhere in the app.
 *
 * @example
 * const graph = assembleGraph('word-count', drafts, { window: '10s' });
 */
export function assembleGraph(app: string, drafts: readonly Draft[], params: Record<string, string>, reliability: Reliability = 'at-least-once'): Graph {
  if (!NAME_RE.test(app)) {
    throw new ConfigError('GRAPH_BAD_APP_NAME', `app name "${app}" is not valid`, {
      where: 'defineApp(...)',
      fix: 'use letters, digits, "_", "-" or "." (at most 64), starting with a letter',
    });
  }
  const ids = resolveIds(drafts);
  const specs: OperatorSpec[] = [];
  const byId = new Map<string, OperatorSpec>();
  const consumers = new Map<string, number>();
  drafts.forEach((d, i) => {
    const id = ids[i]!;
    const inputs = d.inputs.map((e) => ({ from: ids[e.draft]!, grouping: e.grouping, port: e.port }));
    const ins = inputs.map((e) => byId.get(e.from)!);
    for (const e of inputs) consumers.set(e.from, (consumers.get(e.from) ?? 0) + 1);
    const spec = checkOperator(id, d, inputs, ins, byId);
    specs.push(spec);
    byId.set(id, spec);
  });
  checkNames(specs);
  for (const s of specs) {
    if (s.config.kind !== 'sink' && !consumers.has(s.id)) {
      throw new ConfigError('GRAPH_DANGLING', `operator "${s.id}" has no consumer, so its output would be lost`, {
        where: `operator "${s.id}"`,
        fix: 'end the stream with .sink("name"), or remove the operator',
      });
    }
  }
  if (!specs.some((s) => s.config.kind === 'source')) {
    throw new ConfigError('GRAPH_NO_SOURCE', `app "${app}" has no source`, { fix: 'start a stream with app.source("name", {...})' });
  }
  if (reliability !== 'best-effort' && reliability !== 'at-least-once') {
    throw new ConfigError('GRAPH_BAD_RELIABILITY', `reliability "${String(reliability)}" is not a level`, { where: `app "${app}"`, fix: 'use "best-effort" or "at-least-once"' });
  }
  return Object.freeze({ app, reliability, operators: Object.freeze(specs), params: Object.freeze({ ...params }) });
}

function resolveIds(drafts: readonly Draft[]): string[] {
  const ids: string[] = [];
  const taken = new Map<string, number>();
  for (const d of drafts) {
    let id: string;
    if (d.explicitName !== undefined) {
      id = d.config.kind === 'sink' ? `sink:${d.explicitName}` : d.explicitName;
    } else {
      const parent = d.inputs[0] ? ids[d.inputs[0].draft]! : 'app';
      const base = `${parent}/${d.config.kind}`;
      const n = (taken.get(base) ?? 0) + 1;
      taken.set(base, n);
      id = n === 1 ? base : `${base}#${n}`;
    }
    ids.push(id);
  }
  return ids;
}

function checkNames(specs: readonly OperatorSpec[]): void {
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.id)) {
      const what = s.config.kind === 'sink' ? `two sinks are named "${s.name}"` : `two operators have the id "${s.id}"`;
      throw new ConfigError('GRAPH_DUPLICATE_ID', what, { where: `operator "${s.id}"`, fix: 'give one of them another .name(...)' });
    }
    seen.add(s.id);
  }
}

function checkOperator(
  id: string, d: Draft, inputs: OperatorSpec['inputs'], ins: readonly OperatorSpec[], byId: ReadonlyMap<string, OperatorSpec>,
): OperatorSpec {
  const kind = d.config.kind;
  const where = `operator "${id}" (${KIND_IO[kind].describe})`;
  const fail = (code: string, what: string, fix: string): never => {
    throw new ConfigError(code, what, { where, fix });
  };
  if (d.explicitName !== undefined && !NAME_RE.test(d.explicitName)) {
    fail('GRAPH_BAD_NAME', `name "${d.explicitName}" is not valid`, 'use letters, digits, "_", "-" or "." (at most 64), starting with a letter or "_"');
  }
  if (!Number.isInteger(d.parallelism) || d.parallelism < 1 || d.parallelism > 1024) {
    fail('GRAPH_BAD_PARALLELISM', `parallelism ${d.parallelism} is not valid`, 'use a whole number from 1 to 1024');
  }
  checkPlacement(d.placement, fail);
  const io = KIND_IO[kind];
  const want = io.inputs === 'none' ? 0 : io.inputs === 'one' ? 1 : io.inputs === 'two' ? 2 : -1;
  if ((want >= 0 && ins.length !== want) || (want < 0 && ins.length < 2)) {
    fail('GRAPH_BAD_INPUTS', `${KIND_IO[kind].describe} takes ${io.inputs} input(s), got ${ins.length}`, 'check how the stream was built');
  }
  ins.forEach((src, i) => {
    if (!fits(src.shape, kind)) {
      fail('GRAPH_INCOMPATIBLE_EDGE', `a ${src.shape} stream from "${src.id}" cannot feed ${KIND_IO[kind].describe}`, fixForShape(kind));
    }
    const e = inputs[i]!;
    if (e.grouping === 'key' && src.shape !== 'keyed') {
      fail('GRAPH_KEY_GROUPING', `the edge from "${src.id}" is grouped by key, but that stream has no key`, 'call .keyBy(...) before this operator');
    }
    if (e.grouping === 'forward' && src.parallelism !== d.parallelism) {
      fail('GRAPH_FORWARD_PARALLELISM', `a forward edge joins "${src.id}" (parallelism ${src.parallelism}) to parallelism ${d.parallelism}`, 'give both the same parallelism, or use .shuffle(), .keyBy(...) or .broadcast() between them');
    }
  });
  const time: TimeDomain = kind === 'source'
    ? (d.config.kind === 'source' && d.config.source.eventTime !== undefined ? 'event' : 'none')
    : timeOf(ins.map((s) => s.time));
  checkTime(d.config, ins, byId, fail);
  const valueType = d.valueType ?? inferType(d.config, ins);
  if (d.config.kind === 'aggregate' && d.config.aggregate.needsNumbers && !typeFits(ins[0]!.valueType, 'number')) {
    fail('GRAPH_TYPE_MISMATCH', `${d.config.aggregate.fn} needs numbers, but "${ins[0]!.id}" emits ${ins[0]!.valueType} values`, `pass a selector, e.g. .${d.config.aggregate.fn}((v) => v.bytes), or .map(...) to numbers first`);
  }
  if (d.config.kind === 'late') {
    const of = ins[0]!;
    if (of.config.kind !== 'aggregate' && of.config.kind !== 'join') {
      fail('GRAPH_BAD_LATE', `"${of.id}" is not a window, so it has no late side output`, 'call .late() on the result of a window aggregate or join');
    }
  }
  const name = d.config.kind === 'source' || d.config.kind === 'sink' ? d.explicitName ?? id : id;
  return Object.freeze({
    id, name, config: d.config, inputs: Object.freeze(inputs), placement: d.placement,
    parallelism: d.parallelism, shape: shapeOf(kind, ins), time, valueType,
    ...(d.reliability ? { reliability: d.reliability } : {}),
  });
}

function checkPlacement(p: Placement, fail: (code: string, what: string, fix: string) => never): void {
  if (typeof p === 'string' ? PLACEMENTS.has(p) : typeof p?.selector === 'string' && p.selector.length > 0) return;
  fail('GRAPH_BAD_PLACEMENT', `placement ${JSON.stringify(p)} is not valid`, 'use "edge", "cloud", "auto" or { selector: "tag=value" }');
}

function checkTime(
  c: OperatorConfig, ins: readonly OperatorSpec[], byId: ReadonlyMap<string, OperatorSpec>,
  fail: (code: string, what: string, fix: string) => never,
): void {
  const win = c.kind === 'aggregate' ? c.aggregate : c.kind === 'join' ? c.join : undefined;
  if (win?.time === 'event') {
    let untimed = ins.find((s) => s.time !== 'event');
    if (untimed) {
      // Name the source that lacks event time: that is where the fix goes.
      while (untimed.inputs.length > 0) {
        const up: OperatorSpec | undefined = untimed.inputs.map((e) => byId.get(e.from)!).find((s) => s.time !== 'event');
        if (!up) break;
        untimed = up;
      }
      fail('GRAPH_NO_EVENT_TIME', `an event-time window needs event time, but "${untimed.id}" has none`, 'give its source an eventTime (a field or a function), or use { time: "processing" }');
    }
  }
  if (c.kind === 'union' && new Set(ins.map((s) => s.time)).size > 1) {
    fail('GRAPH_MIXED_TIME', 'union mixes streams with and without event time', 'give every source of the union an eventTime, or none of them');
  }
}

function fixForShape(kind: OperatorConfig['kind']): string {
  switch (kind) {
    case 'join': return 'key both sides first: a.keyBy(f).join(b.keyBy(g))';
    case 'process': return 'call .keyBy(...) before .process(...)';
    case 'late': return 'call .late() on the result of a window aggregate or join';
    default: return 'check the order of operators';
  }
}

function shapeOf(kind: OperatorConfig['kind'], ins: readonly OperatorSpec[]): StreamShape {
  switch (kind) {
    case 'keyBy': return 'keyed';
    case 'aggregate': case 'join': return 'windowed';
    case 'filter': return ins[0]!.shape;
    default: return 'plain';
  }
}

function inferType(c: OperatorConfig, ins: readonly OperatorSpec[]): ValueType {
  switch (c.kind) {
    case 'source': return c.source.format === 'lines' && !c.source.parse ? 'string' : c.source.format === 'object' ? 'any' : 'object';
    case 'filter': case 'keyBy': case 'late': case 'sink': return ins[0]!.valueType;
    case 'union': return ins.map((s) => s.valueType).reduce(widen);
    case 'aggregate': return 'object';
    default: return 'any';
  }
}
