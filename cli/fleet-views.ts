import type { AppView, NodeRecord } from '../cloud/index.ts';
import { helpText, parseArgs, type FlagSpec } from './args.ts';
import { callCloud, DEFAULT_CLOUD_URL } from './cloud-client.ts';
import type { Io } from './io.ts';

const FLAGS: Record<string, FlagSpec> = {
  cloud: { type: 'string', value: 'URL', help: `the cloud's HTTP API (default ${DEFAULT_CLOUD_URL})` },
  json: { type: 'boolean', help: 'print JSON instead of a table' },
  help: { type: 'boolean', help: 'show this help' },
};

export const APPS_HELP = helpText('sluice apps [--cloud URL] [--json]', 'Lists deployed apps: version, artifact, selector, gateways, and the cloud workers with the\npartitions of the cloud part each runs.', FLAGS);
export const NODES_HELP = helpText('sluice nodes [--cloud URL] [--json]', 'Lists the nodes the cloud knows: role, online, tags, cores, memory and CPU calibration.', FLAGS);
export const STATUS_HELP = helpText('sluice status [--cloud URL] [--json]', 'Shows every node and, per app on it, its state, events in, dead letters and each channel\'s backlog.', FLAGS);

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

async function view(name: string, argv: readonly string[], io: Io, help: string, path: string, render: (json: any) => string): Promise<number> {
  const { flags } = parseArgs(name, argv, FLAGS);
  if (flags.help) { io.stdout.write(help); return 0; }
  const json = await callCloud<unknown>((flags.cloud as string | undefined) ?? DEFAULT_CLOUD_URL, 'GET', path);
  io.stdout.write(flags.json ? `${JSON.stringify(json)}\n` : render(json));
  return 0;
}

export const appsCommand = (argv: readonly string[], io: Io) => view('apps', argv, io, APPS_HELP, '/api/apps', (apps: AppView[]) =>
  apps.length === 0 ? 'no apps deployed; deploy one with `sluice deploy app.ts`\n' : table([
    ['APP', 'VERSION', 'ARTIFACT', 'GATEWAYS', 'SELECTOR', 'CLOUD', 'OPERATORS (edge / split / cloud)'],
    ...apps.map((a) => [a.name, `v${a.version}`, a.hash.slice(0, 12), a.gateways.join(',') || '-', a.selector, cloudWorkers(a), placementSummary(a)]),
  ]) + '`sluice plan app.ts` explains where each operator runs and why.\n');

/**
 * Which worker runs which partitions of an app's cloud part.
 *
 * @example
 * cloudWorkers(app) // 'cloud-0 (0,2) w-1 (1,3)'
 */
export function cloudWorkers(a: Pick<AppView, 'owners'>): string {
  const by = new Map<string, number[]>();
  for (const [p, w] of a.owners.entries()) if (w !== null) by.set(w, [...(by.get(w) ?? []), p]);
  if (by.size === 0) return '-';
  if (a.owners.length === 1) return [...by.keys()][0]!;
  return [...by].map(([w, ps]) => `${w} (${ps.join(',')})`).join(' ');
}

function placementSummary(a: AppView): string {
  const p = a.placement ?? [];
  const n = (w: string) => p.filter((o) => o.where === w).length;
  return p.length === 0 ? '-' : `${n('edge')} / ${n('split')} / ${n('cloud')}`;
}

export const nodesCommand = (argv: readonly string[], io: Io) => view('nodes', argv, io, NODES_HELP, '/api/nodes', (nodes: NodeRecord[]) =>
  nodes.length === 0 ? 'no nodes yet; start a gateway with `sluice edge`\n' : table([
    ['NODE', 'ROLE', 'STATE', 'TAGS', 'CORES', 'MEMORY', 'CPU', 'LAST SEEN'],
    ...nodes.map((n) => [n.id, n.role, n.online ? 'online' : 'offline', n.tags.join(',') || '-', String(n.capabilities?.cores ?? '?'),
      n.capabilities ? `${n.capabilities.memoryMb} MB` : '?', String(n.capabilities?.calibration ?? '?'), new Date(n.lastSeen).toISOString()]),
  ]));

export const statusCommand = (argv: readonly string[], io: Io) => view('status', argv, io, STATUS_HELP, '/api/status', (s: { nodes: NodeRecord[] }) => {
  const rows: string[][] = [['NODE', 'STATE', 'APP', 'APP STATE', 'EVENTS IN', 'PER S', 'DEAD LETTERS', 'CHANNEL', 'BACKLOG', 'UNDELIVERED', 'SENT']];
  for (const n of s.nodes) {
    const apps = n.apps ?? [];
    if (apps.length === 0) rows.push([n.id, n.online ? 'online' : 'offline', '-', '-', '-', '-', '-', '-', '-', '-', '-']);
    for (const a of apps) {
      const channels = Object.entries(a.channels ?? {});
      const base = [n.id, n.online ? 'online' : 'offline', `${a.app} v${a.version}`, a.state === 'failed' ? `failed: ${a.error ?? ''}` : a.partitions ? `${a.state}, partitions ${a.partitions.join(',') || 'none'}` : a.state, String(a.eventsIn ?? '-'), String(a.eventsPerSecond ?? '-'), String(a.deadLetters ?? '-')];
      if (channels.length === 0) rows.push([...base, '-', '-', '-', '-']);
      for (const [name, c] of channels) rows.push([...base, name, String(c.backlog), String(c.undelivered ?? '-'), String(c.sent)]);
    }
  }
  return table(rows);
});
