/**
 * `sluice sim` flags: parsed into fleet options, or a ConfigError that names the flag and
 * how to fix it. Pure, so every bad input can be tested without a process.
 */
import { ConfigError } from '../shared/errors.ts';
import { PAYLOAD_FORMATS } from '../shared/wire/index.ts';
import type { PayloadFormat } from '../shared/wire/index.ts';
import { FAULT_CLI_NAMES, parseFaultList } from './faults.ts';
import type { FaultOptions } from './faults.ts';
import { MODEL_NAMES } from './models/index.ts';
import type { ModelName } from './models/index.ts';

/** Parsed command line (the replay file is read later, by the command). */
export interface SimArgs {
  readonly help: boolean;
  readonly broker: string;
  readonly model?: ModelName;
  readonly devices?: number;
  readonly rate: number;
  readonly seed: number;
  readonly faults: FaultOptions;
  readonly replay?: string;
  readonly speed: number;
  readonly durationMs?: number;
  readonly format: PayloadFormat;
  readonly username?: string;
  readonly password?: string;
  readonly qos: 0 | 1;
  readonly connections: 'per-device' | number;
  readonly concurrency: number;
  readonly topicRoot: string;
}

/** The help text: every flag, with its default. */
export const SIM_HELP = `Usage: sluice sim --broker URL (--model MODEL | --replay FILE) [options]

Simulates a fleet of devices publishing over MQTT, with switchable, seeded faults whose
ground truth goes to <root>-truth/<model>/<device>. Stops at --duration or on Ctrl-C.

  --broker URL          MQTT broker, normally the gateway's local one (mqtt://host:1883)
  --model MODEL         device model: ${MODEL_NAMES.join(', ')}
  --devices N           number of devices (default 1; with --replay, at most N sensors)
  --rate HZ             readings per second per device (default 1)
  --seed S              integer seed; the same seed gives the same readings and faults (default 1)
  --faults LIST         comma list of ${FAULT_CLI_NAMES.join(', ')}, or "all";
                        name=P sets a probability per reading, e.g. drop=0.05,spike,ooo
  --replay FILE         replay a dataset (wsn-labelled CSV, CityBench Aarhus CSV, RIoTBench
                        "<ts>,<SenML>" lines), one device per sensor id, labels as ground truth
  --speed X             replay time scaling: 60 plays an hour a minute (default 1)
  --duration D          stop after D: 30s, 5m, 1h, 500ms or plain seconds (default: run until Ctrl-C)
  --format F            payload format: ${PAYLOAD_FORMATS.join(', ')} (default json)
  --username U          broker username
  --password P          broker password
  --qos Q               MQTT QoS for readings, 0 or 1 (default 0)
  --connections C       "per-device" (default: one client id and connection per device) or a
                        number of shared connections
  --concurrency N       connection attempts in flight while connecting (default 200)
  --topic-root R        topic root: readings on R/<model>/<device> (default sim)
  -h, --help            show this help
`;

const FLAGS = new Set(['broker', 'model', 'devices', 'rate', 'seed', 'faults', 'replay', 'speed', 'duration', 'format', 'username', 'password', 'qos', 'connections', 'concurrency', 'topic-root']);

function bad(flag: string, what: string, fix: string): never {
  throw new ConfigError('SIM_ARG', what, { where: `--${flag}`, fix });
}

function number(flag: string, raw: string, integer: boolean, min: number): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
    bad(flag, `"${raw}" is not ${integer ? 'an integer' : 'a number'} ≥ ${min}`, `pass --${flag} with a ${integer ? 'whole ' : ''}number such as ${min === 0 ? 1 : min * 10}`);
  }
  return n;
}

/** Parses "30s", "5m", "1h", "500ms" or plain seconds into milliseconds. */
export function parseDuration(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (m === null) bad('duration', `"${raw}" is not a duration`, 'write it like 30s, 5m, 1h or 500ms');
  const unit = m[2] ?? 's';
  return Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
}

/**
 * Parses `sluice sim` arguments (everything after `sim`).
 *
 * @example
 * parseSimArgs(['--broker', 'mqtt://127.0.0.1:1883', '--model', 'plug', '--devices', '100']);
 */
export function parseSimArgs(argv: readonly string[]): SimArgs {
  const values = new Map<string, string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) bad(arg, `unexpected argument "${arg}"`, 'flags start with --; see sluice sim --help');
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (!FLAGS.has(name)) bad(name, `unknown flag --${name}`, 'see sluice sim --help for the flags');
    let value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq < 0 && value.startsWith('--'))) bad(name, `--${name} needs a value`, `write --${name} VALUE`);
    value = value.trim();
    values.set(name, value);
  }
  const get = (k: string): string | undefined => values.get(k);
  const empty: SimArgs = { help: true, broker: '', rate: 1, seed: 1, faults: {}, speed: 1, format: 'json', qos: 0, connections: 'per-device', concurrency: 200, topicRoot: 'sim' };
  if (help) return empty;

  const broker = get('broker');
  if (broker === undefined) bad('broker', 'no broker given', 'pass --broker mqtt://host:1883 (the gateway\'s local broker)');
  if (!/^(mqtts?|wss?|tcp):\/\/[^/]+/.test(broker)) bad('broker', `"${broker}" is not an MQTT URL`, 'write it like mqtt://127.0.0.1:1883');
  const model = get('model');
  const replay = get('replay');
  if (model === undefined && replay === undefined) bad('model', 'no --model or --replay given', `pass --model ${MODEL_NAMES.join('|')} or --replay FILE`);
  if (model !== undefined && !(MODEL_NAMES as readonly string[]).includes(model)) bad('model', `unknown model "${model}"`, `use one of ${MODEL_NAMES.join(', ')}`);
  const format = get('format') ?? 'json';
  if (!(PAYLOAD_FORMATS as readonly string[]).includes(format)) bad('format', `unknown format "${format}"`, `use one of ${PAYLOAD_FORMATS.join(', ')}`);
  const qos = get('qos') ?? '0';
  if (qos !== '0' && qos !== '1') bad('qos', `QoS "${qos}" is not supported`, 'use 0 or 1');
  const connections = get('connections') ?? 'per-device';
  const rate = get('rate');
  const devices = get('devices');
  const duration = get('duration');
  const username = get('username');
  const password = get('password');
  if (password !== undefined && username === undefined) bad('password', '--password without --username', 'pass --username too');
  const root = get('topic-root') ?? 'sim';
  if (root === '' || /[#+]/.test(root)) bad('topic-root', `"${root}" is not a plain topic`, 'use letters, digits and slashes, e.g. sim');
  let faults: FaultOptions = {};
  const faultList = get('faults');
  if (faultList !== undefined) faults = parseFaultList(faultList);
  return {
    help: false,
    broker,
    ...(model !== undefined ? { model: model as ModelName } : {}),
    ...(devices !== undefined ? { devices: number('devices', devices, true, 1) } : {}),
    rate: rate === undefined ? 1 : number('rate', rate, false, 0.001),
    seed: number('seed', get('seed') ?? '1', true, -(2 ** 31)),
    faults,
    ...(replay !== undefined ? { replay } : {}),
    speed: number('speed', get('speed') ?? '1', false, 0.001),
    ...(duration !== undefined ? { durationMs: parseDuration(duration) } : {}),
    format: format as PayloadFormat,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    qos: qos === '1' ? 1 : 0,
    connections: connections === 'per-device' ? 'per-device' : number('connections', connections, true, 1),
    concurrency: number('concurrency', get('concurrency') ?? '200', true, 1),
    topicRoot: root,
  };
}
