import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SluiceError } from '../shared/errors.ts';
import { MAX_ARTIFACT_BYTES, type Coordinator } from './coordinator.ts';

/**
 * The cloud's HTTP API, JSON in and out:
 *
 *   GET    /api/nodes          every registered node: role, tags, online, capabilities, apps
 *   GET    /api/apps           every deployed app: version, hash, selector, gateways, partitions and their workers
 *   GET    /api/status         both, plus each channel's backlog per node
 *   POST   /api/apps           deploy: the artifact's bytes as the body; query `gateways`,
 *                              `param=KEY=VALUE` (repeatable), `partitions`; header `x-sluice-sha256`
 *   DELETE /api/apps/<name>    undeploy
 *
 * A refused request answers 4xx with `{ error, code }`, the error saying what, where and the fix.
 *
 * @example
 * const api = await startHttpApi(coordinator, { port: 0 });
 * console.log(api.url); // http://127.0.0.1:40321
 */
export async function startHttpApi(coord: Coordinator, o: { port: number; host?: string }): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    handle(coord, req, res).catch((err: unknown) => reply(res, 500, { error: String((err as Error)?.message ?? err), code: 'INTERNAL' }));
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, host, () => { server.removeListener('error', reject); resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    server,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

async function handle(coord: Coordinator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname.replace(/\/+$/, '');
  try {
    if (req.method === 'GET' && path === '/api/nodes') return reply(res, 200, coord.nodes());
    if (req.method === 'GET' && path === '/api/apps') return reply(res, 200, coord.apps());
    if (req.method === 'GET' && path === '/api/status') return reply(res, 200, { nodes: coord.nodes(), apps: coord.apps() });
    if (req.method === 'POST' && path === '/api/apps') {
      const bytes = await readBody(req);
      const params: Record<string, string> = {};
      for (const p of url.searchParams.getAll('param')) {
        const eq = p.indexOf('=');
        if (eq <= 0) return reply(res, 400, { error: `param ${JSON.stringify(p)} is not KEY=VALUE; fix: write e.g. --param window=1m`, code: 'DEPLOY_BAD_PARAM' });
        params[p.slice(0, eq)] = p.slice(eq + 1);
      }
      const hash = req.headers['x-sluice-sha256'];
      const gateways = url.searchParams.get('gateways');
      const partitions = url.searchParams.get('partitions');
      if (partitions !== null && !/^[1-9][0-9]{0,4}$/.test(partitions)) return reply(res, 400, { error: `partitions ${JSON.stringify(partitions)} is not a whole number; fix: write e.g. --partitions 4`, code: 'DEPLOY_PARTITIONS' });
      const result = await coord.deploy({
        ...(partitions !== null ? { partitions: Number(partitions) } : {}),
        bytes, params,
        ...(typeof hash === 'string' ? { hash } : {}),
        ...(gateways !== null ? { selector: gateways } : {}),
      });
      return reply(res, 201, result);
    }
    const m = /^\/api\/apps\/([^/]+)$/.exec(path);
    if (req.method === 'DELETE' && m) return reply(res, 200, await coord.undeploy(decodeURIComponent(m[1]!)));
    reply(res, 404, { error: `no such endpoint: ${req.method} ${path}; fix: see GET /api/nodes, /api/apps, /api/status`, code: 'HTTP_NOT_FOUND' });
  } catch (err) {
    if (err instanceof SluiceError) {
      const status = err.code === 'DEPLOY_NO_APP' ? 404 : err.code === 'DEPLOY_BAD_SIZE' ? 413 : 400;
      return reply(res, status, { error: err.message, code: err.code });
    }
    throw err;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_ARTIFACT_BYTES) { req.destroy(); reject(new SluiceError('DEPLOY_BAD_SIZE', `the upload is over ${MAX_ARTIFACT_BYTES} bytes`, { fix: 'deploy the .mjs file `sluice build` wrote' })); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
