import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces `file` with `text` atomically: a temp file beside it, fsync, rename, fsync of the
 * directory. A crash leaves the old content or the new one, never half of either.
 *
 * @example
 * await writeFileAtomically('state/desired.json', JSON.stringify(desired));
 */
export async function writeFileAtomically(file: string, text: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  // Some file systems refuse fsync on a directory; their renames are already ordered.
  const dir = await open(dirname(file), 'r').catch(() => undefined);
  if (dir) { await dir.sync().catch(() => {}); await dir.close(); }
}

/**
 * Reads a JSON file written by `writeFileAtomically`: its value, `undefined` when there is no
 * file, or an Error saying what is wrong with it (the caller decides whether that is fatal).
 *
 * @example
 * const saved = await readJsonFile('state/desired.json');
 */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try { text = await readFile(file, 'utf8'); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return err as Error;
  }
  try { return JSON.parse(text); } catch (err) { return new Error(`${file} is not valid JSON: ${(err as Error).message}`); }
}
