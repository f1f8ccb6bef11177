import { describe, it, expect } from 'vitest';
import { Writable } from 'node:stream';
import { simCommand } from './cli.ts';
import { parseDuration, parseSimArgs, SIM_HELP } from './cli-args.ts';

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { text += chunk.toString(); done(); } });
  return { stream, text: () => text };
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await simCommand(argv, { stdout: out.stream, stderr: err.stream });
  return { code, out: out.text(), err: err.text() };
}

describe('simCommand options', () => {
  it('explains every flag in --help and exits 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    for (const flag of ['--broker', '--model', '--devices', '--rate', '--seed', '--faults', '--replay', '--speed', '--duration', '--format', '--username', '--password', '--qos', '--connections', '--concurrency', '--topic-root']) {
      expect(out).toContain(flag);
    }
    expect(out).toBe(SIM_HELP);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['a missing broker', ['--model', 'plug'], /no broker given.*fix: pass --broker/],
    ['a broker that is not a URL', ['--broker', 'localhost', '--model', 'plug'], /not an MQTT URL/],
    ['an unknown model', ['--broker', 'mqtt://h:1', '--model', 'toaster'], /unknown model "toaster".*fix: use one of plug, climate, vibration, traffic, gps/],
    ['an unknown flag', ['--broker', 'mqtt://h:1', '--model', 'plug', '--devcies', '3'], /unknown flag --devcies/],
    ['a fractional device count', ['--broker', 'mqtt://h:1', '--model', 'plug', '--devices', '2.5'], /--devices.*fix:/],
    ['a negative rate', ['--broker', 'mqtt://h:1', '--model', 'plug', '--rate', '-1'], /at --rate/],
    ['an unknown fault', ['--broker', 'mqtt://h:1', '--model', 'plug', '--faults', 'drop,gremlins'], /unknown fault "gremlins".*fix: use "all" or some of/],
    ['a bad duration', ['--broker', 'mqtt://h:1', '--model', 'plug', '--duration', 'soon'], /"soon" is not a duration/],
    ['a bad format', ['--broker', 'mqtt://h:1', '--model', 'plug', '--format', 'xml'], /unknown format "xml"/],
    ['a flag with no value', ['--broker', 'mqtt://h:1', '--model'], /--model needs a value/],
    ['a missing replay file', ['--broker', 'mqtt://h:1', '--replay', '/nonexistent/x.csv'], /cannot read replay file: ENOENT.*fix: check the path/],
  ];
  for (const [what, argv, expected] of bad) {
    it(`rejects ${what} with one line and exit code 2`, async () => {
      const { code, err, out } = await run(argv);
      expect(code).toBe(2);
      expect(err).toMatch(expected);
      expect(err.trim().split('\n')).toHaveLength(1);
      expect(out).toBe('');
    });
  }

  it('parses a full command line, including --flag=value', () => {
    const args = parseSimArgs(['--broker=mqtt://127.0.0.1:1883', '--model', 'plug', '--devices', '100', '--rate', '0.5', '--seed', '42',
      '--faults', 'drop=0.1,spike,ooo', '--duration', '5m', '--format', 'senml', '--username', 'u', '--password', 'p', '--qos', '1', '--connections', '4']);
    expect(args).toMatchObject({
      broker: 'mqtt://127.0.0.1:1883', model: 'plug', devices: 100, rate: 0.5, seed: 42, durationMs: 300_000, format: 'senml',
      username: 'u', password: 'p', qos: 1, connections: 4, faults: { drop: { p: 0.1 }, spike: true, outOfOrder: true },
    });
  });

  it('reads durations in ms, s, m, h and plain seconds', () => {
    expect([parseDuration('500ms'), parseDuration('30s'), parseDuration('2m'), parseDuration('1h'), parseDuration('7')]).toEqual([500, 30_000, 120_000, 3_600_000, 7000]);
  });
});
