import type { Readable } from 'node:stream';

/**
 * Reads a byte stream as lines (LF or CRLF), handing them over one chunk at a time so that a
 * batch is whatever one read returned. Invalid UTF-8 becomes U+FFFD rather than an error.
 */
export async function* readLineBatches(stream: Readable): AsyncGenerator<string[]> {
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  for await (const chunk of stream) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true }));
    const lines = text.split('\n');
    rest = lines.pop()!;
    if (lines.length > 0) yield stripCr(lines);
  }
  rest += decoder.decode();
  if (rest.length > 0) yield stripCr([rest]);
}

function stripCr(lines: string[]): string[] {
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1);
  }
  return lines;
}
