import { existsSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { ConfigError, describeError, SluiceError } from '../shared/errors.ts';
import { planApp } from '../shared/planner/index.ts';
import { artifactHash, loadArtifact } from '../shared/runtime/index.ts';
import { writeFileAtomically } from '../shared/store/index.ts';
import {
  artifactTopic, checkTopicName, decodeStatus, encodeControl, nodeDesiredTopic, nodeFilter, parseTopic,
  type DesiredApp, type DesiredState,
} from '../shared/wire/index.ts';
import { Registry, type AppRecord, type NodeRecord } from './registry.ts';
import { parseSelector, selectorMatches } from './selector.ts';

export interface CoordinatorOptions {
  /** Where the registry and artifacts live. */
  readonly dataDir: string;
  /** Connected (or connecting) to the cloud's broker. */
  readonly client: MqttClient;
  readonly log?: (line: string) => void;
}

export interface DeployRequest {
  /** The artifact's bytes (built by `sluice build`). */
  readonly bytes: Uint8Array;
  /** sha256 the client computed: the upload is refused when the bytes do not match it. */
  readonly hash?: string;
  readonly selector?: string;
  readonly params?: Readonly<Record<string, string>>;
}

/** An app with where it runs. */
export interface AppView extends AppRecord {
  readonly gateways: readonly string[];
  readonly worker: string | undefined;
}

/** Artifacts larger than this are refused: an app, not a data set. */
export const MAX_ARTIFACT_BYTES = 16 * 1024 * 1024;

/**
 * The coordinator: keeps the registry of nodes and apps on its own disk, stores artifacts and
 * keeps each one retained on the broker under its hash, places each deployed app (the edge
 * part on every gateway its selector matches, the cloud part on one cloud worker), and
 * publishes every node's desired state, retained. Nodes register by their retained status;
 * one that joins later and matches a selector gets the app. Losing the coordinator stops
 * deploys, never the data plane.
 *
 * @example
 * const coord = await Coordinator.open({ dataDir, client });
 * await coord.deploy({ bytes, selector: 'site=plant-7' });
 */
export class Coordinator {
  private readonly published = new Map<string, string>();
  private chain: Promise<unknown> = Promise.resolve();
  private readonly onMessage: (topic: string, payload: Buffer) => void;
  private readonly onConnect: () => void;
  /** Status messages refused (bad JSON or shape, or a node id not matching its topic). */
  rejectedStatus = 0;

  private constructor(private readonly o: CoordinatorOptions, private readonly registry: Registry) {
    this.onMessage = (topic, payload) => this.onStatus(topic, payload);
    this.onConnect = () => {
      o.client.subscribe(nodeFilter('status'), { qos: 1 });
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
      try {
        const def = await loadArtifact(path, hash);
        name = def.name;
        const problem = checkTopicName(name);
        if (problem !== undefined || name === 'node' || name === 'artifact') {
          throw new ConfigError('DEPLOY_BAD_NAME', `app name ${JSON.stringify(name)} ${problem ?? 'is reserved'}`, { fix: "rename it in defineApp('name', ...)" });
        }
        // Building the graph validates it with these params: mistakes are refused here.
        placement = planApp(def.graph(params)).operators.map((op) => ({ id: op.id, where: op.where, reason: op.reason }));
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
      const record: AppRecord = { name, version: (previous?.version ?? 0) + 1, hash, bytes: req.bytes.length, selector: selector.text, params, deployedAt: Date.now(), ...(placement ? { placement } : {}) };
      this.data.apps[name] = record;
      this.data.revision++;
      await this.registry.save();
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
      this.o.log?.(`undeployed ${name}`);
      return app;
    });
  }

  nodes(): NodeRecord[] { return Object.values(this.data.nodes).sort((a, b) => a.id.localeCompare(b.id)); }

  apps(): AppView[] { return Object.values(this.data.apps).sort((a, b) => a.name.localeCompare(b.name)).map((a) => this.view(a)); }

  private view(app: AppRecord): AppView {
    const sel = parseSelector(app.selector);
    return { ...app, gateways: this.gateways().filter((n) => selectorMatches(sel, n)).map((n) => n.id), worker: this.worker()?.id };
  }

  private gateways(): NodeRecord[] { return this.nodes().filter((n) => n.role === 'edge'); }

  /** The cloud worker that runs every app's cloud part: the lowest id among cloud nodes. */
  private worker(): NodeRecord | undefined { return this.nodes().find((n) => n.role === 'cloud'); }

  private hashInUse(hash: string): boolean { return Object.values(this.data.apps).some((a) => a.hash === hash); }

  private desiredFor(node: NodeRecord): DesiredApp[] {
    const apps = Object.values(this.data.apps).sort((a, b) => a.name.localeCompare(b.name));
    if (node.role === 'cloud') {
      if (this.worker()?.id !== node.id) return [];
      return apps.map((a) => ({ ...desiredApp(a), producers: this.view(a).gateways }));
    }
    return apps.filter((a) => selectorMatches(parseSelector(a.selector), node)).map(desiredApp);
  }

  /** Publishes each node's desired state that changed since it was last published (all when `force`). */
  private async publishAll(force: boolean): Promise<void> {
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
      if (changed) {
        this.data.revision++;
        this.o.log?.(`${old ? 'node changed' : 'node joined'}: ${s.node} (${s.role}${s.tags.length ? `, ${s.tags.join(' ')}` : ''})`);
      }
      if (changed || onlineChanged) await this.registry.save();
      if (changed) await this.publishAll(false);
    });
  }

  async close(): Promise<void> {
    this.o.client.removeListener('message', this.onMessage);
    this.o.client.removeListener('connect', this.onConnect);
    await this.chain;
    await this.registry.save();
  }
}

function desiredApp(a: AppRecord): DesiredApp {
  return { app: a.name, version: a.version, hash: a.hash, params: a.params, producers: [] };
}
