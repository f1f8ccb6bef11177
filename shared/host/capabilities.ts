import { arch, availableParallelism, totalmem } from 'node:os';
import type { NodeCapabilities } from '../wire/index.ts';

/**
 * What this machine offers, for the coordinator's registry: cores, memory, architecture, the
 * Node version, and a short CPU calibration (a 50 ms integer loop), so a Raspberry Pi and a
 * server can be told apart by one comparable number.
 *
 * @example
 * measureCapabilities(); // { cores: 4, memoryMb: 3906, arch: 'arm64', node: 'v20.20.2', calibration: 212 }
 */
export function measureCapabilities(): NodeCapabilities {
  return { cores: availableParallelism(), memoryMb: Math.round(totalmem() / 2 ** 20), arch: arch(), node: process.version, calibration: calibrate(50) };
}

function calibrate(ms: number): number {
  let n = 0;
  let x = 1;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 100_000; i++) x = (x * 1_103_515_245 + 12_345) | 0;
    n += 100_000;
    elapsed = performance.now() - start;
  }
  // Keeps `x` alive so the loop cannot be optimised away.
  return Math.round(n / elapsed / 1000) + (x === 0.5 ? 1 : 0);
}
