import { existsSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { ConfigError, describeError, SluiceError } from '../shared/errors.ts';
import { cloudPartitioning, planApp } from '../shared/planner/index.ts';
import { artifactHash, loadArtifact } from '../shared/runtime/index.ts';
import { writeFileAtomically } from '../shared/store/index.ts';
import {
  artifactTopic, checkTopicName, decodeStatus, encodeControl, MAX_PARTITIONS, nodeDesiredTopic, nodeFilter, parseTopic, partFinalTopic,
  type DesiredApp, type DesiredState,
} from '../shared/wire/index.ts';
import { assignPartitions } from './partition-assignment.ts';
import { Registry, type AppRecord, type NodeRecord } from './registry.ts';
import { parseSelector, selectorMatches } from './selector.ts';

export interface CoordinatorOptions {
  /** Where the registry and artifacts live. */
  readonly dataDir: string;
  /** Connected (or connecting) to the cloud's broker. */
  readonly client: MqttClient;
  /** How long after starting a worker not heard from counts as gone (default `STATUS_GRACE_MS`). */
  readonly statusGraceMs?: number;
  readonly log?: (line: string) => void;
}

export interface DeployRequest {
  /** The artifact's bytes (built by `sluice build`). */
  readonly bytes: Uint8Array;
  /** sha256 the client computed: the upload is refused when the bytes do not match it. */
  readonly hash?: string;
  readonly selector?: string;
  readonly params?: Readonly<Record<string, string>>;
  /** Partitions of a keyed cloud part (default `DEFAULT_PARTITIONS`); fixed once the app is deployed. */
  readonly partitions?: number;
}

/** An app with where it runs. */
export interface AppView extends Omit<AppRecord, 'owners'> {
  readonly gateways: readonly string[];
  readonly partitions: number;
  /** The cloud worker running each partition of the cloud part. */
  readonly owners: readonly (string | null)[];
}

/** Nodes republish their status every 2 s: five rounds without one from a worker means it is gone. */
export const STATUS_GRACE_MS = 10_000;

/** Partitions a keyed cloud part gets when the deploy does not say. */
export const DEFAULT_PARTITIONS = 4;

/** Artifacts larger than this are refused: an app, not a data set. */
export const MAX_ARTIFACT_BYTES = 16 * 1024 * 1024;

/**
 * The coordinator: keeps the registry of nodes and apps on its own disk, stores artifacts and
 * keeps each one retained on the broker under its hash, places each deployed app (the edge
 * part on every gateway its selector matches, the partitions of the cloud part over the cloud
 * workers online, moved off a worker whose last-will says it died), and publishes every node's
 * desired state, retained. Nodes register by their retained status;
 * one that joins later and matches a selector gets the app. Losing the coordinator stops
 * deploys, never the data plane.
 *
 * @example
 * const coord = await Coordinator.open({ dataDir, client });
 * await coord.deploy({ bytes, selector: 'site=plant-7' });
 */
export class Coordinator {
  private readonly published = new Map<string, string>();
  /** Nodes whose status this coordinator has read since it started. */
  private readonly heard = new Set<string>();
  /**
   * Set once the nodes have had time to be heard from after the coordinator started: a worker
   * still unheard then is taken as gone (a broker restarted without persistence forgets the
   * last-will it left), and its partitions move.
   */
  private graceOver = false;
  private graceTimer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly onMessage: (topic: string, payload: Buffer) => void;
  private readonly onConnect: () => void;
  /** Status messages refused (bad JSON or shape, or a node id not matching its topic). */
  rejectedStatus = 0;

  private constructor(private readonly o: CoordinatorOptions, private readonly registry: Registry) {
    this.onMessage = (topic, payload) => this.onStatus(topic, payload);
    this.onConnect = () => {
      o.client.subscribe(nodeFilter('status'), { qos: 1 });
      this.graceTimer ??= setTimeout(() => { this.graceOver = true; void this.serial(() => this.publishAll(false)); }, o.statusGraceMs ?? STATUS_GRACE_MS).unref();
      // After a reconnect (or a broker restart without persistence) retained state may be gone.
      this.published.clear();
      void this.serial(() => this.publishAll(true));
    };
  }

  static async open(o: CoordinatorOptions): Promise<Coordinator> {
    const c = new Coordinator(o, await Registry.open(o.dataDir));
    o.client.on('message', c.onMessage);
    o.client.on('connect', c.onConnect);
    if (o.client.connected) c.onConnect();
    return c;
  }

  private get data() { return this.registry.data; }
  private artifactPath(hash: string): string { return join(this.o.dataDir, 'artifacts', `${hash}.mjs`); }

  /** Runs mutations one at a time, so deploys, undeploys and joins never interleave. */
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.chain.then(f);
    this.chain = p.catch(() => {});
    return p;
  }

  /**
   * Validates, stores, places and deploys an app. Refuses — changing nothing — an artifact whose
   * bytes do not match the given hash, one that does not load or whose graph does not validate,
   * and a selector that matches no gateway.
   */
  deploy(req: DeployRequest): Promise<{ app: AppView; replaced: number | undefined }> {
    return this.serial(async () => {
      if (req.bytes.length === 0 || req.bytes.length > MAX_ARTIFACT_BYTES) {
        throw new ConfigError('DEPLOY_BAD_SIZE', `the artifact is ${req.bytes.length} bytes; it must be 1..${MAX_ARTIFACT_BYTES}`, { fix: 'deploy the .mjs file `sluice build` wrote' });
      }
      const hash = artifactHash(req.bytes);
      if (req.hash !== undefined && req.hash !== hash) {
        throw new ConfigError('DEPLOY_HASH_MISMATCH', `the artifact's sha256 is ${hash}, not ${req.hash} as the upload said`, { fix: 'the file changed or was damaged on the way: build and deploy it again' });
      }
      const selector = parseSelector(req.selector);
      const params = { ...(req.params ?? {}) };
      const path = this.artifactPath(hash);
      const known = existsSync(path);
      if (!known) await writeFileAtomically(path, req.bytes);
      let name: string;
      let placement: AppRecord['placement'];
      let partitioning: { byKey: boolean; reason: string };
      try {
        const def = await loadArtifact(path, hash);
        name = def.name;
        const problem = checkTopicName(name);
        if (problem !== undefined || name === 'node' || name === 'artifact') {
          throw new ConfigError('DEPLOY_BAD_NAME', `app name ${JSON.stringify(name)} ${problem ?? 'is reserved'}`, { fix: "rename it in defineApp('name', ...)" });
        }
        // Building the graph validates it with these params: mistakes are refused here.
        const plan = planApp(def.graph(params));
        placement = plan.operators.map((op) => ({ id: op.id, where: op.where, reason: op.reason }));
        partitioning = cloudPartitioning(plan);
      } catch (err) {
        if (!known && !this.hashInUse(hash)) await unlink(path).catch(() => {});
        if (err instanceof SluiceError) throw err;
        throw new ConfigError('DEPLOY_INVALID', `the app does not load: ${describeError(err)}`, { fix: 'run it locally with `sluice run` to see the problem' });
      }
      const gateways = this.gateways().filter((n) => selectorMatches(selector, n));
      if (gateways.length === 0) {
        if (!known && !this.hashInUse(hash)) await unlink(path).catch(() => {});
        const existing = this.gateways().map((g) => `${g.id} [${g.tags.join(' ')}]`).join(', ') || 'none registered yet';
        throw new ConfigError('DEPLOY_NO_GATEWAY', `gateway selector "${selector.text}" matches no gateway`, { fix: `start a gateway with \`sluice edge\`, or pick tags or ids that exist: ${existing}` });
      }
      const previous = this.data.apps[name];
      const partitions = partitionCount(req.partitions, partitioning, previous);
      if (typeof partitions !== 'number') {
        if (!known && !this.hashInUse(hash)) await unlink(path).catch(() => {});
        throw new ConfigError('DEPLOY_PARTITIONS', partitions.refused, { fix: partitions.fix });
      }
      const record: AppRecord = {
        name, version: (previous?.version ?? 0) + 1, hash, bytes: req.bytes.length, selector: selector.text, params, deployedAt: Date.now(),
        ...(placement ? { placement } : {}), partitions, partitioning: partitioning.reason,
        owners: previous?.partitions === partitions ? previous.owners ?? [] : [],
      };
      this.data.apps[name] = record;
      this.data.revision++;
      await this.registry.save();
      // A new app of a name used before starts afresh: no partition resumes at a final watermark a
      // worker of the old one saved (even one that saved it after the undeploy cleared it).
      // Published before the desired states, on the same client, so the broker has it first.
      if (!previous) for (let p = 0; p < partitions; p++) this.o.client.publish(partFinalTopic(name, p), Buffer.alloc(0), { qos: 1, retain: true });
      this.publishArtifact(hash, req.bytes);
      if (previous && previous.hash !== hash) await this.dropArtifact(previous.hash);
      await this.publishAll(false);
      this.o.log?.(`deployed ${name} v${record.version} (${hash.slice(0, 12)}) to ${gateways.map((g) => g.id).join(', ')}`);
      return { app: this.view(record), replaced: previous?.version };
    });
  }

  /** Stops an app everywhere; every node removes its state. */
  undeploy(name: string): Promise<AppRecord> {
    return this.serial(async () => {
      const app = this.data.apps[name];
      if (!app) {
        throw new ConfigError('DEPLOY_NO_APP', `no app named "${name}" is deployed`, { fix: `see \`sluice apps\`; deployed: ${Object.keys(this.data.apps).join(', ') || 'none'}` });
      }
      delete this.data.apps[name];
      this.data.revision++;
      await this.registry.save();
      await this.publishAll(false);
      await this.dropArtifact(app.hash);
      // Where each partition's results were final goes too: a later deploy starts afresh.
      for (let p = 0; p < (app.partitions ?? 1); p++) this.o.client.publish(partFinalTopic(name, p), Buffer.alloc(0), { qos: 1, retain: true });
      this.o.log?.(`undeployed ${name}`);
      return app;
    });
  }

  nodes(): NodeRecord[] { return Object.values(this.data.nodes).sort((a, b) => a.id.localeCompare(b.id)); }

  apps(): AppView[] { return Object.values(this.data.apps).sort((a, b) => a.name.localeCompare(b.name)).map((a) => this.view(a)); }

  private view(app: AppRecord): AppView {
    const sel = parseSelector(app.selector);
    const partitions = app.partitions ?? 1;
    return {
      ...app, gateways: this.gateways().filter((n) => selectorMatches(sel, n)).map((n) => n.id),
      partitions, owners: Array.from({ length: partitions }, (_, p) => app.owners?.[p] ?? null),
    };
  }

  private gateways(): NodeRecord[] { return this.nodes().filter((n) => n.role === 'edge'); }

  private workers(): NodeRecord[] { return this.nodes().filter((n) => n.role === 'cloud'); }

  /**
   * Gives every partition of every cloud part an online worker (see assignPartitions): a
   * worker's last-will moves its partitions to the others. Returns whether an owner changed.
   */
  private assign(): boolean {
    const workers = this.workers();
    const online = workers.filter((w) => w.online && this.heard.has(w.id)).map((w) => w.id);
    const unheard = this.graceOver ? [] : workers.filter((w) => !this.heard.has(w.id)).map((w) => w.id);
    const apps = Object.values(this.data.apps);
    const next = assignPartitions(apps.map((a) => ({ app: a.name, partitions: a.partitions ?? 1, owners: a.owners ?? [] })), online, unheard);
    let changed = false;
    for (const a of apps) {
      const owners = next.get(a.name)!;
      if (JSON.stringify(owners) === JSON.stringify(a.owners ?? [])) continue;
      this.o.log?.(`${a.name}: partitions ${owners.map((w, p) => `${p}→${w ?? 'none'}`).join(' ')}`);
      a.owners = owners;
      changed = true;
    }
    return changed;
  }

  private hashInUse(hash: string): boolean { return Object.values(this.data.apps).some((a) => a.hash === hash); }

  private desiredFor(node: NodeRecord): DesiredApp[] {
    const apps = Object.values(this.data.apps).sort((a, b) => a.name.localeCompare(b.name));
    if (node.role === 'cloud') {
      // Every worker holds every app (its sink files stay there), running the partitions it owns.
      return apps.map((a) => {
        const v = this.view(a);
        return { ...desiredApp(a), producers: v.gateways, owned: v.owners.flatMap((w, p) => (w === node.id ? [p] : [])) };
      });
    }
    return apps.filter((a) => selectorMatches(parseSelector(a.selector), node)).map(desiredApp);
  }

  /** Publishes each node's desired state that changed since it was last published (all when `force`). */
  private async publishAll(force: boolean): Promise<void> {
    if (this.assign()) {
      this.data.revision++;
      await this.registry.save();
    }
    if (force) {
      for (const a of Object.values(this.data.apps)) {
        const bytes = await readFile(this.artifactPath(a.hash)).catch(() => undefined);
        if (bytes) this.publishArtifact(a.hash, bytes);
      }
    }
    for (const node of this.nodes()) {
      const apps = this.desiredFor(node);
      const key = JSON.stringify(apps);
      if (!force && this.published.get(node.id) === key) continue;
      this.published.set(node.id, key);
      const desired: DesiredState = { type: 'desired', node: node.id, revision: this.data.revision, apps };
      this.o.client.publish(nodeDesiredTopic(node.id), Buffer.from(encodeControl(desired)), { qos: 1, retain: true });
    }
  }

  private publishArtifact(hash: string, bytes: Uint8Array): void {
    this.o.client.publish(artifactTopic(hash), Buffer.from(bytes), { qos: 1, retain: true });
  }

  private async dropArtifact(hash: string): Promise<void> {
    if (this.hashInUse(hash)) return;
    // An empty retained message clears the retained one (MQTT 3.1.1 §3.3.1.3).
    this.o.client.publish(artifactTopic(hash), Buffer.alloc(0), { qos: 1, retain: true });
    await unlink(this.artifactPath(hash)).catch(() => {});
  }

  private onStatus(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (!t.ok || t.topic.type !== 'node-status' || payload.length === 0) return;
    const r = decodeStatus(payload);
    if (!r.ok || r.message.node !== t.topic.node) { this.rejectedStatus++; return; }
    const s = r.message;
    void this.serial(async () => {
      const old = this.data.nodes[s.node];
      const changed = !old || old.role !== s.role || JSON.stringify(old.tags) !== JSON.stringify(s.tags);
      const onlineChanged = old !== undefined && old.online !== s.online;
      const rec: NodeRecord = old ?? { id: s.node, role: s.role, tags: s.tags, online: s.online, firstSeen: Date.now(), lastSeen: Date.now() };
      rec.role = s.role; rec.tags = s.tags; rec.online = s.online; rec.lastSeen = Date.now();
      if (s.capabilities) rec.capabilities = s.capabilities;
      if (s.applied !== undefined) rec.applied = s.applied;
      if (s.apps) rec.apps = s.apps;
      this.data.nodes[s.node] = rec;
      const firstHeard = !this.heard.has(s.node);
      this.heard.add(s.node);
      if (changed) {
        this.data.revision++;
        this.o.log?.(`${old ? 'node changed' : 'node joined'}: ${s.node} (${s.role}${s.tags.length ? `, ${s.tags.join(' ')}` : ''})`);
      }
      if (changed || onlineChanged) await this.registry.save();
      // A worker going or coming (or first heard of) may move partitions.
      if (changed || (s.role === 'cloud' && (onlineChanged || firstHeard))) await this.publishAll(false);
    });
  }

  async close(): Promise<void> {
    clearTimeout(this.graceTimer);
    this.o.client.removeListener('message', this.onMessage);
    this.o.client.removeListener('connect', this.onConnect);
    await this.chain;
    await this.registry.save();
  }
}

function desiredApp(a: AppRecord): DesiredApp {
  return { app: a.name, version: a.version, hash: a.hash, params: a.params, producers: [], partitions: a.partitions ?? 1 };
}

/**
 * The partitions an app's cloud part gets: as asked (default `DEFAULT_PARTITIONS`) when its
 * channels into the cloud are keyed, else 1. A redeploy keeps the count the app runs with,
 * since the gateways' outboxes are cut by it; `refused` says why a request cannot be met.
 */
function partitionCount(asked: number | undefined, p: { byKey: boolean; reason: string }, previous: AppRecord | undefined): number | { refused: string; fix: string } {
  if (asked !== undefined && !(Number.isInteger(asked) && asked >= 1 && asked <= MAX_PARTITIONS)) {
    return { refused: `--partitions ${asked} is not a whole number 1..${MAX_PARTITIONS}`, fix: 'give a count such as 4' };
  }
  if (!previous) return p.byKey ? asked ?? DEFAULT_PARTITIONS : 1;
  const runs = previous.partitions ?? 1;
  const fix = `undeploy ${previous.name} first to change it (what its gateways buffer goes with it)`;
  if (asked !== undefined && asked !== runs) return { refused: `${previous.name} runs with ${runs} partition(s); a redeploy keeps that count, since the gateways' outboxes are cut by it`, fix };
  if (runs > 1 && !p.byKey) return { refused: `${previous.name} runs with ${runs} partitions, but this version's cloud part cannot be split: ${p.reason}`, fix };
  return runs;
}
