/**
 * Control messages between the coordinator and the nodes it steers, as JSON (so a person can
 * read them with any MQTT client):
 *
 *   sluice/v1/node/<id>/desired  coordinator -> node, retained: the apps the node should run
 *   sluice/v1/node/<id>/status   node -> coordinator, retained, with a last-will marking it
 *                                offline: who the node is, what it can do, what it runs
 *
 * Takes: bytes from a topic. Emits: a checked message, or a reason; decoding never throws, so
 * a hostile or garbled message is counted and dropped instead of stopping a node.
 * This module imports no `node:` module; the dashboard bundles it.
 */

/** Which side of an app a node runs: gateways run the edge part, cloud workers the cloud part. */
export type NodeRole = 'edge' | 'cloud';

/** One app a node should run. */
export interface DesiredApp {
  readonly app: string;
  /** Deploy count of this app: raised by every deploy, so a node sees an upgrade. */
  readonly version: number;
  /** sha256 of the artifact (hex); the node fetches `sluice/v1/artifact/<hash>` and verifies it. */
  readonly hash: string;
  readonly params: Readonly<Record<string, string>>;
  /** Producers (gateway ids) a cloud part waits for before its watermark moves. */
  readonly producers: readonly string[];
  /**
   * How many partitions the app's keyed cloud channels have (default 1): a gateway sends each
   * event to the partition of its key; each partition of the cloud part runs on its own.
   */
  readonly partitions?: number;
  /** On a cloud worker: the partitions of the cloud part it runs (default all of them). */
  readonly owned?: readonly number[];
}

/** Everything a node should run; a node makes itself match it. */
export interface DesiredState {
  readonly type: 'desired';
  readonly node: string;
  /** Raised on every change; a node ignores a desired state older than one it applied. */
  readonly revision: number;
  readonly apps: readonly DesiredApp[];
}

/** What a node tells about itself when it registers. */
export interface NodeCapabilities {
  readonly cores: number;
  readonly memoryMb: number;
  readonly arch: string;
  readonly node: string;
  /** Millions of simple loop iterations per second on one core: a rough, comparable speed. */
  readonly calibration: number;
}

/** One app as a node runs it. */
export interface AppStatus {
  readonly app: string;
  readonly version: number;
  readonly state: 'fetching' | 'running' | 'failed';
  readonly error?: string;
  /**
   * Outbound channels: `backlog` events in the outbox (not yet acked as durable by the cloud),
   * of which `undelivered` the cloud has not received yet; totals sent, acked and dropped.
   */
  readonly channels?: Readonly<Record<string, { readonly backlog: number; readonly undelivered?: number; readonly sent: number; readonly acked: number; readonly dropped: number }>>;
  /** Inbound channels: events taken, duplicates dropped, frames refused (with the newest reason), resends asked. */
  readonly inbound?: Readonly<Record<string, { readonly events: number; readonly duplicates: number; readonly rejected: number; readonly lastRejection?: string; readonly resendRequests: number; readonly fenced: number }>>;
  /** Events in per second and totals over the app's operators on this node. */
  readonly eventsIn?: number;
  /** Events in per second since the node's previous status. */
  readonly eventsPerSecond?: number;
  readonly deadLetters?: number;
  /** On a cloud worker: the partitions of the app's cloud part it runs; inbound stats are summed over them. */
  readonly partitions?: readonly number[];
}

/** A node's retained status; `online: false` is its last-will. */
export interface NodeStatus {
  readonly type: 'status';
  readonly node: string;
  readonly role: NodeRole;
  readonly online: boolean;
  /** Whether the node's link to the cloud's broker is up (as a local reader of it sees it). */
  readonly uplink?: boolean;
  readonly tags: readonly string[];
  readonly capabilities?: NodeCapabilities;
  /** The desired-state revision the node last applied. */
  readonly applied?: number;
  readonly apps?: readonly AppStatus[];
  /** Milliseconds since the epoch, by the node's clock. */
  readonly at: number;
}

export type ControlMessage = DesiredState | NodeStatus;

export type DecodeControlResult<T> = { readonly ok: true; readonly message: T } | { readonly ok: false; readonly reason: string };

/** Most bytes a control message may have; a desired state lists apps, not data. */
export const MAX_CONTROL_BYTES = 1024 * 1024;
/** Most partitions an app's cloud channels may have. */
export const MAX_PARTITIONS = 256;

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * Encodes a control message as UTF-8 JSON.
 *
 * @example
 * client.publish(nodeDesiredTopic('gw-1'), encodeControl(desired), { qos: 1, retain: true });
 */
export function encodeControl(message: ControlMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/**
 * Decodes and checks a desired state. Never throws.
 *
 * @example
 * const r = decodeDesired(payload); if (r.ok) reconcile(r.message);
 */
export function decodeDesired(bytes: Uint8Array): DecodeControlResult<DesiredState> {
  const raw = parse(bytes);
  if (!raw.ok) return raw;
  const m = raw.message;
  if (m['type'] !== 'desired') return fail(`type must be "desired", got ${show(m['type'])}`);
  const problem = text('node', m['node']) ?? whole('revision', m['revision']);
  if (problem) return fail(problem);
  if (!Array.isArray(m['apps'])) return fail(`apps must be an array, got ${show(m['apps'])}`);
  for (const [i, a] of (m['apps'] as unknown[]).entries()) {
    const p = desiredAppProblem(a);
    if (p) return fail(`apps[${i}]: ${p}`);
  }
  return { ok: true, message: m as unknown as DesiredState };
}

/**
 * Decodes and checks a node status. Never throws.
 *
 * @example
 * const r = decodeStatus(payload); if (r.ok) registry.seen(r.message);
 */
export function decodeStatus(bytes: Uint8Array): DecodeControlResult<NodeStatus> {
  const raw = parse(bytes);
  if (!raw.ok) return raw;
  const m = raw.message;
  if (m['type'] !== 'status') return fail(`type must be "status", got ${show(m['type'])}`);
  const problem = text('node', m['node']) ?? whole('at', m['at']);
  if (problem) return fail(problem);
  if (m['role'] !== 'edge' && m['role'] !== 'cloud') return fail(`role must be "edge" or "cloud", got ${show(m['role'])}`);
  if (typeof m['online'] !== 'boolean') return fail(`online must be true or false, got ${show(m['online'])}`);
  if (!Array.isArray(m['tags']) || !(m['tags'] as unknown[]).every((t) => typeof t === 'string')) return fail('tags must be an array of strings');
  if (m['apps'] !== undefined && !Array.isArray(m['apps'])) return fail('apps must be an array');
  return { ok: true, message: m as unknown as NodeStatus };
}

function desiredAppProblem(a: unknown): string | undefined {
  if (typeof a !== 'object' || a === null || Array.isArray(a)) return `must be an object, got ${show(a)}`;
  const m = a as Record<string, unknown>;
  const p = text('app', m['app']) ?? whole('version', m['version']);
  if (p) return p;
  if (typeof m['hash'] !== 'string' || !/^[0-9a-f]{64}$/.test(m['hash'])) return `hash must be 64 hex digits, got ${show(m['hash'])}`;
  const params = m['params'];
  if (typeof params !== 'object' || params === null || Array.isArray(params) || !Object.values(params).every((v) => typeof v === 'string')) {
    return 'params must be an object of strings';
  }
  if (!Array.isArray(m['producers']) || !(m['producers'] as unknown[]).every((v) => typeof v === 'string')) return 'producers must be an array of strings';
  const n = m['partitions'];
  if (n !== undefined && !(typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_PARTITIONS)) return `partitions must be a whole number 1..${MAX_PARTITIONS}, got ${show(n)}`;
  const owned = m['owned'];
  if (owned !== undefined && !(Array.isArray(owned) && owned.every((p) => Number.isInteger(p) && p >= 0 && p < ((n as number | undefined) ?? 1)))) {
    return `owned must be an array of partition numbers below partitions, got ${show(owned)}`;
  }
  return undefined;
}

function parse(bytes: Uint8Array): DecodeControlResult<Record<string, unknown>> {
  if (bytes.length > MAX_CONTROL_BYTES) return fail(`message is ${bytes.length} bytes, over the ${MAX_CONTROL_BYTES}-byte limit`);
  let value: unknown;
  try { value = JSON.parse(decoder.decode(bytes)); } catch (err) { return fail(`not UTF-8 JSON: ${(err as Error).message}`); }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(`must be a JSON object, got ${show(value)}`);
  return { ok: true, message: value as Record<string, unknown> };
}

function text(name: string, v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= 128 ? undefined : `${name} must be a non-empty string of at most 128 characters, got ${show(v)}`;
}

function whole(name: string, v: unknown): string | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? undefined : `${name} must be a whole number >= 0, got ${show(v)}`;
}

function fail<T>(reason: string): DecodeControlResult<T> {
  return { ok: false, reason };
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
