// The redeploy suite's app: every reading crosses to the cloud and is logged there, tagged
// with the deployed version's --param tag, so a test can find each reading and who logged it.
import { defineApp } from 'sluice';

interface Plug { id: string; seq: number; ts: number; w: number }

export default defineApp('plug-log', (app, params) => {
  const tag = params.string('tag', 'v1');
  app.source<Plug>('plugs', { format: 'json', topic: 'sim/plug/+', eventTime: 'ts', maxDelay: '1s' })
    .map((r) => ({ id: r.id, seq: r.seq, ts: r.ts, tag }))
    .place('cloud')
    .name('tagged')
    .sink('log');
});
