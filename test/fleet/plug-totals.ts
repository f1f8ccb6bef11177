// The fleet suite's app: per-house total load per window, over smart plugs on several gateways.
// Houses span gateways, so the window runs in the cloud over every gateway's readings.
import { defineApp, tumbling } from 'sluice';

interface Plug { id: string; ts: number; house: number; w: number }

export default defineApp('plug-totals', (app, params) => {
  app.source<Plug>('plugs', { format: 'json', topic: 'sim/plug/+', eventTime: 'ts', maxDelay: params.duration('delay', '1s') })
    .keyBy((r) => r.house)
    .window(tumbling(params.duration('window', '1s')))
    .sum((r) => r.w)
    .place('cloud')
    .name('house-totals')
    .sink('house-totals');
});
