import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startBroker, until } from './broker.ts';
import type { TestBroker } from './broker.ts';
import { buildSimBundle, runSim } from './sim-process.ts';
import type { SimBundle, SimChild } from './sim-process.ts';

/** A port nothing listens on right now (taken from the OS, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('sluice sim as a child process', () => {
  let bundle: SimBundle;
  const children: SimChild[] = [];
  const brokers: TestBroker[] = [];
  beforeAll(async () => { bundle = await buildSimBundle(); });
  afterAll(async () => {
    for (const c of children) c.kill();
    await Promise.all(brokers.map((b) => b.close()));
    await bundle.cleanup();
  });

  it('reports a broker that is down in one line, retries, and connects when it comes up', async () => {
    const port = await freePort();
    const sim = runSim(bundle, ['--broker', `mqtt://127.0.0.1:${port}`, '--model', 'traffic', '--devices', '5', '--rate', '5', '--seed', '2']);
    children.push(sim);
    await sim.waitFor(/cannot reach the broker \(ECONNREFUSED\).*retrying in/, 'stderr');
    expect(sim.stderr()).not.toMatch(/\n\s+at /); // no stack trace
    const broker = await startBroker({ port });
    brokers.push(broker);
    let got = 0;
    broker.onPublish((p) => { if (p.topic.startsWith('sim/traffic/')) got++; });
    // Back-off is capped at 30 s; the first retries come within a few seconds.
    await new Promise<void>((resolve) => { broker.onPublish(() => { if (got >= 20) resolve(); }); });
    sim.child.kill('SIGINT');
    expect(await sim.exited).toBe(0);
    expect(sim.stdout()).toMatch(/sim traffic stopped \(Ctrl-C\): sent \d+ readings/);
  });

  it('reports refused credentials in one line and keeps retrying', async () => {
    const broker = await startBroker({ credentials: { username: 'dev', password: 'right' } });
    brokers.push(broker);
    const sim = runSim(bundle, ['--broker', broker.url, '--model', 'gps', '--devices', '2', '--username', 'dev', '--password', 'wrong']);
    children.push(sim);
    await sim.waitFor(/refused the credentials.*fix: check --username and --password/, 'stderr');
    expect(sim.stderr()).not.toMatch(/\n\s+at /);
    sim.child.kill('SIGINT');
    expect(await sim.exited).toBe(0);
  });

  it('stops by itself at the end of --duration and prints the achieved rate', async () => {
    const broker = await startBroker();
    brokers.push(broker);
    const sim = runSim(bundle, ['--broker', broker.url, '--model', 'vibration', '--devices', '10', '--rate', '10', '--duration', '2s', '--format', 'cbor']);
    children.push(sim);
    expect(await sim.exited).toBe(0);
    expect(sim.stdout()).toMatch(/sim vibration stopped \(the duration ended\): sent \d+ readings .* requested \(\d+\.\d%\)/);
  });

  it('replays a labelled dataset with time scaling, passes labels through as truth, and stops at its end', async () => {
    const broker = await startBroker();
    brokers.push(broker);
    let readings = 0;
    let labels = 0;
    broker.onPublish((p) => {
      if (p.topic.startsWith('sim/wsn/mote-')) readings++;
      if (p.topic.startsWith('sim-truth/wsn/') && (JSON.parse(p.payload.toString()) as { fault: string }).fault === 'label') labels++;
    });
    const fixture = fileURLToPath(new URL('../../firmware-sim/fixtures/wsn-labelled-slice.csv', import.meta.url));
    const sim = runSim(bundle, ['--broker', broker.url, '--replay', fixture, '--speed', '200', '--format', 'senml']);
    children.push(sim);
    expect(await sim.exited).toBe(0);
    expect(sim.stdout()).toMatch(/sim wsn stopped \(the replay ended\): sent 160 readings and 34 ground-truth records/);
    await until(() => readings >= 160 && labels >= 34, 'every reading and label at the broker', 10_000);
    expect(readings).toBe(160);
    expect(labels).toBe(34);
  });

  it('connects 10,000 devices, each with its own client id, and every one publishes', async () => {
    const broker = await startBroker();
    brokers.push(broker);
    const clients = new Set<string>();
    const topics = new Set<string>();
    let resolveAll: () => void = () => undefined;
    const all = new Promise<void>((resolve) => { resolveAll = resolve; });
    broker.aedes.on('clientReady', (c) => { if (c.id.startsWith('sim-plug-')) clients.add(c.id); });
    broker.onPublish((p) => {
      if (!p.topic.startsWith('sim/plug/')) return;
      topics.add(p.topic);
      if (topics.size === 10_000) resolveAll();
    });
    const sim = runSim(bundle, ['--broker', broker.url, '--model', 'plug', '--devices', '10000', '--rate', '1', '--seed', '9', '--concurrency', '500']);
    children.push(sim);
    await all;
    expect(clients.size).toBe(10_000);
    sim.child.kill('SIGINT');
    expect(await sim.exited).toBe(0);
    expect(sim.stdout()).toMatch(/sim plug stopped \(Ctrl-C\)/);
  }, 90_000);
});
