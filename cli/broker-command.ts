import { ConfigError } from '../shared/errors.ts';
import { createEmbeddedBroker } from '../shared/link/index.ts';
import { helpText, parseArgs, type FlagSpec } from './args.ts';
import type { Io } from './io.ts';

const FLAGS: Record<string, FlagSpec> = {
  port: { type: 'string', value: 'N', help: 'TCP port (default 1883; 0 picks a free one)' },
  host: { type: 'string', value: 'ADDR', help: 'interface to listen on (default 127.0.0.1; 0.0.0.0 for the network)' },
  username: { type: 'string', value: 'U', help: 'require this username (with --password)' },
  password: { type: 'string', value: 'P', help: 'require this password (with --username)' },
  help: { type: 'boolean', help: 'show this help' },
};

export const BROKER_HELP = helpText(
  'sluice broker [--port N] [--host ADDR] [--username U --password P]',
  'Starts the embedded MQTT 3.1.1 broker (aedes) on its own and prints its URL. Ctrl-C stops it.',
  FLAGS,
);

export async function brokerCommand(argv: readonly string[], io: Io): Promise<number> {
  const { flags } = parseArgs('broker', argv, FLAGS);
  if (flags.help) { io.stdout.write(BROKER_HELP); return 0; }
  const portText = (flags.port as string | undefined) ?? '1883';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new ConfigError('CLI_BAD_PORT', `--port ${portText} is not a port number`, { fix: 'use a number from 0 to 65535' });
  }
  const username = flags.username as string | undefined;
  const password = flags.password as string | undefined;
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigError('CLI_CREDENTIALS', '--username and --password go together', { fix: 'give both, or neither' });
  }
  const broker = await createEmbeddedBroker({
    port, host: (flags.host as string | undefined) ?? '127.0.0.1',
    ...(username !== undefined && password !== undefined ? { credentials: { username, password } } : {}),
  });
  io.stdout.write(`sluice broker: listening on ${broker.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await broker.close();
  io.stdout.write('sluice broker: stopped\n');
  return 0;
}
