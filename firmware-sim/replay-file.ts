/** Reads a dataset file for replay (the only file access in the simulator). */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../shared/errors.ts';
import { parseReplay } from './replay.ts';
import type { ReplayData } from './replay.ts';

/**
 * Loads and parses a replay file.
 *
 * @example
 * const data = await loadReplay('/data/wsn-labelled/single-hop.csv');
 */
export async function loadReplay(path: string): Promise<ReplayData> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError('SIM_REPLAY_READ', `cannot read replay file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      where: path, fix: 'check the path passed to --replay', cause: err,
    });
  }
  return parseReplay(text, path);
}
