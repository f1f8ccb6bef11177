/**
 * The MQTT topic grammar of Sluice, version 1:
 *
 *   sluice/v1/<app>/ch/<channel>/<partition>/data              data frames into a partition
 *   sluice/v1/<app>/ch/<channel>/<partition>/ack/<producer>    ack and resend frames to a producer
 *   sluice/v1/<app>/final/<partition>                          where a cloud partition's results are final (retained)
 *   sluice/v1/node/<id>/status                                 a node's status (retained, last-will)
 *   sluice/v1/node/<id>/desired                                a node's desired state (retained)
 *   sluice/v1/node/<id>/metrics                                a node's metrics
 *   sluice/v1/artifact/<sha256>                                an app artifact's bytes (retained)
 *
 * Names (app, channel, producer, node id) are one topic level each: non-empty, at most
 * `TOPIC_MAX_NAME_BYTES` UTF-8 bytes, without `/`, the wildcards `+` and `#`, NUL or other control
 * characters (MQTT 3.1.1 §1.5.3, §4.7.1), without a leading `$` (reserved for brokers, §4.7.2),
 * and well-formed UTF-16 (no lone surrogates, which cannot become UTF-8). The app name `node` is
 * reserved, and so is `artifact`, so an ACL on `sluice/v1/<app>/#` never covers control topics. A partition is a
 * decimal integer 0..65535 without leading zeros. This module imports no `node:` module.
 */
import { ConfigError } from '../errors.ts';

export const TOPIC_ROOT = 'sluice/v1';
/** Longest name allowed in one topic level, in UTF-8 bytes. */
export const TOPIC_MAX_NAME_BYTES = 128;
export const TOPIC_MAX_PARTITION = 65_535;

export interface ChannelDataTopic {
  readonly type: 'channel-data';
  readonly app: string;
  readonly channel: string;
  readonly partition: number;
}

export interface ChannelAckTopic {
  readonly type: 'channel-ack';
  readonly app: string;
  readonly channel: string;
  readonly partition: number;
  readonly producer: string;
}

export interface NodeTopic {
  readonly type: 'node-status' | 'node-desired' | 'node-metrics';
  readonly node: string;
}

export type SluiceTopic = ChannelDataTopic | ChannelAckTopic | NodeTopic;

export type ParseTopicResult =
  | { readonly ok: true; readonly topic: SluiceTopic }
  | { readonly ok: false; readonly reason: string };

const NODE_KINDS: Readonly<Record<string, NodeTopic['type']>> = Object.freeze({
  status: 'node-status', desired: 'node-desired', metrics: 'node-metrics',
});

/**
 * Says why `value` cannot be a name in a topic level, or returns undefined when it can.
 *
 * @example
 * checkTopicName('line/3'); // 'contains "/", which separates topic levels'
 */
export function checkTopicName(value: unknown): string | undefined {
  if (typeof value !== 'string') return `is ${value === null ? 'null' : typeof value}, not a string`;
  if (value.length === 0) return 'is empty';
  if (value.length > TOPIC_MAX_NAME_BYTES) return `is longer than ${TOPIC_MAX_NAME_BYTES} bytes`;
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x2f) return 'contains "/", which separates topic levels';
    if (c === 0x2b || c === 0x23) return `contains "${value[i]}", an MQTT wildcard`;
    if (c === 0) return 'contains a NUL character';
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return `contains control character U+${c.toString(16).padStart(4, '0').toUpperCase()}`;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return 'contains a lone surrogate, which is not valid UTF-8';
      bytes += 4;
      i++;
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return 'contains a lone surrogate, which is not valid UTF-8';
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  if (bytes > TOPIC_MAX_NAME_BYTES) return `is ${bytes} UTF-8 bytes, longer than ${TOPIC_MAX_NAME_BYTES}`;
  if (value.charCodeAt(0) === 0x24) return 'starts with "$", which MQTT reserves for broker topics';
  return undefined;
}

/**
 * Builds the topic string for a parsed topic; throws `ConfigError` (code `WIRE_BAD_TOPIC`)
 * naming the bad field when a name breaks the grammar. The inverse of `parseTopic`.
 *
 * @example
 * formatTopic({ type: 'channel-data', app: 'plant', channel: 'rms', partition: 3 });
 * // 'sluice/v1/plant/ch/rms/3/data'
 */
export function formatTopic(topic: SluiceTopic): string {
  switch (topic.type) {
    case 'channel-data':
    case 'channel-ack': {
      const base = `${TOPIC_ROOT}/${appName(topic.app)}/ch/${name('channel', topic.channel)}/${partitionOf(topic.partition)}`;
      return topic.type === 'channel-data' ? `${base}/data` : `${base}/ack/${name('producer', topic.producer)}`;
    }
    case 'node-status':
    case 'node-desired':
    case 'node-metrics':
      return `${TOPIC_ROOT}/node/${name('node', topic.node)}/${topic.type.slice('node-'.length)}`;
    default:
      throw new ConfigError('WIRE_BAD_TOPIC', `unknown topic type ${JSON.stringify((topic as { type: unknown }).type)}`, {
        where: 'formatTopic', fix: 'use one of channel-data, channel-ack, node-status, node-desired, node-metrics',
      });
  }
}

/** `sluice/v1/<app>/ch/<channel>/<partition>/data`. @example channelDataTopic('plant', 'rms', 0) */
export function channelDataTopic(app: string, channel: string, partition: number): string {
  return formatTopic({ type: 'channel-data', app, channel, partition });
}

/** `sluice/v1/<app>/ch/<channel>/<partition>/ack/<producer>`. @example channelAckTopic('plant', 'rms', 0, 'gw-7') */
export function channelAckTopic(app: string, channel: string, partition: number, producer: string): string {
  return formatTopic({ type: 'channel-ack', app, channel, partition, producer });
}

/** `sluice/v1/node/<id>/status`. @example nodeStatusTopic('gw-7') */
export function nodeStatusTopic(node: string): string {
  return formatTopic({ type: 'node-status', node });
}

/** `sluice/v1/node/<id>/desired`. @example nodeDesiredTopic('gw-7') */
export function nodeDesiredTopic(node: string): string {
  return formatTopic({ type: 'node-desired', node });
}

/** `sluice/v1/node/<id>/metrics`. @example nodeMetricsTopic('gw-7') */
export function nodeMetricsTopic(node: string): string {
  return formatTopic({ type: 'node-metrics', node });
}

/**
 * `sluice/v1/artifact/<sha256>`: where the coordinator keeps an artifact's bytes, retained, so
 * a node fetches it by hash over MQTT (and verifies the hash) with no other connection.
 *
 * @example artifactTopic('9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08')
 */
export function artifactTopic(hash: string): string {
  if (!/^[0-9a-f]{64}$/.test(hash)) {
    throw new ConfigError('WIRE_BAD_TOPIC', `artifact hash ${quote(String(hash))} is not 64 lowercase hex digits`, {
      where: 'topic level "artifact"', fix: 'name artifacts by the sha256 of their bytes, in hex',
    });
  }
  return `${TOPIC_ROOT}/artifact/${hash}`;
}

/**
 * `sluice/v1/<app>/final/<partition>`: the watermark up to which one partition of an app's cloud
 * part has written final results, retained. The worker running the partition publishes it
 * before it acks the events behind it, so a worker that takes the partition over resumes there.
 *
 * @example partFinalTopic('plant', 3) // 'sluice/v1/plant/final/3'
 */
export function partFinalTopic(app: string, partition: number): string {
  return `${TOPIC_ROOT}/${appName(app)}/final/${partitionOf(partition)}`;
}

/** Subscription filter for every partition's data of one channel: `sluice/v1/<app>/ch/<channel>/+/data`. */
export function channelDataFilter(app: string, channel: string): string {
  return `${TOPIC_ROOT}/${appName(app)}/ch/${name('channel', channel)}/+/data`;
}

/** Subscription filter for one kind of node topic across all nodes, e.g. `sluice/v1/node/+/status`. */
export function nodeFilter(kind: 'status' | 'desired' | 'metrics'): string {
  if (!(kind in NODE_KINDS)) {
    throw new ConfigError('WIRE_BAD_TOPIC', `unknown node topic kind ${JSON.stringify(kind)}`, {
      where: 'nodeFilter', fix: 'use "status", "desired" or "metrics"',
    });
  }
  return `${TOPIC_ROOT}/node/+/${kind}`;
}

/**
 * Parses a topic a message arrived on. Never throws: a topic outside the grammar comes back
 * as `{ ok: false, reason }` naming the level at fault.
 *
 * @example
 * const r = parseTopic('sluice/v1/plant/ch/rms/3/ack/gw-7');
 * if (r.ok && r.topic.type === 'channel-ack') route(r.topic.producer);
 */
export function parseTopic(topic: string): ParseTopicResult {
  if (typeof topic !== 'string') return bad(`topic is ${typeof topic}, not a string`);
  const parts = topic.split('/');
  if (parts[0] !== 'sluice' || parts[1] !== 'v1') return bad(`topic ${quote(topic)} does not start with "${TOPIC_ROOT}/"`);
  if (parts[2] === 'node') {
    const kind = NODE_KINDS[parts[4] ?? ''];
    if (parts.length !== 5 || kind === undefined) {
      return bad(`topic ${quote(topic)} is not sluice/v1/node/<id>/(status|desired|metrics)`);
    }
    const problem = checkTopicName(parts[3]);
    if (problem !== undefined) return bad(`node id in ${quote(topic)} ${problem}`);
    return { ok: true, topic: { type: kind, node: parts[3]! } };
  }
  const isData = parts.length === 7 && parts[6] === 'data';
  const isAck = parts.length === 8 && parts[6] === 'ack';
  if (parts[3] !== 'ch' || (!isData && !isAck)) {
    return bad(`topic ${quote(topic)} is not sluice/v1/<app>/ch/<channel>/<partition>/data or .../ack/<producer>`);
  }
  for (const [label, value] of [['app', parts[2]], ['channel', parts[4]], ...(isAck ? [['producer', parts[7]]] : [])] as const) {
    const problem = checkTopicName(value);
    if (problem !== undefined) return bad(`${label} name in ${quote(topic)} ${problem}`);
  }
  const partition = parsePartition(parts[5]!);
  if (partition === undefined) {
    return bad(`partition ${quote(parts[5]!)} in ${quote(topic)} is not a whole number 0..${TOPIC_MAX_PARTITION} without leading zeros`);
  }
  const app = parts[2]!;
  const channel = parts[4]!;
  return isData
    ? { ok: true, topic: { type: 'channel-data', app, channel, partition } }
    : { ok: true, topic: { type: 'channel-ack', app, channel, partition, producer: parts[7]! } };
}

function parsePartition(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return undefined;
  const n = Number(text);
  return n <= TOPIC_MAX_PARTITION ? n : undefined;
}

function bad(reason: string): ParseTopicResult {
  return { ok: false, reason };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

function name(field: string, value: string): string {
  const problem = checkTopicName(value);
  if (problem !== undefined) {
    const shown = typeof value === 'string' ? ` ${quote(value)}` : '';
    throw new ConfigError('WIRE_BAD_TOPIC', `${field} name${shown} ${problem}`, {
      where: `topic level "${field}"`,
      fix: `use 1..${TOPIC_MAX_NAME_BYTES} bytes of printable text without "/", "+", "#" or a leading "$"`,
    });
  }
  return value;
}

function appName(value: string): string {
  if (value === 'node' || value === 'artifact') {
    throw new ConfigError('WIRE_BAD_TOPIC', `app name "${value}" is reserved for control topics`, {
      where: 'topic level "app"', fix: 'give the app another name',
    });
  }
  return name('app', value);
}

function partitionOf(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > TOPIC_MAX_PARTITION) {
    throw new ConfigError('WIRE_BAD_TOPIC', `partition ${String(value)} is not a whole number 0..${TOPIC_MAX_PARTITION}`, {
      where: 'topic level "partition"', fix: 'number partitions from 0',
    });
  }
  return value;
}
