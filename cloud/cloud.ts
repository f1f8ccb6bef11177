import { join } from 'node:path';
import { startNodeAgent, type NodeAgent } from '../shared/host/index.ts';
import { connectWithBackoff, createEmbeddedBroker, disconnect, type EmbeddedBroker } from '../shared/link/index.ts';
import { Coordinator } from './coordinator.ts';
import { startHttpApi } from './http-api.ts';

export interface CloudOptions {
  readonly dataDir: string;
  /** Port of the embedded broker (0 picks a free one); ignored with `broker`. */
  readonly mqttPort: number;
  readonly httpPort: number;
  /** Port of the embedded broker's MQTT-over-WebSocket listener, for browsers (0 picks one; none when unset). */
  readonly wsPort?: number;
  /** Interface to listen on (default 127.0.0.1; 0.0.0.0 for gateways on the network). */
  readonly host?: string;
  /** An external MQTT broker to use instead of the embedded one. */
  readonly broker?: string;
  readonly username?: string;
  readonly password?: string;
  readonly protocolVersion?: 4 | 5;
  /** After a restart, how long a worker not heard from keeps its partitions (default 10 s). */
  readonly workerGraceMs?: number;
  readonly log?: (line: string) => void;
}

export interface Cloud {
  /** The broker gateways and workers connect to. */
  readonly mqttUrl: string;
  /** The HTTP API `sluice deploy --cloud` talks to. */
  readonly httpUrl: string;
  /** MQTT over WebSocket on the embedded broker, for browsers, when it listens. */
  readonly wsUrl: string | undefined;
  readonly coordinator: Coordinator;
  readonly worker: NodeAgent;
  close(): Promise<void>;
}

/** The id of the cloud worker that runs inside `sluice cloud`. */
export const EMBEDDED_WORKER_ID = 'cloud-0';

/**
 * The cloud on one machine — the embedded default: an aedes broker (or an external one), the
 * coordinator with its registry on disk, a cloud worker that runs every app's cloud part (its
 * share of the partitions when `sluice worker`s join), and the HTTP API.
 *
 * @example
 * const cloud = await startCloud({ dataDir: '.sluice-cloud', mqttPort: 1883, httpPort: 8080 });
 * console.log(cloud.mqttUrl, cloud.httpUrl);
 */
export async function startCloud(o: CloudOptions): Promise<Cloud> {
  const log = o.log ?? (() => {});
  const embedded: EmbeddedBroker | undefined = o.broker === undefined
    ? await createEmbeddedBroker({ port: o.mqttPort, ...(o.host ? { host: o.host } : {}), ...(o.wsPort !== undefined ? { wsPort: o.wsPort } : {}) })
    : undefined;
  const mqttUrl = embedded?.url ?? o.broker!;
  const auth = {
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.protocolVersion ? { protocolVersion: o.protocolVersion } : {}),
  };
  const client = connectWithBackoff(mqttUrl, {
    clientId: 'sluice-coordinator', ...auth,
    onState: (s) => { if (s.type === 'disconnected') log(`coordinator: broker link down (${s.reason}); retrying in ${s.retryInMs} ms`); },
  });
  const coordinator = await Coordinator.open({
    dataDir: o.dataDir, client, log: (l) => log(`coordinator: ${l}`),
    ...(o.workerGraceMs !== undefined ? { statusGraceMs: o.workerGraceMs } : {}),
  });
  const worker = await startNodeAgent({
    id: EMBEDDED_WORKER_ID, role: 'cloud', broker: mqttUrl, dataDir: join(o.dataDir, 'worker'), ...auth,
    log: (l) => log(`worker ${EMBEDDED_WORKER_ID}: ${l}`),
  });
  const http = await startHttpApi(coordinator, { port: o.httpPort, ...(o.host ? { host: o.host } : {}) });
  return {
    mqttUrl, httpUrl: http.url, wsUrl: embedded?.wsUrl, coordinator, worker,
    async close() {
      await http.close();
      await worker.close();
      await coordinator.close();
      await disconnect(client);
      await embedded?.close();
    },
  };
}
