import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, ensureBundle } from '../support/bundle.ts';

beforeAll(() => { ensureBundle(); });

/** Starts `sluice broker` and resolves with its URL once it says it is listening. */
function startBroker(args: string[]) {
  const child = spawn(process.execPath, [BUNDLE, 'broker', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (mqtt:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`broker exited ${code}: ${out}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, url, exited, output: () => out };
}

describe('sluice broker', () => {
  it('serves MQTT with credentials, refuses a wrong password, and stops cleanly on SIGTERM', async () => {
    const b = startBroker(['--username', 'gw', '--password', 's3cret']);
    try {
      const url = await b.url;
      const bad = mqtt.connect(url, { username: 'gw', password: 'nope', reconnectPeriod: 0 });
      const refused = await new Promise<string>((resolve) => bad.on('error', (e) => resolve(e.message)));
      bad.end(true);
      expect(refused).toMatch(/Bad username or password|Not authorized/i);

      const client = mqtt.connect(url, { username: 'gw', password: 's3cret' });
      await new Promise<void>((resolve) => client.on('connect', () => resolve()));
      await client.subscribeAsync('t/1', { qos: 1 });
      const got = new Promise<string>((resolve) => client.on('message', (_t, p) => resolve(p.toString())));
      await client.publishAsync('t/1', 'hello', { qos: 1 });
      expect(await got).toBe('hello');
      await client.endAsync();
    } finally {
      b.child.kill('SIGTERM');
    }
    expect(await b.exited).toBe(0);
    expect(b.output()).toMatch(/stopped/);
  });

  it('a bad port is a one-line error', async () => {
    const child = spawn(process.execPath, [BUNDLE, 'broker', '--port', 'eighty'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(err.trim()).toBe('sluice broker: --port eighty is not a port number; fix: use a number from 0 to 65535');
  });
});
