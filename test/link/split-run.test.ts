import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { hasMosquitto, startAedes, startMosquitto, type AedesTestBroker, type MosquittoBroker } from '../support/brokers.ts';
import { ensureBundle, sluice } from '../support/bundle.ts';
import { partStarter, splitApp } from './split-app.ts';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';

let dir: string;
let app: string;
let input: string[];
let expected: string[];
const parts = partStarter(() => app);

beforeAll(async () => {
  ensureBundle();
  dir = mkdtempSync(join(tmpdir(), 'sluice-split-'));
  app = join(dir, 'app.ts');
  writeFileSync(app, splitApp('split'));
  input = Array.from({ length: 40_000 }, (_, i) => JSON.stringify({ ts: i * 10, m: `m${i % 7}`, v: (i % 5) - (i % 97 === 0 ? 10 : 0) }));
  writeFileSync(join(dir, 'in.jsonl'), `${input.join('\n')}\n`);
  // The reference: the same app run whole, in one process.
  const whole = await sluice(['run', app, '--in', `readings=${join(dir, 'in.jsonl')}`, '--out', `sums=${join(dir, 'whole.jsonl')}`, '--quiet']);
  expect(whole.code).toBe(0);
  expected = readFileSync(join(dir, 'whole.jsonl'), 'utf8').trim().split('\n').sort();
});
afterEach(() => parts.killAll());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const start = (args: string[]) => parts.start(args);

/** Runs cloud and edge; the input goes in ten chunks, and `afterChunk` may inject a fault after each. */
async function splitRun(name: string, brokerUrl: string, edgeUrl: string, afterChunk: (k: number) => Promise<void>, extra: string[] = []) {
  const out = join(dir, `${name}.jsonl`);
  const cloud = start(['--part', 'cloud', '--broker', brokerUrl, '--out', `sums=${out}`, '--expect', 'gw-1', '--state', join(dir, `${name}-cloud-state`), ...extra]);
  // On a failure or a timeout, show what both processes said.
  let edgeStderr = (): string => '(not started)';
  onTestFailed(() => { console.error(`edge stderr:\n${edgeStderr()}\ncloud stderr:\n${cloud.stderr()}`); });
  // The cloud is linked before the edge sends, so a fault injected mid-stream meets both parts
  // (a slow start could otherwise connect the cloud only after a broker restart).
  await cloud.waitFor(/connected to/);
  const edge = start(['--part', 'edge', '--broker', edgeUrl, '--in', 'readings=-', '--producer', 'gw-1', '--state', join(dir, `${name}-state`), ...extra]);
  edgeStderr = () => edge.stderr();
  const chunk = input.length / 10;
  for (let k = 0; k < 10; k++) {
    edge.child.stdin!.write(`${input.slice(k * chunk, (k + 1) * chunk).join('\n')}\n`);
    await afterChunk(k);
  }
  edge.child.stdin!.end();
  expect((await edge.exit).code, edge.stderr()).toBe(0);
  expect((await cloud.exit).code, cloud.stderr()).toBe(0);
  return { results: readFileSync(out, 'utf8').trim().split('\n').sort(), edge: edge.stderr(), cloud: cloud.stderr() };
}

describe('one app split into an edge and a cloud process, linked over MQTT', () => {
  let broker: AedesTestBroker;
  let proxy: FaultProxy;
  beforeAll(async () => {
    broker = await startAedes();
    proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: broker.port }, seed: 3 });
  });
  afterAll(async () => {
    await proxy.close();
    await broker.close();
  });

  it('gives the same results as the app run whole', async () => {
    const { results, edge } = await splitRun('plain', broker.url, broker.url, async () => {});
    expect(results).toEqual(expected);
    expect(edge).toMatch(/backlog 0/);
  });

  it('the same results when the edge link is reset three times mid-stream', async () => {
    let before = 0;
    const { results, edge } = await splitRun('resets', broker.url, proxy.url, async (k) => {
      // Each chunk of 4,000 readings sends well over 20 kB: reset once that much has passed.
      if (k === 2 || k === 5 || k === 8) {
        await proxy.waitFor((st) => st.up.bytes > before + 20_000);
        proxy.reset();
      }
      before = proxy.stats().up.bytes;
    });
    expect(results).toEqual(expected);
    expect(edge).toMatch(/link down/);
    expect(proxy.stats().resets).toBeGreaterThanOrEqual(3);
  });

  it('an edge part waiting for acks from a cloud that is not there stops on SIGTERM and keeps its backlog', async () => {
    const edge = start(['--part', 'edge', '--broker', broker.url, '--in', `readings=${join(dir, 'in.jsonl')}`, '--producer', 'gw-lonely', '--state', join(dir, 'lonely-state')]);
    // Its input is read to the end; with no cloud, the final drain would wait for acks for ever.
    await new Promise<void>((resolve) => { const check = () => { if (/source-ended/.test(edge.stderr())) resolve(); }; edge.child.stderr!.on('data', check); check(); });
    edge.child.kill('SIGTERM');
    expect(await edge.exit).toEqual({ code: 0, signal: null });
    // Everything past the edge's filter stays in the outbox for a later run to send.
    const kept = input.filter((l) => (JSON.parse(l) as { v: number }).v >= 0).length;
    expect(edge.stderr()).toContain(`acked to seq 0, backlog ${kept}`);
  });

  it('the same results when the broker is killed and restarted mid-stream', async () => {
    let before = 0;
    const { results, edge, cloud } = await splitRun('broker-restart', broker.url, proxy.url, async (k) => {
      if (k === 4) {
        await proxy.waitFor((st) => st.up.bytes > before + 20_000);
        await broker.restart();
      }
      before = proxy.stats().up.bytes;
    });
    expect(results).toEqual(expected);
    expect(edge).toMatch(/link down/);
    expect(cloud).toMatch(/link down/);
  });
});

describe.skipIf(!hasMosquitto())('the same split over Mosquitto 2 with a username and password', () => {
  let mosquitto: MosquittoBroker;
  beforeAll(async () => { mosquitto = await startMosquitto({ username: 'sluice', password: 'pw-1' }); });
  afterAll(async () => { await mosquitto.close(); });

  for (const version of ['4', '5']) {
    it(`MQTT ${version === '4' ? '3.1.1' : '5'}: the same results as the app run whole`, async () => {
      const creds = ['--username', 'sluice', '--password', 'pw-1', '--mqtt-version', version];
      const { results } = await splitRun(`mosquitto-${version}`, mosquitto.url, mosquitto.url, async () => {}, creds);
      expect(results).toEqual(expected);
    });
  }

  it('a wrong password is reported and retried, not a crash', async () => {
    const edge = start(['--part', 'edge', '--broker', mosquitto.url, '--in', 'readings=-', '--username', 'sluice', '--password', 'wrong', '--state', join(dir, 'wrong-password-state')]);
    const refused = new Promise<void>((resolve) => edge.child.stderr!.on('data', () => { if (/link down/.test(edge.stderr())) resolve(); }));
    await refused;
    expect(edge.stderr()).toMatch(/link down \(.*(Bad username or password|Not authorized).*\); retrying in \d+ ms/i);
    edge.child.kill('SIGTERM');
  });
});

