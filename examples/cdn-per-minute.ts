/**
 * Per-client, per-minute request and byte counts from web-server access logs (the Flink CDN
 * talk's example). Log lines arrive out of order; event time comes from each line's timestamp.
 *
 *   sluice run examples/cdn-per-minute.ts --in logs=access.log --out results=per-minute.jsonl \
 *     --param maxDelay=60s --param lateness=0
 *
 * Output, one JSON line per client and minute:
 *   {"client":"83.149.9.216","windowStart":"2015-05-17T10:05:00.000Z","windowEnd":"2015-05-17T10:06:00.000Z","requests":23,"bytes":2381941}
 * With allowed lateness, a late line re-emits its window with "revision": 1, 2, ...
 * Lines later than that go to the `late` sink; unparsable lines to the dead-letter stream.
 */
import { defineApp, tumbling } from 'sluice';

export interface Request {
  client: string;
  time: number;
  status: number;
  bytes: number;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
// host ident user [dd/Mon/yyyy:HH:MM:SS +zzzz] "request" status bytes ...
const LINE = /^(\S+) \S+ \S+ \[(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\] "[^"]*" (\d{3}) (\d+|-)/;

/** Parses one Apache/NCSA combined (or common) log line; throws with the reason otherwise. */
export function parseAccessLog(line: string): Request {
  const m = LINE.exec(line);
  if (!m) throw new Error('not an Apache/NCSA access log line');
  const month = MONTHS[m[3]!];
  if (month === undefined) throw new Error(`unknown month "${m[3]}"`);
  const offsetMin = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
  const time = Date.UTC(Number(m[4]), month, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7])) - offsetMin * 60_000;
  return { client: m[1]!, time, status: Number(m[11]), bytes: m[12] === '-' ? 0 : Number(m[12]) };
}

export default defineApp('cdn-per-minute', (app, params) => {
  const requests = app.source<Request>('logs', {
    parse: parseAccessLog,
    eventTime: 'time',
    maxDelay: params.duration('maxDelay', '60s'),
  });
  const perMinute = requests
    .keyBy((r) => r.client)
    .window(tumbling('1m'), { allowedLateness: params.duration('lateness', 0) })
    .aggregate({
      create: () => ({ requests: 0, bytes: 0 }),
      add: (acc, r) => { acc.requests += 1; acc.bytes += r.bytes; return acc; },
      merge: (a, b) => ({ requests: a.requests + b.requests, bytes: a.bytes + b.bytes }),
      result: (acc) => ({ ...acc }),
    })
    .name('per-client-minute');
  perMinute
    .map((w) => ({
      client: w.key,
      windowStart: new Date(w.windowStart).toISOString(),
      windowEnd: new Date(w.windowEnd).toISOString(),
      requests: w.value.requests,
      bytes: w.value.bytes,
      ...(w.revision > 0 ? { revision: w.revision } : {}),
    }))
    .sink('results');
  perMinute.late().sink('late');
});
