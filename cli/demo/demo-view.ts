import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeStatus } from '../../shared/wire/index.ts';

export interface GatewayView {
  readonly id: string;
  readonly dataDir: string;
  /** The gateway's own status, read from its local broker (so it is there while cut off). */
  status: NodeStatus | undefined;
  cutSince: number | undefined;
}

interface HouseRow { house: number; windowStart: number; totalW: number; plugs: number; revision: number }

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** The newest revision of each house's windows in the cloud's results file. */
export function houseTotals(file: string): Map<string, HouseRow> {
  const out = new Map<string, HouseRow>();
  for (const l of lines(file)) {
    const r = JSON.parse(l) as HouseRow;
    const k = `${r.house}|${r.windowStart}`;
    const prev = out.get(k);
    if (!prev || r.revision >= prev.revision) out.set(k, r);
  }
  return out;
}

const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);
const num = (n: number) => n.toLocaleString('en-US');

/** One block of the live summary: each gateway, then the cloud's newest house totals. */
export function renderSummary(elapsedMs: number, gateways: readonly GatewayView[], app: string, cloudResults: string, alertsLimit = 1): string {
  const out: string[] = [`── ${Math.round(elapsedMs / 1000)} s ──`];
  for (const g of gateways) {
    const a = g.status?.apps?.find((x) => x.app === app);
    const channels = Object.values(a?.channels ?? {});
    const undelivered = channels.reduce((s, c) => s + (c.undelivered ?? c.backlog), 0);
    const held = channels.reduce((s, c) => s + c.backlog, 0) - undelivered;
    const link = g.cutSince !== undefined ? `UPLINK CUT ${Math.round((Date.now() - g.cutSince) / 1000)} s` : g.status?.uplink ? 'uplink up' : 'connecting';
    const alerts = lines(join(g.dataDir, 'apps', app, 'sinks', 'alerts.jsonl'));
    out.push(`  ${g.id.padEnd(5)} ${link.padEnd(16)} readings ${num(a?.eventsIn ?? 0).padStart(7)}   outbox ${num(undelivered).padStart(5)} undelivered + ${num(held).padStart(4)} kept until final   alerts ${alerts.length}`);
    for (const l of alerts.slice(-alertsLimit)) {
      const al = JSON.parse(l) as { plug: string; house: number; fromW: number; toW: number; ts: number };
      out.push(`        last alert: ${al.plug} in house ${al.house} jumped ${Math.round(al.fromW)} W -> ${Math.round(al.toW)} W at ${time(al.ts)}`);
    }
  }
  const totals = [...houseTotals(cloudResults).values()];
  const windows = [...new Set(totals.map((t) => t.windowStart))].sort((a, b) => a - b).slice(-2);
  if (windows.length === 0) out.push('  cloud: no house totals yet (the first window closes one window length after the start)');
  for (const w of windows) {
    const rows = totals.filter((t) => t.windowStart === w).sort((a, b) => a.house - b.house);
    out.push(`  cloud house totals ${time(w)}: ${rows.map((r) => `house ${r.house} ${num(Math.round(r.totalW))} W (${r.plugs} plugs${r.revision > 0 ? `, rev ${r.revision}` : ''})`).join('   ')}`);
  }
  return `${out.join('\n')}\n`;
}
