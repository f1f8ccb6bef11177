import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { IoError } from '../errors.ts';

export interface EmbeddedBrokerOptions {
  /** TCP port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Interface to listen on (default 127.0.0.1; `0.0.0.0` for devices on the network). */
  readonly host?: string;
  /** When set, clients must connect with this username and password. */
  readonly credentials?: { readonly username: string; readonly password: string };
  /** Also serve MQTT over WebSocket (for browsers: the dashboard) on this port; 0 picks a free one. */
  readonly wsPort?: number;
  /** Passed to aedes as they are (hooks such as authorizePublish). */
  readonly aedes?: Partial<AedesOptions>;
}

export interface EmbeddedBroker {
  /** `mqtt://host:port` */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly aedes: Aedes;
  /** `ws://host:port` when `wsPort` was given. */
  readonly wsUrl: string | undefined;
  /** Disconnects every client and stops listening. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * An aedes MQTT 3.1.1 broker on a TCP listener: the embedded default for one machine, and the
 * local broker a gateway's devices publish to. Sockets get TCP_NODELAY: without it small
 * QoS 1 messages wait on Nagle's algorithm and latency grows tenfold.
 *
 * @example
 * const broker = await createEmbeddedBroker({ port: 0 });
 * console.log(broker.url); // mqtt://127.0.0.1:40123
 * await broker.close();
 */
export async function createEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const creds = options.credentials;
  const aedes = await Aedes.createBroker({
    ...(creds ? {
      authenticate: (_client, username, password, done) => {
        const ok = username === creds.username && password !== undefined && Buffer.from(password).toString() === creds.password;
        if (ok) done(null, true);
        else done(Object.assign(new Error('bad username or password'), { returnCode: 4 }) as never, false);
      },
    } : {}),
    ...options.aedes,
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  try {
    await listen(server, options.port ?? 0, host);
  } catch (err) {
    await new Promise<void>((r) => aedes.close(() => r()));
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
  let ws: { close(): Promise<void>; url: string } | undefined;
  if (options.wsPort !== undefined) {
    const http = createHttpServer();
    const wss = new WebSocketServer({ server: http });
    // Each WebSocket is a duplex stream of MQTT packets: aedes handles it as it does a socket.
    wss.on('connection', (socket) => { aedes.handle(createWebSocketStream(socket) as never); });
    try {
      await listen(http, options.wsPort, host);
    } catch (err) {
      server.close();
      await new Promise<void>((r) => aedes.close(() => r()));
      throw err;
    }
    const a = http.address();
    ws = {
      url: `ws://${bracket(host)}:${typeof a === 'object' && a ? a.port : 0}`,
      close: () => new Promise<void>((r) => { for (const c of wss.clients) c.terminate(); wss.close(); http.close(() => r()); }),
    };
  }
  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://${bracket(host)}:${port}`,
    port,
    host,
    aedes,
    wsUrl: ws?.url,
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((r) => server.close(() => r()));
        await new Promise<void>((r) => aedes.close(() => r()));
        // Sockets that never sent CONNECT are not aedes clients yet; drop them too.
        for (const s of sockets) s.destroy();
        await ws?.close();
        await serverClosed;
      })();
      return closing;
    },
  };
}

/** Listens, retrying briefly when a just-freed fixed port is still held by the kernel. */
async function listen(server: Server, port: number, host: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const onError = (e: NodeJS.ErrnoException) => resolve(e);
      server.once('error', onError);
      server.listen(port, host, () => { server.off('error', onError); resolve(undefined); });
    });
    if (!err) return;
    if (err.code !== 'EADDRINUSE' || port === 0 || attempt >= 20) {
      throw new IoError('BROKER_LISTEN', `cannot listen on ${host}:${port} (${err.code ?? err.message})`, {
        fix: err.code === 'EADDRINUSE' ? 'pick another --port, or stop what is using it' : 'check the host and port', cause: err, retryable: err.code === 'EADDRINUSE',
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
