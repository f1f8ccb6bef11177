/**
 * Word count per event-time window (Storm's classic topology): splits a text stream into
 * lowercase words and counts each word per tumbling window. Lines may arrive out of order by up
 * to `maxDelay`; a window fires once the watermark passes its end.
 *
 *   sluice run examples/word-count.ts --in text=lines.jsonl --out counts=counts.jsonl \
 *     --param window=10s --param maxDelay=5s
 *   echo '{"ts":"2024-01-01T00:00:01Z","text":"Hello, hello world"}' | \
 *     sluice run examples/word-count.ts --in text=- --out counts=-
 *
 * Input, one JSON line per piece of text; `ts` is ms since the epoch or ISO-8601 text:
 *   {"ts":1704067201000,"text":"Hello, hello world"}
 * Output, one JSON line per word and window (bounds in ISO-8601 UTC, end exclusive):
 *   {"word":"hello","windowStart":"2024-01-01T00:00:00.000Z","windowEnd":"2024-01-01T00:00:10.000Z","count":2}
 * A word is a maximal run of Unicode letters, digits and apostrophes, lowercased, with leading
 * and trailing apostrophes removed ("'Tis" -> "tis", "don't" stays). The words of a line
 * that comes after its window has fired (later than `maxDelay`) go to the `late` sink, as
 * {"word":"hello","ts":1704067201000}; lines that are not JSON or lack `ts` or `text` go to the
 * dead-letter stream.
 */
import { defineApp, tumbling } from 'sluice';

export interface TextLine {
  ts: number | string;
  text: string;
}

const WORD = /[\p{L}\p{N}']+/gu;

/** The words of a text, lowercased, in order; the empty result for anything but a string. */
export function words(text: unknown): string[] {
  if (typeof text !== 'string') return [];
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(WORD)) {
    const w = m[0].replace(/^'+|'+$/g, '');
    if (w !== '') out.push(w);
  }
  return out;
}

export default defineApp('word-count', (app, params) => {
  const lines = app.source<TextLine>('text', {
    format: 'json',
    eventTime: 'ts',
    maxDelay: params.duration('maxDelay', '5s'),
    validate: (l) => (typeof l?.text === 'string' ? undefined : 'no "text" string'),
  });
  const counts = lines
    .flatMap((l) => words(l.text).map((word) => ({ word, ts: l.ts })))
    .keyBy((w) => w.word)
    .window(tumbling(params.duration('window', '10s')))
    .count()
    .name('words-per-window');
  counts
    .map((w) => ({
      word: w.key,
      windowStart: new Date(w.windowStart).toISOString(),
      windowEnd: new Date(w.windowEnd).toISOString(),
      count: w.value,
    }))
    .sink('counts');
  counts.late().sink('late');
});
