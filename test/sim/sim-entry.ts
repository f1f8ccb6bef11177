// A tiny entry for the integration tests: `node <bundle> <sim flags>` runs `sluice sim`.
import { simCommand } from '../../firmware-sim/cli.ts';

process.exitCode = await simCommand(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
