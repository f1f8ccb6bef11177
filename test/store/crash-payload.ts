/** The payload the crash writer appends as its i-th record of run `run`: checkable by content alone. */
export function crashPayload(run: number, i: number): Uint8Array {
  let x = (run * 1_000_003 + i * 7919 + 1) >>> 0;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const out = new Uint8Array(8 + (next() % 300));
  const view = new DataView(out.buffer);
  view.setUint32(0, run);
  view.setUint32(4, i);
  for (let k = 8; k < out.length; k++) out[k] = next() & 0xff;
  return out;
}

/** The priority the crash writer gives its i-th record: every 8th is kept longest. */
export function crashPriority(i: number): number {
  return i % 8 === 0 ? 9 : 0;
}
