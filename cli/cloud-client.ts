import { IoError, SluiceError } from '../shared/errors.ts';

export const DEFAULT_CLOUD_URL = 'http://127.0.0.1:8080';

/**
 * Calls the cloud's HTTP API and returns its JSON; a refusal becomes a SluiceError carrying the
 * cloud's own one-line message, and an unreachable cloud says how to start or name one.
 *
 * @example
 * const apps = await callCloud<AppView[]>('http://127.0.0.1:8080', 'GET', '/api/apps');
 */
export async function callCloud<T>(cloud: string, method: string, path: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(new URL(path, cloud), { method, headers, ...(body ? { body } : {}) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new IoError('CLI_NO_CLOUD', `cannot reach the cloud at ${cloud} (${cause?.code ?? cause?.message ?? (err as Error).message})`, {
      fix: 'start it with `sluice cloud`, or pass --cloud with the HTTP URL it printed',
    });
  }
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch {
    throw new IoError('CLI_BAD_REPLY', `${cloud} answered ${res.status} with something that is not JSON`, { fix: 'check --cloud names a `sluice cloud` HTTP API', retryable: false });
  }
  if (!res.ok) {
    const e = json as { error?: string; code?: string };
    throw new SluiceError(e.code ?? 'CLI_REFUSED', e.error ?? `the cloud answered ${res.status}`);
  }
  return json as T;
}
