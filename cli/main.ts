import { SluiceError } from '../shared/errors.ts';
import { BROKER_HELP, brokerCommand } from './broker-command.ts';
import { BUILD_HELP, buildCommand } from './build-command.ts';
import { CLOUD_HELP, cloudCommand } from './cloud-command.ts';
import { DEPLOY_HELP, deployCommand, UNDEPLOY_HELP, undeployCommand } from './deploy-command.ts';
import { EDGE_HELP, edgeCommand } from './edge-command.ts';
import { APPS_HELP, appsCommand, NODES_HELP, nodesCommand, STATUS_HELP, statusCommand } from './fleet-views.ts';
import { DEMO_HELP, demoCommand } from './demo-command.ts';
import type { Io } from './io.ts';
import { PLAN_HELP, planCommand } from './plan-command.ts';
import { RUN_HELP, runCommand } from './run-command.ts';
import { WORKER_HELP, workerCommand } from './worker-command.ts';
import { simCommand } from '../firmware-sim/cli.ts';
import { SIM_HELP } from '../firmware-sim/cli-args.ts';

interface Command {
  readonly about: string;
  readonly help: string;
  run(argv: readonly string[], io: Io): Promise<number>;
}

const COMMANDS: Readonly<Record<string, Command>> = {
  demo: { about: 'run a small fleet here: a cloud, two gateways and simulated plugs, with an uplink cut', help: DEMO_HELP, run: demoCommand },
  run: { about: 'run an app (or a built artifact) in this process over files or stdio', help: RUN_HELP, run: runCommand },
  plan: { about: 'show where each operator runs (edge, cloud, or split) and why, and the channels', help: PLAN_HELP, run: planCommand },
  build: { about: 'bundle an app into one artifact named by its hash', help: BUILD_HELP, run: buildCommand },
  broker: { about: 'start the embedded MQTT broker on its own', help: BROKER_HELP, run: brokerCommand },
  cloud: { about: 'start the cloud: broker, coordinator, a cloud worker and the HTTP API', help: CLOUD_HELP, run: cloudCommand },
  edge: { about: 'start a gateway agent: a local broker for devices and the edge part of its apps', help: EDGE_HELP, run: edgeCommand },
  worker: { about: 'start one more cloud worker: it runs its share of the partitions of cloud parts', help: WORKER_HELP, run: workerCommand },
  deploy: { about: 'build an app and deploy it to the gateways a selector matches and the cloud', help: DEPLOY_HELP, run: deployCommand },
  undeploy: { about: 'stop an app everywhere and remove its state', help: UNDEPLOY_HELP, run: undeployCommand },
  apps: { about: 'list deployed apps and where they run', help: APPS_HELP, run: appsCommand },
  nodes: { about: 'list gateways and cloud workers', help: NODES_HELP, run: nodesCommand },
  status: { about: 'show each node\'s apps, events, dead letters and channel backlogs', help: STATUS_HELP, run: statusCommand },
  sim: { about: 'simulate a fleet of devices publishing to a broker (plugs, climate, vibration, traffic, GPS)', help: SIM_HELP, run: (argv, io) => simCommand([...argv], io) },
};

export const MAIN_HELP = `Usage: sluice <command> [flags]

Sluice runs streaming apps — graphs of operators over event streams — on gateways and in the cloud.

Commands:
${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(8)} ${c.about}`).join('\n')}

Run \`sluice <command> --help\` for the flags of each command.
`;

/** Runs the CLI; returns the exit code. Errors a user can fix print as one line. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(MAIN_HELP);
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    io.stderr.write(`sluice: unknown command "${name}"; fix: run \`sluice --help\` to see the commands\n`);
    return 2;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof SluiceError) {
      io.stderr.write(`sluice ${name}: ${err.message}\n`);
      return err.retryable ? 1 : 2;
    }
    io.stderr.write(`sluice ${name}: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
