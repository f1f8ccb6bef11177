// The fleet benchmark's app (bench/fleet.ts): stateless, so a reading's latency is not a window's
// length. A map pinned to the edge stamps the gateway's clock `gw` as its fragment handles the
// reading; a map pinned to the cloud stamps the cloud worker's clock `at` just before the sink
// appends it. With the device's publish time `ts`, that splits the latency into device ->
// gateway and gateway -> cloud (one machine, one clock). `kwh` (six decimals, seeded per
// gateway) tells apart readings of two gateways' devices that share an id, seq and ts.
import { defineApp } from 'sluice';

interface Plug { id: string; seq: number; ts: number; kwh: number }

export default defineApp('fleet-bench', (app) => {
  app.source<Plug>('plugs', { format: 'json', topic: 'sim/plug/+', eventTime: 'ts', maxDelay: '1s' })
    .map((r) => ({ id: r.id, seq: r.seq, ts: r.ts, kwh: r.kwh, gw: Date.now() }))
    .place('edge')
    .name('at-gateway')
    .map((r) => ({ ...r, at: Date.now() }))
    .place('cloud')
    .name('at-cloud')
    .sink('readings');
});
