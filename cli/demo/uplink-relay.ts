import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A TCP relay in front of the cloud's broker whose link can be cut and restored. */
export interface UplinkRelay {
  readonly url: string;
  readonly isCut: boolean;
  /** Drops every connection and refuses new ones, as a dead uplink would. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/**
 * The demo's stand-in for a gateway's uplink: a loopback relay to the cloud's broker, so the
 * demo can cut one gateway off for real (its TCP connection dies) and let it come back.
 *
 * @example
 * const relay = await createUplinkRelay(1883);
 * spawnGateway(['--cloud', relay.url]); relay.cut(); relay.restore();
 */
export async function createUplinkRelay(targetPort: number): Promise<UplinkRelay> {
  const pairs = new Set<[Socket, Socket]>();
  let isCut = false;
  const server = createServer((down) => {
    if (isCut) { down.destroy(); return; }
    const up = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [down, up];
    pairs.add(pair);
    const end = () => { down.destroy(); up.destroy(); pairs.delete(pair); };
    down.setNoDelay(true); up.setNoDelay(true);
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    down.pipe(up); up.pipe(down);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    get isCut() { return isCut; },
    cut() { isCut = true; for (const [a, b] of [...pairs]) { a.destroy(); b.destroy(); } pairs.clear(); },
    restore() { isCut = false; },
    close: () => new Promise<void>((resolve) => { for (const [a, b] of pairs) { a.destroy(); b.destroy(); } server.close(() => resolve()); }),
  };
}
