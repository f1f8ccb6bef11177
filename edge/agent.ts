import { createEmbeddedBroker, type EmbeddedBroker } from '../shared/link/index.ts';
import { startNodeAgent, type NodeAgent } from '../shared/host/index.ts';
import type { LogOptions } from '../shared/store/index.ts';
import { nodeStatusTopic } from '../shared/wire/index.ts';
import { deviceSources, type DeviceInputStats } from './device-source.ts';

export interface EdgeAgentOptions {
  readonly id: string;
  readonly tags?: readonly string[];
  /** The cloud's MQTT broker URL. */
  readonly cloud: string;
  readonly username?: string;
  readonly password?: string;
  readonly dataDir: string;
  /** Port of the local broker devices publish to (0 picks a free one). */
  readonly localPort: number;
  /** Interface of the local broker (default 127.0.0.1; 0.0.0.0 for devices on the network). */
  readonly localHost?: string;
  readonly outbox?: LogOptions;
  readonly statusIntervalMs?: number;
  readonly log?: (line: string) => void;
}

export interface EdgeAgent {
  readonly node: NodeAgent;
  /** The local broker's URL, for devices. */
  readonly localUrl: string;
  readonly devices: DeviceInputStats;
  close(): Promise<void>;
}

/**
 * The gateway agent: an embedded MQTT broker for the gateway's devices, and a node of the
 * fleet that runs the edge part of every app deployed to it over those devices — resuming from
 * its disk with no uplink, buffering channel output in disk outboxes while the uplink is down.
 *
 * @example
 * const gw = await startEdgeAgent({ id: 'gw-1', cloud: 'mqtt://cloud:1883', dataDir: '/var/lib/sluice', localPort: 1884 });
 * console.log(gw.localUrl); // devices publish here
 */
export async function startEdgeAgent(o: EdgeAgentOptions): Promise<EdgeAgent> {
  const local: EmbeddedBroker = await createEmbeddedBroker({ port: o.localPort, ...(o.localHost ? { host: o.localHost } : {}) });
  const devices: DeviceInputStats = { messages: 0, overflow: 0, undecodable: 0 };
  let node: NodeAgent;
  try {
    node = await startNodeAgent({
      id: o.id, role: 'edge', broker: o.cloud, dataDir: o.dataDir, bindSources: deviceSources(local.aedes, devices),
      // Local tools (and the demo) read the gateway's status on its own broker, uplink or not.
      onLocalStatus: (payload) => local.aedes.publish({ cmd: 'publish', topic: nodeStatusTopic(o.id), payload: Buffer.from(payload), qos: 0, retain: true, dup: false }, () => {}),
      ...(o.tags ? { tags: o.tags } : {}),
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.outbox ? { outbox: o.outbox } : {}),
      ...(o.statusIntervalMs !== undefined ? { statusIntervalMs: o.statusIntervalMs } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
  } catch (err) {
    await local.close();
    throw err;
  }
  return {
    node, localUrl: local.url, devices,
    async close() { await node.close(); await local.close(); },
  };
}
