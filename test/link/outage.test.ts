import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startAedes, type AedesTestBroker } from '../support/brokers.ts';
import { BUNDLE, ensureBundle, sluice } from '../support/bundle.ts';
import { createFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';

/** A stateless edge and a cloud window, as a gateway and the cloud would split it. */
const APP = `import { defineApp, tumbling } from 'sluice';
export default defineApp('outage', (app) => {
  app.source('readings', { format: 'json', eventTime: 'ts', maxDelay: 1000 })
    .filter((r) => r.v >= 0)
    .keyBy((r) => r.m)
    .window(tumbling('10s')).sum((r) => r.v).place('cloud')
    .map((w) => ({ m: w.key, start: w.windowStart, sum: w.value }))
    .sink('sums');
});
`;
const EVENTS = 200_000;

let dir: string;
let app: string;
let lines: string[];
let kept: number;
let broker: AedesTestBroker;
let proxy: FaultProxy;
const children: ChildProcess[] = [];

beforeAll(async () => {
  ensureBundle();
  dir = mkdtempSync(join(tmpdir(), 'sluice-outage-'));
  app = join(dir, 'app.ts');
  writeFileSync(app, APP);
  lines = Array.from({ length: EVENTS }, (_, i) => JSON.stringify({ ts: i * 5, m: `m${i % 13}`, v: (i % 9) - (i % 211 === 0 ? 20 : 0) }));
  kept = lines.filter((l) => (JSON.parse(l) as { v: number }).v >= 0).length;
  broker = await startAedes();
  proxy = await createFaultProxy({ target: { host: '127.0.0.1', port: broker.port }, seed: 11 });
});
afterEach(() => { for (const c of children.splice(0)) c.kill('SIGKILL'); proxy.heal(); });
afterAll(async () => {
  await proxy.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

function start(args: string[]) {
  const child = spawn(process.execPath, [BUNDLE, 'run', app, ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, stderr: () => err };
}

/** Feeds the edge its input in 20 chunks; `between(k)` may change the link after chunk k. */
async function run(name: string, edgeExtra: string[], between: (k: number) => Promise<void>) {
  const out = join(dir, `${name}.jsonl`);
  const cloud = start(['--part', 'cloud', '--broker', broker.url, '--out', `sums=${out}`, '--expect', 'gw-1']);
  const edge = start(['--part', 'edge', '--broker', proxy.url, '--in', 'readings=-', '--producer', 'gw-1', '--state', join(dir, `${name}-state`), ...edgeExtra]);
  onTestFailed(() => { console.error(`edge:\n${edge.stderr()}\ncloud:\n${cloud.stderr()}`); });
  const chunk = EVENTS / 20;
  for (let k = 0; k < 20; k++) {
    edge.child.stdin!.write(`${lines.slice(k * chunk, (k + 1) * chunk).join('\n')}\n`);
    await between(k);
  }
  edge.child.stdin!.end();
  expect(await edge.exit, edge.stderr()).toBe(0);
  expect(await cloud.exit, cloud.stderr()).toBe(0);
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
    const cloud = start(['--part', 'cloud', '--broker', broker.url, '--out', `sums=${out}`, '--expect', 'gw-1']);
    const edge = start(['--part', 'edge', '--broker', proxy.url, '--in', `readings=${join(dir, 'in.jsonl')}`, '--producer', 'gw-1',
      '--state', join(dir, 'overflow-state'), '--outbox-max-bytes', String(2 << 20), '--outbox-overflow', 'drop-oldest']);
    onTestFailed(() => { console.error(`edge:\n${edge.stderr()}\ncloud:\n${cloud.stderr()}`); });
    // The link comes back once the edge has read all its input.
    await new Promise<void>((resolve) => edge.child.stderr!.on('data', () => { if (/source-ended/.test(edge.stderr())) resolve(); }));
    proxy.refuse(false);
    expect(await edge.exit, edge.stderr()).toBe(0);
    expect(await cloud.exit, cloud.stderr()).toBe(0);
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
