/**
 * RFC 4180 CSV, one record per line: quoted fields with "" escapes and commas inside quotes.
 * (A quoted field spanning lines is not supported: the line is rejected with a reason.)
 */
export function splitCsvLine(line: string): string[] | string {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    if (line.charCodeAt(i) === 34 /* " */) {
      let field = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return 'unterminated quoted field';
        field += line.slice(i, q);
        if (line.charCodeAt(q + 1) === 34) { field += '"'; i = q + 2; continue; }
        i = q + 1;
        break;
      }
      out.push(field);
      if (i === n) return out;
      if (line.charCodeAt(i) !== 44 /* , */) return `unexpected character after a quoted field at column ${i + 1}`;
      i++;
    } else {
      const c = line.indexOf(',', i);
      if (c < 0) { out.push(line.slice(i)); return out; }
      out.push(line.slice(i, c));
      i = c + 1;
    }
  }
}

const NUMERIC = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** A CSV field as a value: numbers become numbers, everything else stays text. */
export function csvValue(field: string): string | number {
  return NUMERIC.test(field) ? Number(field) : field;
}
