import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { IoError } from '../errors.ts';
import { artifactHash } from '../runtime/index.ts';
import { writeFileAtomically } from '../store/index.ts';
import { artifactTopic } from '../wire/index.ts';

/**
 * A node's artifacts on its own disk, `<dir>/<sha256>.mjs`, fetched by hash over MQTT from the
 * retained `sluice/v1/artifact/<hash>` topic the coordinator keeps. Every artifact is verified
 * against its hash before it is stored, so a damaged or substituted one never runs; one kept on
 * disk lets a restarted gateway resume with no uplink and no coordinator.
 *
 * @example
 * const cache = new ArtifactCache('/var/lib/sluice/artifacts', uplink);
 * const path = await cache.ensure(desired.hash); // waits for the uplink if it must fetch
 */
export class ArtifactCache {
  private readonly fetching = new Map<string, Promise<string>>();
  /** Artifacts that arrived with bytes not matching their hash: refused, never stored. */
  rejected = 0;

  constructor(private readonly dir: string, private readonly client: MqttClient) {}

  pathOf(hash: string): string {
    return join(this.dir, `${hash}.mjs`);
  }

  /** True when the artifact is on disk and matches its hash. */
  async has(hash: string): Promise<boolean> {
    const path = this.pathOf(hash);
    if (!existsSync(path)) return false;
    return artifactHash(await readFile(path)) === hash;
  }

  /** The artifact's path on disk, fetching it over MQTT first when it is not there. */
  ensure(hash: string): Promise<string> {
    const running = this.fetching.get(hash);
    if (running) return running;
    const p = this.has(hash).then((ok) => (ok ? this.pathOf(hash) : this.fetch(hash)));
    this.fetching.set(hash, p);
    const forget = () => { this.fetching.delete(hash); };
    p.then(forget, forget);
    return p;
  }

  private fetch(hash: string): Promise<string> {
    const topic = artifactTopic(hash);
    return new Promise<string>((resolve, reject) => {
      let done = false;
      const finish = (err: Error | undefined, path?: string) => {
        if (done) return;
        done = true;
        this.cancel.delete(hash);
        this.client.removeListener('message', onMessage);
        this.client.removeListener('connect', subscribe);
        this.client.unsubscribe(topic, () => {});
        if (err) reject(err); else resolve(path!);
      };
      const onMessage = (t: string, payload: Buffer) => {
        if (t !== topic || payload.length === 0) return;
        if (artifactHash(payload) !== hash) {
          // A wrong artifact is refused; a right one may still come (the coordinator republishes).
          this.rejected++;
          return;
        }
        writeFileAtomically(this.pathOf(hash), payload).then(() => finish(undefined, this.pathOf(hash)), (err: Error) => {
          finish(new IoError('HOST_ARTIFACT_WRITE', `cannot store artifact ${hash.slice(0, 12)}: ${err.message}`, { where: this.dir, fix: 'check the data directory is writable and has space', cause: err }));
        });
      };
      // A clean session forgets subscriptions: subscribe again on every (re)connect.
      const subscribe = () => { this.client.subscribe(topic, { qos: 1 }); };
      this.client.on('message', onMessage);
      this.client.on('connect', subscribe);
      if (this.client.connected) subscribe();
      this.cancel.set(hash, () => finish(new IoError('HOST_FETCH_CANCELLED', `fetching artifact ${hash.slice(0, 12)} was cancelled`, { retryable: false })));
    });
  }

  private readonly cancel = new Map<string, () => void>();

  /** Stops waiting for artifacts still being fetched. */
  close(): void {
    for (const c of this.cancel.values()) c();
    this.cancel.clear();
  }
}
