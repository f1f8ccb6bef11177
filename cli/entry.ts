// The one entry point of the bundle (dist/sluice.mjs).
import { main } from './main.ts';

const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
process.exitCode = code;
