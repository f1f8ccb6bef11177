import { ConfigError } from '../shared/errors.ts';

export interface FlagSpec {
  /** `string` takes a value; `list` takes a value and may repeat; `boolean` takes none. */
  readonly type: 'string' | 'list' | 'boolean';
  readonly help: string;
  readonly value?: string;
}

export interface Parsed {
  readonly flags: Readonly<Record<string, string | string[] | boolean>>;
  readonly positional: readonly string[];
}

/**
 * Parses `--flag value`, `--flag=value` and repeated list flags against a declared table;
 * anything undeclared is a one-line error naming the command's --help.
 */
export function parseArgs(command: string, argv: readonly string[], spec: Readonly<Record<string, FlagSpec>>): Parsed {
  const flags: Record<string, string | string[] | boolean> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--') || a === '--') { positional.push(a); continue; }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (!s) {
      throw new ConfigError('CLI_UNKNOWN_FLAG', `unknown flag --${name} for \`sluice ${command}\``, { fix: `see \`sluice ${command} --help\`` });
    }
    if (s.type === 'boolean') {
      if (eq >= 0) throw new ConfigError('CLI_BAD_FLAG', `--${name} takes no value`, { fix: `write just --${name}` });
      flags[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = a.slice(eq + 1);
    else { value = argv[i + 1]; i++; }
    if (value === undefined) {
      throw new ConfigError('CLI_MISSING_VALUE', `--${name} needs a value`, { fix: `write --${name} ${s.value ?? 'VALUE'}` });
    }
    if (s.type === 'list') flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
    else flags[name] = value;
  }
  return { flags, positional };
}

/** Splits `NAME=VALUE` pairs from list flags such as --in, --out and --param. */
export function pairs(flag: string, values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new ConfigError('CLI_BAD_PAIR', `--${flag} ${v} is not NAME=VALUE`, { fix: `write e.g. --${flag} name=value` });
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** Renders a command's --help from its flag table. */
export function helpText(usage: string, about: string, spec: Readonly<Record<string, FlagSpec>>): string {
  const rows = Object.entries(spec).map(([name, s]) => {
    const left = `--${name}${s.type === 'boolean' ? '' : ` ${s.value ?? 'VALUE'}`}`;
    return `  ${left.padEnd(26)} ${s.help}`;
  });
  return `Usage: ${usage}\n\n${about}\n\nFlags:\n${rows.join('\n')}\n`;
}

/** Parses a port flag: a number 0..65535 (0 picks a free one). */
export function portFlag(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new ConfigError('CLI_BAD_PORT', `--${flag} ${text} is not a port number`, { fix: 'use a number from 0 to 65535 (0 picks a free one)' });
  }
  return port;
}

/** Resolves on the first Ctrl-C (SIGINT) or SIGTERM. */
export function untilSignal(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => { process.removeListener('SIGINT', stop); process.removeListener('SIGTERM', stop); resolve(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** The cloud's MQTT broker a node connects to when `--cloud` is not given. */
export const DEFAULT_CLOUD_MQTT = 'mqtt://127.0.0.1:1883';

/** The flags of a node's uplink to the cloud's broker: `sluice edge` and `sluice worker`. */
export const UPLINK_FLAGS: Readonly<Record<string, FlagSpec>> = {
  cloud: { type: 'string', value: 'URL', help: `the cloud's MQTT broker, as \`sluice cloud\` prints it (default ${DEFAULT_CLOUD_MQTT})` },
  username: { type: 'string', value: 'U', help: "username for the cloud's broker (with --password)" },
  password: { type: 'string', value: 'P', help: "password for the cloud's broker (with --username)" },
};

/** `--username` and `--password` go together. */
export function credentials(flags: Readonly<Record<string, unknown>>): { username?: string; password?: string } {
  const username = flags['username'] as string | undefined;
  const password = flags['password'] as string | undefined;
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigError('CLI_CREDENTIALS', '--username and --password go together', { fix: 'give both, or neither' });
  }
  return username !== undefined && password !== undefined ? { username, password } : {};
}
