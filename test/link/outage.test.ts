import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startAedes, type AedesTestBroker } from '../support/brokers.ts';
import { ensureBundle, sluice } from '../support/bundle.ts';
import { partStarter, readings, splitApp } from './split-app.ts';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';

const EVENTS = 200_000;

let dir: string;
let app: string;
let lines: string[];
let kept: number;
let broker: AedesTestBroker;
let proxy: FaultProxy;
const parts = partStarter(() => app);
const start = (args: string[]) => parts.start(args);

beforeAll(async () => {
  ensureBundle();
  dir = mkdtempSync(join(tmpdir(), 'sluice-outage-'));
  app = join(dir, 'app.ts');
  writeFileSync(app, splitApp('outage'));
  lines = readings(EVENTS, 13);
  kept = lines.filter((l) => (JSON.parse(l) as { v: number }).v >= 0).length;
  broker = await startAedes();
  proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: broker.port }, seed: 11 });
});
afterEach(() => { parts.killAll(); proxy.heal(); });
afterAll(async () => {
  await proxy.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});


/** Feeds the edge its input in 20 chunks; `between(k)` may change the link after chunk k. */
async function run(name: string, edgeExtra: string[], between: (k: number) => Promise<void>) {
  const out = join(dir, `${name}.jsonl`);
  const cloud = start(['--part', 'cloud', '--broker', broker.url, '--out', `sums=${out}`, '--expect', 'gw-1', '--state', join(dir, `${name}-cloud-state`)]);
  const edge = start(['--part', 'edge', '--broker', proxy.url, '--in', 'readings=-', '--producer', 'gw-1', '--state', join(dir, `${name}-state`), ...edgeExtra]);
  onTestFailed(() => { console.error(`edge:\n${edge.stderr()}\ncloud:\n${cloud.stderr()}`); });
  const chunk = EVENTS / 20;
  for (let k = 0; k < 20; k++) {
    edge.child.stdin!.write(`${lines.slice(k * chunk, (k + 1) * chunk).join('\n')}\n`);
    await between(k);
  }
  edge.child.stdin!.end();
  expect((await edge.exit).code, edge.stderr()).toBe(0);
  expect((await cloud.exit).code, cloud.stderr()).toBe(0);
  return { results: readFileSync(out, 'utf8').trim().split('\n').sort(), edge: edge.stderr(), cloud: cloud.stderr() };
}

describe(`long outages over ${EVENTS.toLocaleString()} events`, () => {
  it('a 30 s blackhole, then the link cut and restored 10 times: the results equal the app run whole', async () => {
    const whole = join(dir, 'whole.jsonl');
    writeFileSync(join(dir, 'in.jsonl'), `${lines.join('\n')}\n`);
    expect((await sluice(['run', app, '--in', `readings=${join(dir, 'in.jsonl')}`, '--out', `sums=${whole}`, '--quiet'])).code).toBe(0);
    let before = 0;
    let cuts = 0;
    const { results, edge } = await run('blackhole', [], async (k) => {
      if (k === 3) {
        // Silent loss: no reset, bytes just stop. Keepalive must notice; 30 s of input piles up.
        proxy.blackhole(true);
        await new Promise<void>((resolve) => { setTimeout(resolve, 30_000); }); // the outage itself is the test's subject
        proxy.heal();
      }
      if (k >= 6 && k < 16) {
        await proxy.waitFor((st) => st.up.bytes > before + 10_000);
        proxy.refuse(true);
        proxy.reset();
        cuts++;
        proxy.refuse(false);
      }
      before = proxy.stats().up.bytes;
    });
    expect(cuts).toBe(10);
    expect(edge).toMatch(/link down/);
    expect(results).toEqual(readFileSync(whole, 'utf8').trim().split('\n').sort());
  }, 180_000);

  it('an outage that overflows a bounded outbox under drop-oldest: sent = delivered + counted drops, exactly', async () => {
    // The uplink is down from the start: the edge works offline and its 2 MiB outbox overflows.
    writeFileSync(join(dir, 'in.jsonl'), `${lines.join('\n')}\n`);
    proxy.refuse(true);
    const out = join(dir, 'overflow.jsonl');
    const cloud = start(['--part', 'cloud', '--broker', broker.url, '--out', `sums=${out}`, '--expect', 'gw-1', '--state', join(dir, 'overflow-cloud-state')]);
    const edge = start(['--part', 'edge', '--broker', proxy.url, '--in', `readings=${join(dir, 'in.jsonl')}`, '--producer', 'gw-1',
      '--state', join(dir, 'overflow-state'), '--outbox-max-bytes', String(2 << 20), '--outbox-overflow', 'drop-oldest']);
    onTestFailed(() => { console.error(`edge:\n${edge.stderr()}\ncloud:\n${cloud.stderr()}`); });
    // The link comes back once the edge has read all its input.
    await new Promise<void>((resolve) => edge.child.stderr!.on('data', () => { if (/source-ended/.test(edge.stderr())) resolve(); }));
    proxy.refuse(false);
    expect((await edge.exit).code, edge.stderr()).toBe(0);
    expect((await cloud.exit).code, cloud.stderr()).toBe(0);
    const sent = /(\d+) appended, \d+ sent, \d+ resent, (\d+) dropped by the outbox bound/.exec(edge.stderr())!;
    const inbound = /in: (\d+) events, \d+ duplicates dropped, \d+ bad frames, (\d+) dropped upstream/.exec(cloud.stderr())!;
    const [appended, dropped] = [Number(sent[1]), Number(sent[2])];
    const [delivered, declared] = [Number(inbound[1]), Number(inbound[2])];
    expect(appended).toBe(kept);
    expect(dropped).toBeGreaterThan(0);
    expect(declared).toBe(dropped);
    expect(delivered + dropped).toBe(appended);
    expect(edge.stderr()).toMatch(/link down/);
  }, 120_000);
});
