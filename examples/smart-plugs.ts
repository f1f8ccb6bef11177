// Smart plugs across gateways, the DEBS 2014 shape: each gateway reads its own plugs and keeps
// the work that needs only them; the cloud adds up houses whose plugs span gateways.
//
//   at every gateway:  per-plug mean load per window           -> sink plug-means
//                      an alert when a plug's load jumps        -> sink alerts
//   in the cloud:      per-house total load (sum of plug means) -> sink house-totals
//
// Only one mean per plug and window crosses the uplink, not every reading. A gateway that was
// cut off sends its backlog when it returns: within the allowed lateness its plugs' means
// update the house totals already emitted (a higher revision), so the totals catch up.
//
//   sluice deploy examples/smart-plugs.ts --param window=10s
import { defineApp, tumbling } from 'sluice';

export interface PlugReading { id: string; seq: number; ts: number; house: number; household: number; plug: number; w: number }
export interface PlugMean { house: number; plug: string; meanW: number; windowStart: number }
export interface HouseTotal { house: number; windowStart: number; totalW: number; plugs: number; revision: number }
export interface JumpAlert { plug: string; house: number; ts: number; fromW: number; toW: number }

export default defineApp('smart-plugs', (app, params) => {
  const window = params.duration('window', '1m');
  const jumpW = params.number('jump', 1000);
  const plugs = app.source<PlugReading>('plugs', {
    format: 'json', topic: 'sim/plug/+', eventTime: 'ts', maxDelay: params.duration('delay', '2s'),
    validate: (r) => (typeof r.w === 'number' && Number.isFinite(r.w) && typeof r.house === 'number' ? undefined : 'needs numbers w and house'),
  });

  const means = plugs
    .keyBy((r) => `${r.house}/${r.id}`)
    .window(tumbling(window))
    .mean((r) => r.w)
    .place('edge')
    .name('plug-mean')
    .map((m): PlugMean => ({ house: Number(String(m.key).split('/')[0]), plug: String(m.key).split('/')[1]!, meanW: m.value, windowStart: m.windowStart }))
    .name('plug-mean-row');
  means.sink('plug-means');

  means
    .keyBy((m) => m.house)
    .window(tumbling(window), { allowedLateness: params.duration('lateness', '10m') })
    .aggregate({
      create: () => ({ sum: 0, plugs: 0 }),
      add: (acc, m: PlugMean) => ({ sum: acc.sum + m.meanW, plugs: acc.plugs + 1 }),
      merge: (a, b) => ({ sum: a.sum + b.sum, plugs: a.plugs + b.plugs }),
      result: (acc) => acc,
    })
    .place('cloud')
    .name('house-total')
    .map((t): HouseTotal => ({ house: Number(t.key), windowStart: t.windowStart, totalW: Math.round(t.value.sum * 10) / 10, plugs: t.value.plugs, revision: t.revision }))
    .name('house-total-row')
    .sink('house-totals');

  plugs
    .keyBy((r) => `${r.house}/${r.id}`)
    .process<{ w: number }, JumpAlert>({
      onEvent: (r, ctx) => {
        const last = ctx.state();
        if (last !== undefined && r.w - last.w >= jumpW) ctx.emit({ plug: r.id, house: r.house, ts: r.ts, fromW: last.w, toW: r.w });
        ctx.setState({ w: r.w });
      },
    })
    .place('edge')
    .name('jump-alert')
    .sink('alerts');
});
