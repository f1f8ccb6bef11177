import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.ts';
import { brokerFinalWatermark, combinedFinalWatermark, fileFinalWatermark } from './final-watermark.ts';

describe('final watermark stores', () => {
  let broker: EmbeddedBroker;
  let a: MqttClient;
  let b: MqttClient;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-final-'));
  beforeAll(async () => {
    broker = await createEmbeddedBroker({ port: 0 });
    const connect = (id: string) => mqtt.connectAsync(broker.url, { clientId: `final-${id}-${process.pid}` });
    [a, b] = [await connect('a'), await connect('b')];
  });
  afterAll(async () => {
    await Promise.all([a.endAsync(true), b.endAsync(true)]);
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('on the broker: nothing saved reads empty; what one worker writes, another reads', async () => {
    const topic = 'sluice/v1/plugs/final/3';
    expect(await brokerFinalWatermark(b, topic).read()).toEqual({});
    await brokerFinalWatermark(a, topic).write({ '': 1_000 });
    await brokerFinalWatermark(a, topic).write({ '': 5_000 });
    expect(await brokerFinalWatermark(b, topic).read()).toEqual({ '': 5_000 });
  });

  it('a stream that ended (+∞) reads as -∞: the next run starts afresh', async () => {
    const file = fileFinalWatermark(join(dir, 'ended.json'));
    await file.write({ '': Infinity });
    expect(await file.read()).toEqual({});
  });

  it('combined: every store is written, the newest is read', async () => {
    const file = fileFinalWatermark(join(dir, 'p1.json'));
    const remote = brokerFinalWatermark(a, 'sluice/v1/plugs/final/1');
    await combinedFinalWatermark([file, remote]).write({ '': 7_000 });
    expect([await file.read(), await remote.read()]).toEqual([{ '': 7_000 }, { '': 7_000 }]);
    await file.write({ '': 9_000 });
    expect(await combinedFinalWatermark([file, remote]).read()).toEqual({ '': 9_000 });
  });

  it('keeps one watermark per group of channels; the only group in the format from before groups', async () => {
    const path = join(dir, 'groups.json');
    const file = fileFinalWatermark(path);
    await file.write({ '0-temps': 4_000, '1-vibration': 9_000 });
    expect(await file.read()).toEqual({ '0-temps': 4_000, '1-vibration': 9_000 });
    await file.write({ '': 3_000 });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ finalWatermark: 3_000 });
    const remote = brokerFinalWatermark(a, 'sluice/v1/plugs/final/2');
    await remote.write({ '0-temps': 5_000 });
    await file.write({ '0-temps': 4_000, '1-vibration': 9_000 });
    expect(await combinedFinalWatermark([file, remote]).read()).toEqual({ '0-temps': 5_000, '1-vibration': 9_000 });
  });

  it('a write with the link down fails at once (the acks behind it wait), a read falls back to -∞', async () => {
    const c = await mqtt.connectAsync(broker.url, { clientId: `final-c-${process.pid}`, reconnectPeriod: 0 });
    await c.endAsync(true);
    await expect(brokerFinalWatermark(c, 'sluice/v1/plugs/final/0').write({ '': 1 })).rejects.toThrow(/link is down/);
    expect(await brokerFinalWatermark(c, 'sluice/v1/plugs/final/0').read()).toEqual({});
  });
});
