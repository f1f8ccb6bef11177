import type { MqttClient } from 'mqtt';
import { connectWithBackoff, disconnect } from '../link/index.ts';
import type { LogOptions } from '../store/index.ts';
import { decodeStatus, encodeControl, nodeDesiredTopic, nodeFilter, nodeStatusTopic, type NodeCapabilities, type NodeRole, type NodeStatus } from '../wire/index.ts';
import type { SourceBinder } from './app-runner.ts';
import { measureCapabilities } from './capabilities.ts';
import { FragmentHost } from './fragment-host.ts';

export interface NodeAgentOptions {
  readonly id: string;
  readonly role: NodeRole;
  readonly tags?: readonly string[];
  /** The cloud's MQTT broker, e.g. mqtt://cloud.example:1883. */
  readonly broker: string;
  readonly username?: string;
  readonly password?: string;
  readonly protocolVersion?: 4 | 5;
  readonly dataDir: string;
  readonly bindSources?: SourceBinder;
  readonly outbox?: LogOptions;
  /** How often the node republishes its status, with backlogs and rates (default 2 s). */
  readonly statusIntervalMs?: number;
  /** Also called with every status, uplink or not (a gateway republishes it on its local broker). */
  readonly onLocalStatus?: (payload: Uint8Array) => void;
  readonly log?: (line: string) => void;
}

/** A running node: call `close()` to stop its apps and go offline cleanly. */
export interface NodeAgent {
  readonly id: string;
  readonly client: MqttClient;
  readonly host: FragmentHost;
  status(): NodeStatus;
  close(): Promise<void>;
}

/**
 * Starts a node of the fleet — a gateway (role `edge`) or a cloud worker (role `cloud`). It
 * resumes the apps saved on disk at once, uplink or not; connects to the cloud's broker with
 * jittered back-off and an MQTT last-will that marks it offline; registers by publishing its
 * retained status (tags, capabilities) and republishes it as a heartbeat with each app's state
 * and outbox backlog; and reconciles to the retained desired state the coordinator publishes.
 *
 * @example
 * const gw = await startNodeAgent({ id: 'gw-1', role: 'edge', tags: ['site=plant-7'], broker, dataDir });
 * await gw.close();
 */
export async function startNodeAgent(o: NodeAgentOptions): Promise<NodeAgent> {
  const tags = [...(o.tags ?? [])];
  const capabilities: NodeCapabilities = measureCapabilities();
  const statusTopic = nodeStatusTopic(o.id);
  const desiredTopic = nodeDesiredTopic(o.id);
  const log = o.log ?? (() => {});
  const offline = (): NodeStatus => ({ type: 'status', node: o.id, role: o.role, online: false, tags, at: Date.now() });
  const client = connectWithBackoff(o.broker, {
    clientId: `sluice-${o.role}-${o.id}`.slice(0, 100),
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.protocolVersion ? { protocolVersion: o.protocolVersion } : {}),
    will: { topic: statusTopic, payload: encodeControl(offline()), retain: true, qos: 1 },
    onState: (s) => log(s.type === 'connected' ? `connected to ${o.broker}` : `uplink down (${s.reason}); retrying in ${s.retryInMs} ms`),
  });
  let closed = false;
  const status = (): NodeStatus => ({
    type: 'status', node: o.id, role: o.role, online: !closed, uplink: client.connected, tags, capabilities,
    applied: host.revision, apps: host.status(), at: Date.now(),
  });
  const publishStatus = () => {
    if (closed) return;
    const payload = Buffer.from(encodeControl(status()));
    o.onLocalStatus?.(payload);
    if (client.connected) client.publish(statusTopic, payload, { qos: 1, retain: true });
  };
  const host: FragmentHost = await FragmentHost.open({
    nodeId: o.id, role: o.role, client, dataDir: o.dataDir, onChange: publishStatus, log,
    ...(o.bindSources ? { bindSources: o.bindSources } : {}),
    ...(o.outbox ? { outbox: o.outbox } : {}),
  });
  const statusFilter = nodeFilter('status');
  const onMessage = (topic: string, payload: Buffer) => {
    if (topic === desiredTopic) { void host.offer(payload); return; }
    // A cloud worker listens for last-wills: a gateway gone offline stops holding windows back.
    if (o.role === 'cloud' && topic !== statusTopic && topic.endsWith('/status')) {
      const r = decodeStatus(payload);
      if (r.ok && !r.message.online) host.markOffline(r.message.node);
    }
  };
  // A clean session forgets subscriptions, so every (re)connect subscribes and registers again.
  const onConnect = () => {
    client.subscribe(desiredTopic, { qos: 1 });
    if (o.role === 'cloud') client.subscribe(statusFilter, { qos: 1 });
    publishStatus();
  };
  client.on('message', onMessage);
  client.on('connect', onConnect);
  if (client.connected) onConnect();
  const timer = setInterval(publishStatus, o.statusIntervalMs ?? 2000);
  return {
    id: o.id, client, host, status,
    async close() {
      if (closed) return;
      clearInterval(timer);
      await host.close();
      closed = true;
      // A clean disconnect sends no last-will: say "offline" first, retained.
      if (client.connected) await client.publishAsync(statusTopic, Buffer.from(encodeControl(offline())), { qos: 1, retain: true }).catch(() => {});
      client.removeListener('message', onMessage);
      client.removeListener('connect', onConnect);
      await disconnect(client);
    },
  };
}
