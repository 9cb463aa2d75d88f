import { authStore } from './auth';

/** An answer other than 2xx, with the server's message (its Prometheus-style
 *  {"status":"error","errorType":…,"error":…} body, when it sent one). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorType: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Params = Record<string, string | number | boolean | null | undefined>;

export function buildUrl(path: string, params?: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function authHeaders(token: string | null = authStore.token()): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Sends a request, with the bearer token if there is one, and reads its JSON answer. 401
 *  asks the user to sign in (and forgets the token it refused); any non-2xx throws an
 *  ApiError with the server's message. */
async function requestJSON<T>(path: string, init: RequestInit & { headers: Record<string, string> }): Promise<T> {
  const token = authStore.token();
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers: { ...init.headers, ...authHeaders(token) } });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'breakwatch cannot be reached');
  }
  let body: unknown = null;
  const text = await res.text();
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const b = (body ?? {}) as { error?: unknown; errorType?: unknown };
  if (!res.ok) {
    const msg = typeof b.error === 'string' && b.error ? b.error : `${res.status} ${res.statusText || 'error'}`;
    const type = typeof b.errorType === 'string' ? b.errorType : null;
    if (res.status === 401) authStore.rejected(token, token ? msg : null);
    throw new ApiError(res.status, msg, type);
  }
  if (body === null) throw new ApiError(res.status, 'the answer was not JSON');
  return body as T;
}

/** GET a JSON endpoint. */
export function getJSON<T>(path: string, params?: Params, signal?: AbortSignal): Promise<T> {
  return requestJSON<T>(buildUrl(path, params), {
    headers: { Accept: 'application/json' },
    signal,
  });
}

/** POST a JSON body to an endpoint, with the bearer token; its JSON answer. */
export function postJSON<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return requestJSON<T>(path, {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}

/** DELETE an endpoint, with the bearer token; its JSON answer. */
export function deleteJSON<T>(path: string, signal?: AbortSignal): Promise<T> {
  return requestJSON<T>(path, { method: 'DELETE', headers: { Accept: 'application/json' }, signal });
}

/** Whether a failed request is worth trying again (not a 4xx: those will not change). */
export function shouldRetry(failures: number, error: unknown): boolean {
  if (error instanceof ApiError && error.status >= 400 && error.status < 500) return false;
  return failures < 2;
}
