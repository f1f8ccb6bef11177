/**
 * A stable 32-bit hash of a key, the same in every process and on every architecture, so a
 * key lands on the same instance or channel partition wherever it is computed.
 */
export function hashKey(key: unknown): number {
  switch (typeof key) {
    case 'string': return fnv1a(key);
    case 'number': return Number.isInteger(key) && key >= 0 && key < 2 ** 31 ? mix(key) : fnv1a(String(key));
    case 'boolean': return key ? 1 : 0;
    case 'bigint': return fnv1a(key.toString());
    default: return fnv1a(JSON.stringify(key) ?? 'undefined');
  }
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mix(n: number): number {
  let h = Math.imul(n ^ (n >>> 16), 0x45d9f3b);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Which of `n` partitions a key belongs to. */
export function partitionOf(key: unknown, n: number): number {
  return n === 1 ? 0 : hashKey(key) % n;
}
