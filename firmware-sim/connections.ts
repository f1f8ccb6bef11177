/**
 * Opening one simulated device's MQTT connection, and turning connection failures into
 * one-line errors that say what to do. Reconnects are ours (mqtt.js's own are off), so the
 * fleet can pace them and storms can be storms.
 */
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { IoError } from '../shared/errors.ts';

/** How devices reach the broker. */
export interface ConnectSettings {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly connectTimeoutMs: number;
  readonly keepaliveS: number;
}

/** Opens a client; the caller listens for `connect`, `error` and `close`. */
export function openClient(settings: ConnectSettings, clientId: string): MqttClient {
  return mqtt.connect(settings.url, {
    clientId,
    ...(settings.username !== undefined ? { username: settings.username } : {}),
    ...(settings.password !== undefined ? { password: settings.password } : {}),
    protocolVersion: 4, // aedes speaks MQTT 3.1.1 only (DESIGN.md)
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: settings.connectTimeoutMs,
    keepalive: settings.keepaliveS,
    queueQoSZero: false,
    resubscribe: false,
  });
}

const AUTH_CODES = new Set([4, 5, 134, 135]);

/** Classifies a connection failure into a user-facing, retryable IoError. */
export function connectError(err: unknown, url: string): IoError {
  const code = (err as { code?: unknown } | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'number' && AUTH_CODES.has(code)) {
    return new IoError('SIM_BROKER_AUTH', `broker refused the credentials (${message})`, {
      where: url, fix: 'check --username and --password, and the broker\'s ACL for these client ids', cause: err,
    });
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ECONNRESET' || code === 'ETIMEDOUT') {
    return new IoError('SIM_BROKER_DOWN', `cannot reach the broker (${String(code)})`, {
      where: url, fix: 'start the broker or fix --broker; retrying with back-off', cause: err,
    });
  }
  return new IoError('SIM_BROKER_ERROR', `connection failed: ${message}`, {
    where: url, fix: 'check the broker URL and its logs; retrying with back-off', cause: err,
  });
}
