import { readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { StatusEvent } from '../ops/index.ts';
import { readJsonFile, writeFileAtomically, type LogOptions } from '../store/index.ts';
import { decodeDesired, encodeControl, type AppStatus, type DesiredApp, type DesiredState, type NodeRole } from '../wire/index.ts';
import { AppRunner, failedStatus, type SourceBinder } from './app-runner.ts';
import { ArtifactCache } from './artifact-cache.ts';

export interface FragmentHostOptions {
  readonly nodeId: string;
  readonly role: NodeRole;
  /** The uplink to the cloud's broker. */
  readonly client: MqttClient;
  /** The node's own directory: `desired.json`, `artifacts/`, `apps/<app>/`. */
  readonly dataDir: string;
  readonly bindSources?: SourceBinder;
  readonly outbox?: LogOptions;
  /** Something changed that the node's status should show (an app started, failed, stopped). */
  readonly onChange?: () => void;
  readonly onStatus?: (app: string, event: StatusEvent) => void;
  /** One line for the node's log. */
  readonly log?: (line: string) => void;
}

type Slot =
  | { readonly type: 'fetching'; readonly desired: DesiredApp }
  | { readonly type: 'running'; readonly runner: AppRunner }
  | { readonly type: 'failed'; readonly desired: DesiredApp; readonly status: AppStatus };

/**
 * Makes a node run what its desired state says, and keeps running it on its own. Every desired
 * state is written to `<data>/desired.json` before it is acted on, and artifacts are kept on
 * disk, so a node restarted with no uplink and no coordinator resumes its apps from there.
 * Reconciling is serial: an app whose version, artifact or params changed is stopped and
 * started again on the same state directory (its outbox keeps what was not yet acked); a worker
 * given other partitions of an app moves just those; an app no longer desired is stopped and
 * its state removed.
 *
 * @example
 * const host = await FragmentHost.open({ nodeId: 'gw-1', role: 'edge', client, dataDir });
 * client.on('message', (t, p) => { if (t === nodeDesiredTopic('gw-1')) void host.offer(p); });
 */
export class FragmentHost {
  private readonly slots = new Map<string, Slot>();
  /** Each app's latest start, which the next start of it waits for. */
  private readonly starting = new Map<string, Promise<void>>();
  private readonly artifacts: ArtifactCache;
  private chain: Promise<void> = Promise.resolve();
  private applied = -1;
  private closed = false;
  /** Desired states refused (not JSON, wrong shape, another node's). */
  rejectedDesired = 0;

  private constructor(private readonly o: FragmentHostOptions) {
    this.artifacts = new ArtifactCache(join(o.dataDir, 'artifacts'), o.client);
  }

  /** Opens the host and resumes the desired state saved on disk, if there is one. */
  static async open(o: FragmentHostOptions): Promise<FragmentHost> {
    const host = new FragmentHost(o);
    const saved = await readJsonFile(host.desiredFile);
    if (saved instanceof Error) o.log?.(`ignoring the saved desired state: ${saved.message}`);
    else if (saved !== undefined) {
      const r = decodeDesired(encodeControl(saved as DesiredState));
      if (r.ok && r.message.node === o.nodeId) {
        o.log?.(`resuming ${r.message.apps.length} app(s) from revision ${r.message.revision} saved on disk`);
        // A worker's partitions may have moved to another while it was down: it runs none until
        // the coordinator's desired state says again which are its own (it gets no input without
        // the broker anyway). A gateway runs what it ran, uplink or not.
        const resumed = o.role === 'cloud' ? { ...r.message, apps: r.message.apps.map((a) => ({ ...a, owned: [] })) } : r.message;
        await host.apply(resumed, false);
      } else o.log?.(`ignoring the saved desired state: ${r.ok ? `it is for node ${r.message.node}` : r.reason}`);
    }
    return host;
  }

  private get desiredFile(): string { return join(this.o.dataDir, 'desired.json'); }

  /** The revision of the desired state last applied (-1 before any). */
  get revision(): number { return this.applied; }

  /** A desired-state message from the broker: checked, then applied unless it is older. */
  offer(payload: Uint8Array): Promise<void> {
    if (payload.length === 0) return Promise.resolve(); // a cleared retained message
    const r = decodeDesired(payload);
    if (!r.ok || r.message.node !== this.o.nodeId) {
      this.rejectedDesired++;
      this.o.log?.(`refused a desired state: ${r.ok ? `it is for node ${r.message.node}` : r.reason}`);
      return Promise.resolve();
    }
    return this.apply(r.message, true);
  }

  /** Applies a desired state (serially; an older revision than the one applied is ignored). */
  apply(desired: DesiredState, save: boolean): Promise<void> {
    return this.serial(() => this.reconcile(desired, save));
  }

  private serial(work: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(work).catch((err: Error) => {
      this.o.log?.(`reconcile failed: ${err.message}`);
    });
    return this.chain;
  }

  private async reconcile(desired: DesiredState, save: boolean): Promise<void> {
    if (this.closed || desired.revision < this.applied) return;
    if (save) await writeFileAtomically(this.desiredFile, JSON.stringify(desired));
    this.applied = desired.revision;
    const wanted = new Map(desired.apps.map((a) => [a.app, a]));
    for (const [name, slot] of [...this.slots]) {
      if (wanted.has(name)) continue;
      await this.stopSlot(name, slot);
      await rm(this.appDir(name), { recursive: true, force: true });
      this.o.log?.(`app ${name} undeployed: stopped, state removed`);
    }
    for (const d of desired.apps) {
      const slot = this.slots.get(d.app);
      // Running or on its way at the same version, artifact and params: nothing to restart.
      const now = this.current(d.app);
      if (slot?.type !== 'failed' && now !== undefined && sameDeployment(now, d)) {
        if (JSON.stringify(now.owned) === JSON.stringify(d.owned)) continue;
        // Only the partitions a worker owns changed: those lanes move, the rest runs on.
        if (slot?.type === 'fetching') { this.slots.set(d.app, { type: 'fetching', desired: d }); continue; }
        if (slot?.type === 'running') { await this.moveLanes(d.app, slot.runner, d); continue; }
      }
      if (slot) await this.stopSlot(d.app, slot);
      this.startSlot(d);
    }
    await this.dropUnusedArtifacts(desired);
    this.o.onChange?.();
  }

  /**
   * Fetching may wait for the uplink: it runs beside the reconcile chain, not inside it. Starts
   * of one app run one after another, so two runners never share its state directory; the
   * newest desired state of the slot (its partitions may change meanwhile) is what starts.
   */
  private startSlot(d: DesiredApp): void {
    this.slots.set(d.app, { type: 'fetching', desired: d });
    // Still wanted: the slot is fetching this deployment (its partitions aside).
    const latest = (): DesiredApp | undefined => {
      const s = this.slots.get(d.app);
      return !this.closed && s?.type === 'fetching' && sameDeployment(s.desired, d) ? s.desired : undefined;
    };
    const previous = this.starting.get(d.app) ?? Promise.resolve();
    const started = previous.then(() => this.artifacts.ensure(d.hash)).then(async (artifactPath) => {
      const first = latest();
      if (!first) return;
      const runner = await AppRunner.start({
        desired: first, role: this.o.role, nodeId: this.o.nodeId, client: this.o.client, stateDir: this.appDir(d.app), artifactPath,
        ...(this.o.bindSources ? { bindSources: this.o.bindSources } : {}),
        ...(this.o.outbox ? { outbox: this.o.outbox } : {}),
        ...(this.o.onStatus ? { onStatus: this.o.onStatus } : {}),
        ...(this.o.log ? { log: this.o.log } : {}),
      });
      const now = latest();
      if (!now) { await runner.stop(); return; }
      this.slots.set(d.app, { type: 'running', runner });
      this.o.log?.(`app ${d.app} v${d.version} running${first.owned ? ` (partitions ${first.owned.join(',') || 'none'})` : ''}`);
      // Its partitions changed while it started: move them in turn with the reconciles.
      if (JSON.stringify(now.owned) !== JSON.stringify(first.owned)) void this.serial(() => this.moveLanes(d.app, runner, now));
    }).catch((err: unknown) => {
      const now = latest();
      if (!now) return;
      this.slots.set(d.app, { type: 'failed', desired: now, status: failedStatus(now, err) });
      this.o.log?.(`app ${d.app} v${d.version} failed: ${failedStatus(now, err).error}`);
    }).finally(() => this.o.onChange?.());
    this.starting.set(d.app, started);
  }

  /** Gives a running app the partitions `d` owns; if its lanes cannot start, the app is failed. */
  private async moveLanes(app: string, runner: AppRunner, d: DesiredApp): Promise<void> {
    const slot = this.slots.get(app);
    if (slot?.type !== 'running' || slot.runner !== runner) return;
    try {
      await runner.update(d);
      this.o.log?.(`app ${app} v${d.version}: partitions ${(d.owned ?? []).join(',') || 'none'}`);
    } catch (err) {
      await runner.stop();
      this.slots.set(app, { type: 'failed', desired: d, status: failedStatus(d, err) });
      this.o.log?.(`app ${app} v${d.version} failed moving partitions: ${failedStatus(d, err).error}`);
    }
    this.o.onChange?.();
  }

  private current(app: string): DesiredApp | undefined {
    const s = this.slots.get(app);
    return s === undefined ? undefined : s.type === 'running' ? s.runner.desired : s.desired;
  }

  private async stopSlot(name: string, slot: Slot): Promise<void> {
    this.slots.delete(name);
    if (slot.type === 'running') await slot.runner.stop();
  }

  private appDir(app: string): string { return join(this.o.dataDir, 'apps', app); }

  private async dropUnusedArtifacts(desired: DesiredState): Promise<void> {
    const keep = new Set(desired.apps.map((a) => `${a.hash}.mjs`));
    const files = await readdir(join(this.o.dataDir, 'artifacts')).catch(() => [] as string[]);
    for (const f of files) if (f.endsWith('.mjs') && !keep.has(f)) await unlink(join(this.o.dataDir, 'artifacts', f)).catch(() => {});
  }

  /** A producer went offline (its last-will): no running app's watermark waits for it. */
  markOffline(producer: string): void {
    for (const s of this.slots.values()) if (s.type === 'running') s.runner.markOffline(producer);
  }

  /** Every app this node holds, as its status shows it. */
  status(): AppStatus[] {
    return [...this.slots.values()].map((s) => {
      if (s.type === 'running') return s.runner.status();
      if (s.type === 'failed') return s.status;
      return { app: s.desired.app, version: s.desired.version, state: 'fetching' as const };
    });
  }

  /** Stops every app (their outboxes keep what is not acked); the saved desired state stays. */
  async close(): Promise<void> {
    this.closed = true;
    this.artifacts.close();
    await this.chain;
    // A start under way sees the host closed and stops what it started.
    await Promise.all(this.starting.values());
    for (const [name, slot] of [...this.slots]) await this.stopSlot(name, slot);
  }
}

function sameDeployment(a: DesiredApp, b: DesiredApp): boolean {
  return a.version === b.version && a.hash === b.hash && JSON.stringify(a.params) === JSON.stringify(b.params) && (a.partitions ?? 1) === (b.partitions ?? 1);
}
