/**
 * The persisted ack cursor: the highest acked seq, the head (first seq still readable, which
 * also covers evictions) and the log's epoch (which incarnation of the directory its seqs
 * belong to). Written by atomic replace — temp file, fsync, rename, fsync of the directory —
 * so a crash leaves the old cursor or the new one, never half of one.
 */
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { FileLayer } from './file-layer.ts';

export const CURSOR_FILE = 'ack.cursor';
const MAGIC = 0x55434c53; // "SLCU"
/** Version 1 (32 bytes) had no epoch: its logs are epoch 0. Version 2 is 40 bytes. */
const BYTES_V1 = 32;
const BYTES = 40;

export interface Cursor {
  readonly acked: number;
  readonly head: number;
  readonly epoch: number;
}

export function encodeCursor(c: Cursor): Buffer {
  const b = Buffer.alloc(BYTES);
  b.writeUInt32LE(MAGIC, 0);
  b.writeUInt32LE(2, 4);
  b.writeDoubleLE(c.acked, 8);
  b.writeDoubleLE(c.head, 16);
  b.writeDoubleLE(c.epoch, 24);
  b.writeUInt32LE(crc32(b.subarray(0, 32)), 32);
  return b;
}

/** The cursor in `bytes` (version 1 or 2), or undefined when they are not a whole, intact cursor. */
export function decodeCursor(bytes: Uint8Array): Cursor | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.byteLength < 8 || b.readUInt32LE(0) !== MAGIC) return undefined;
  const version = b.readUInt32LE(4);
  const crcAt = version === 1 ? 24 : 32;
  if (!(version === 1 && b.byteLength === BYTES_V1) && !(version === 2 && b.byteLength === BYTES)) return undefined;
  if (crc32(b.subarray(0, crcAt)) !== b.readUInt32LE(crcAt)) return undefined;
  const acked = b.readDoubleLE(8);
  const head = b.readDoubleLE(16);
  const epoch = version === 1 ? 0 : b.readDoubleLE(24);
  if (![acked, head, epoch].every(Number.isSafeInteger) || acked < 0 || head < 1 || epoch < 0) return undefined;
  return { acked, head, epoch };
}

/** Writes the cursor into `dir` by atomic replace. Throws the file layer's error. */
export async function writeCursor(fs: FileLayer, dir: string, c: Cursor): Promise<void> {
  const tmp = join(dir, `${CURSOR_FILE}.tmp`);
  const f = await fs.open(tmp, 'w');
  try {
    await f.writev([encodeCursor(c)], 0);
    await f.sync();
  } finally {
    await f.close();
  }
  await fs.rename(tmp, join(dir, CURSOR_FILE));
  await fs.syncDir(dir);
}

export type CursorRead = { readonly type: 'none' } | { readonly type: 'ok'; readonly cursor: Cursor } | { readonly type: 'bad'; readonly why: string };

/** Reads the cursor; a missing file is `none`, an unreadable or damaged one is `bad`. */
export async function readCursor(fs: FileLayer, dir: string): Promise<CursorRead> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(join(dir, CURSOR_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { type: 'none' };
    return { type: 'bad', why: String((err as Error).message) };
  }
  const cursor = decodeCursor(bytes);
  return cursor ? { type: 'ok', cursor } : { type: 'bad', why: `damaged (${bytes.byteLength} bytes)` };
}
