import { join } from 'node:path';
import { IoError } from '../shared/errors.ts';
import { readJsonFile, writeFileAtomically } from '../shared/store/index.ts';
import type { AppStatus, NodeCapabilities, NodeRole } from '../shared/wire/index.ts';

/** A node the coordinator has heard from. */
export interface NodeRecord {
  readonly id: string;
  role: NodeRole;
  tags: readonly string[];
  capabilities?: NodeCapabilities;
  online: boolean;
  firstSeen: number;
  lastSeen: number;
  applied?: number;
  apps?: readonly AppStatus[];
}

/** A deployed app. */
export interface AppRecord {
  readonly name: string;
  readonly version: number;
  readonly hash: string;
  readonly bytes: number;
  /** The `--gateways` selector text. */
  readonly selector: string;
  readonly params: Readonly<Record<string, string>>;
  readonly deployedAt: number;
  /** Where each operator runs and why, as the planner decided at deploy. */
  readonly placement?: readonly { readonly id: string; readonly where: 'edge' | 'cloud' | 'split'; readonly reason: string }[];
  /** Partitions of the app's cloud part (1 unless its channels into the cloud are keyed); fixed at first deploy. */
  readonly partitions?: number;
  /** Why the cloud part has that many partitions. */
  readonly partitioning?: string;
  /** The cloud worker each partition is assigned to (null: none online yet). */
  owners?: (string | null)[];
}

export interface RegistryData {
  /** Raised by every change of what any node should run. */
  revision: number;
  nodes: Record<string, NodeRecord>;
  apps: Record<string, AppRecord>;
}

/**
 * The coordinator's registry of nodes and apps, on its own disk (`<data>/registry.json`,
 * replaced atomically), so a restarted coordinator loses no registration, app or plan.
 *
 * @example
 * const reg = await Registry.open('/var/lib/sluice-cloud');
 * reg.data.apps['plugs']; await reg.save();
 */
export class Registry {
  private saving: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string, readonly data: RegistryData) {}

  static async open(dataDir: string): Promise<Registry> {
    const file = join(dataDir, 'registry.json');
    const raw = await readJsonFile(file);
    if (raw instanceof Error) {
      throw new IoError('CLOUD_BAD_REGISTRY', `cannot read the registry: ${raw.message}`, {
        where: file, fix: 'restore it from a backup, or move it away to start with an empty registry', retryable: false,
      });
    }
    const data = (raw as RegistryData | undefined) ?? { revision: 0, nodes: {}, apps: {} };
    // Nothing is known to be online until it says so again.
    for (const n of Object.values(data.nodes)) n.online = false;
    return new Registry(file, data);
  }

  /** Writes the registry (writes are serialised; the newest content always lands last). */
  save(): Promise<void> {
    this.saving = this.saving.catch(() => {}).then(() => writeFileAtomically(this.file, JSON.stringify(this.data, null, 1)));
    return this.saving;
  }
}
