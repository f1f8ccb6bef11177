/** What both sides of the link benchmark share: the event, the MQTT connect, the clock. */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { ChannelFrameStore } from '../../shared/link/index.ts';

export const payload = { device: 'plug-00042', w: 812.4, kwh: 42.318771, house: 1, seq: 0, pad: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' };
export const EVENT_BYTES = JSON.stringify(payload).length;

/**
 * A client as the benchmark's parts use it; `channel` gives it the store the runtime's clients
 * have (connectWithBackoff), which does not keep copies of data frames for mqtt.js to resend.
 */
export async function connect(url: string, id: string, channel = false): Promise<MqttClient> {
  const store = channel ? new ChannelFrameStore() : undefined;
  const client = await mqtt.connectAsync(url, { clientId: id, reconnectPeriod: 0, ...(store ? { outgoingStore: store } : {}) });
  store?.attach(client);
  return client;
}

/** Wall-clock ms with sub-ms resolution, comparable between processes on one machine. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** Seconds the paced phase runs before it measures (BENCH_LAT_WARMUP_S, default 2): the JIT is still compiling. */
export const warmupSeconds = (): number => Number(process.env.BENCH_LAT_WARMUP_S ?? 2);

/** Latencies in 0.05 ms bins up to 2 s (the last bin takes the rest): fixed memory at any rate. */
export class LatencyHistogram {
  private readonly bins = new Uint32Array(40_000);
  private n = 0;

  get count(): number {
    return this.n;
  }

  add(ms: number): void {
    this.bins[Math.min(this.bins.length - 1, Math.max(0, Math.floor(ms * 20)))]!++;
    this.n++;
  }

  /** The upper edge of the bin holding quantile `p`, or undefined with no samples. */
  quantile(p: number): number | undefined {
    if (this.n === 0) return undefined;
    const want = Math.floor(p * this.n);
    let seen = 0;
    for (let b = 0; b < this.bins.length; b++) {
      seen += this.bins[b]!;
      if (seen > want) return (b + 1) / 20;
    }
    return undefined;
  }
}

/** What stalled this process's event loop while watched: its delay and the GC pauses, in ms. */
export interface Stalls { loopP99: number; loopMax: number; gcCount: number; gcP99: number; gcMax: number; gcTotal: number }

/** Starts watching this process's event-loop delay and GC pauses; `stop()` ends it and tells. */
export function watchStalls(): { stop(): Stalls } {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const gcPauses: number[] = [];
  const gc = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcPauses.push(e.duration); });
  gc.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      loop.disable();
      gc.disconnect();
      gcPauses.sort((x, y) => x - y);
      return { loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6, gcCount: gcPauses.length, gcP99: gcPauses[Math.floor(0.99 * gcPauses.length)] ?? 0, gcMax: gcPauses.at(-1) ?? 0, gcTotal: gcPauses.reduce((a, b) => a + b, 0) };
    },
  };
}

/** The stalls, as the benchmark prints them. */
export function describeStalls(who: string, st: Stalls): string {
  return `${who} event loop delay p99 ${st.loopP99.toFixed(1)} ms, max ${st.loopMax.toFixed(1)} ms; ${st.gcCount} GC pauses, p99 ${st.gcP99.toFixed(1)} ms, max ${st.gcMax.toFixed(1)} ms, ${st.gcTotal.toFixed(0)} ms in all`;
}
