import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ConfigError } from '../errors.ts';
import {
  TOPIC_MAX_NAME_BYTES, channelAckTopic, channelDataFilter, channelDataTopic, checkTopicName, formatTopic,
  nodeDesiredTopic, nodeFilter, nodeMetricsTopic, nodeStatusTopic, parseTopic,
} from './topics.ts';
import type { ParseTopicResult, SluiceTopic } from './topics.ts';

function topicOf(r: ParseTopicResult): SluiceTopic {
  if (!r.ok) throw new Error(`expected a topic, got: ${r.reason}`);
  return r.topic;
}

function reasonOf(r: ParseTopicResult): string {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r.topic)}`);
  return r.reason;
}

describe('topic builders', () => {
  it('build the documented channel and node topics', () => {
    expect(channelDataTopic('plant', 'rms', 3)).toBe('sluice/v1/plant/ch/rms/3/data');
    expect(channelAckTopic('plant', 'rms', 3, 'gw-7')).toBe('sluice/v1/plant/ch/rms/3/ack/gw-7');
    expect(nodeStatusTopic('gw-7')).toBe('sluice/v1/node/gw-7/status');
    expect(nodeDesiredTopic('gw-7')).toBe('sluice/v1/node/gw-7/desired');
    expect(nodeMetricsTopic('gw-7')).toBe('sluice/v1/node/gw-7/metrics');
    expect(channelDataFilter('plant', 'rms')).toBe('sluice/v1/plant/ch/rms/+/data');
    expect(nodeFilter('status')).toBe('sluice/v1/node/+/status');
  });

  const badNames: Array<[string, string, RegExp]> = [
    ['empty', '', /is empty/],
    ['a slash', 'a/b', /contains "\/"/],
    ['a plus', 'a+b', /contains "\+", an MQTT wildcard/],
    ['a hash', '#', /contains "#", an MQTT wildcard/],
    ['NUL', 'a\u0000b', /NUL/],
    ['a control character', 'a\nb', /control character U\+000A/],
    ['a C1 control character', 'a\u0085', /control character U\+0085/],
    ['a leading $', '$SYS', /starts with "\$"/],
    ['a lone surrogate', 'a\ud800b', /lone surrogate/],
    ['too many ASCII bytes', 'x'.repeat(TOPIC_MAX_NAME_BYTES + 1), /longer than 128/],
    ['too many UTF-8 bytes', 'é'.repeat(65), /130 UTF-8 bytes/],
  ];
  for (const [what, value, pattern] of badNames) {
    it(`refuse a name with ${what}, saying which level and why`, () => {
      let caught: unknown;
      try {
        channelAckTopic('plant', 'rms', 0, value);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).code).toBe('WIRE_BAD_TOPIC');
      expect((caught as ConfigError).message).toMatch(pattern);
      expect((caught as ConfigError).where).toBe('topic level "producer"');
    });
  }

  it('accept names at the byte limit, including multi-byte ones', () => {
    expect(checkTopicName('x'.repeat(TOPIC_MAX_NAME_BYTES))).toBeUndefined();
    expect(checkTopicName('é'.repeat(64))).toBeUndefined();
    expect(checkTopicName('😀'.repeat(32))).toBeUndefined();
    expect(checkTopicName('😀'.repeat(33))).toMatch(/132 UTF-8 bytes/);
  });

  it('reserve the app name "node" and check partitions', () => {
    expect(() => channelDataTopic('node', 'rms', 0)).toThrow(/reserved/);
    expect(() => channelDataTopic('plant', 'rms', -1)).toThrow(/partition -1/);
    expect(() => channelDataTopic('plant', 'rms', 1.5)).toThrow(/partition 1.5/);
    expect(() => channelDataTopic('plant', 'rms', 65_536)).toThrow(/partition 65536/);
  });
});

describe('parseTopic', () => {
  it('parses each kind of topic', () => {
    expect(topicOf(parseTopic('sluice/v1/plant/ch/rms/3/data'))).toEqual({ type: 'channel-data', app: 'plant', channel: 'rms', partition: 3 });
    expect(topicOf(parseTopic('sluice/v1/plant/ch/rms/0/ack/gw-7')))
      .toEqual({ type: 'channel-ack', app: 'plant', channel: 'rms', partition: 0, producer: 'gw-7' });
    expect(topicOf(parseTopic('sluice/v1/node/gw-7/status'))).toEqual({ type: 'node-status', node: 'gw-7' });
    expect(topicOf(parseTopic('sluice/v1/node/gw-7/desired'))).toEqual({ type: 'node-desired', node: 'gw-7' });
  });

  const bad: Array<[string, RegExp]> = [
    ['other/v1/plant/ch/rms/0/data', /does not start with "sluice\/v1\/"/],
    ['sluice/v2/plant/ch/rms/0/data', /does not start with/],
    ['sluice/v1/plant/ch/rms/0/data/extra', /is not sluice\/v1\/<app>\/ch/],
    ['sluice/v1/plant/xx/rms/0/data', /is not sluice\/v1\/<app>\/ch/],
    ['sluice/v1/plant/ch/rms/0/ack', /is not sluice\/v1\/<app>\/ch/],
    ['sluice/v1//ch/rms/0/data', /app name .* is empty/],
    ['sluice/v1/plant/ch/r+s/0/data', /channel name .* wildcard/],
    ['sluice/v1/plant/ch/rms/0/ack/$gw', /producer name .* starts with "\$"/],
    ['sluice/v1/plant/ch/rms/01/data', /partition "01" .* without leading zeros/],
    ['sluice/v1/plant/ch/rms/x/data', /partition "x"/],
    ['sluice/v1/plant/ch/rms/70000/data', /partition "70000"/],
    ['sluice/v1/node/gw-7/reboot', /is not sluice\/v1\/node\/<id>/],
    ['sluice/v1/node//status', /node id .* is empty/],
    ['sluice/v1/node/ch/rms/0/data', /is not sluice\/v1\/node\/<id>/],
  ];
  for (const [topic, pattern] of bad) {
    it(`rejects ${JSON.stringify(topic)} with a reason`, () => {
      expect(reasonOf(parseTopic(topic))).toMatch(pattern);
    });
  }

  it('inverts formatTopic for every valid topic (property)', () => {
    const nameArb = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }).filter((s) => checkTopicName(s) === undefined);
    const topicArb: fc.Arbitrary<SluiceTopic> = fc.oneof(
      fc.record({ type: fc.constant('channel-data' as const), app: nameArb.filter((a) => a !== 'node'), channel: nameArb, partition: fc.nat({ max: 65_535 }) }),
      fc.record({
        type: fc.constant('channel-ack' as const), app: nameArb.filter((a) => a !== 'node'), channel: nameArb,
        partition: fc.nat({ max: 65_535 }), producer: nameArb,
      }),
      fc.record({ type: fc.constantFrom('node-status' as const, 'node-desired' as const, 'node-metrics' as const), node: nameArb }),
    );
    fc.assert(fc.property(topicArb, (t) => {
      expect(topicOf(parseTopic(formatTopic(t)))).toEqual(t);
    }), { numRuns: 500 });
  });

  it('never throws on arbitrary strings (fuzz)', () => {
    const pieces = fc.constantFrom('sluice', 'v1', 'node', 'ch', 'data', 'ack', 'status', '0', '', '+', '#', '$x', 'a');
    const topicish = fc.oneof(fc.string(), fc.array(pieces, { maxLength: 9 }).map((p) => p.join('/')));
    fc.assert(fc.property(topicish, (t) => {
      const r = parseTopic(t);
      if (r.ok) expect(formatTopic(r.topic)).toBe(t);
      else expect(r.reason.length).toBeGreaterThan(0);
    }), { numRuns: 2000 });
  });
});
