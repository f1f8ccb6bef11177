// The fleet suite's app: per-house sum of load per window, over smart plugs on several gateways.
// Houses span gateways and the sum is decomposable, so the planner splits it: a partial sum
// per house and window at each gateway, merged in the cloud over every gateway's partials.
import { defineApp, tumbling } from 'sluice';

interface Plug { id: string; ts: number; house: number; w: number }

export default defineApp('plug-totals', (app, params) => {
  app.source<Plug>('plugs', { format: 'json', topic: 'sim/plug/+', eventTime: 'ts', maxDelay: params.duration('delay', '1s') })
    .keyBy((r) => r.house)
    .window(tumbling(params.duration('window', '1s')))
    .sum((r) => r.w)
    .name('house-totals')
    .sink('house-totals');
});
