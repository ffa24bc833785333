// api.js — fetch wrapper for /api/v1. Sends JSON with the session cookie, turns the
// server's error shape {"error":{"code","message"}} into an ApiError, and sends the
// browser to /login when the session is gone (401).

const BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || 'http_' + status;
  }
}

// Paths where a 401 is an answer to show (wrong password), not a lost session.
const NO_REDIRECT = ['/login', '/setup'];

function redirectToLogin() {
  if (location.pathname === '/login' || location.pathname === '/setup') return;
  // Come back to the same chat after logging in again.
  try { sessionStorage.setItem('parley:after-login', location.hash || ''); } catch { /* private mode */ }
  location.assign('/login');
}

// The server's clock as last seen in a Date header (whole seconds), to compare with event times.
let clock = null;
export function serverNow() {
  return clock && !Number.isNaN(clock.server) ? clock.server + (Date.now() - clock.client) : Date.now();
}

export async function request(method, path, body, { signal } = {}) {
  const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' }, signal };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(BASE + path, opts);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection.');
  }
  const date = res.headers.get('Date');
  if (date) clock = { server: Date.parse(date), client: Date.now() };
  if (res.status === 401 && !NO_REDIRECT.some((p) => path.startsWith(p))) {
    redirectToLogin();
    throw new ApiError(401, 'unauthorized', 'Your session has ended. Please log in again.');
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const err = data && data.error;
    throw new ApiError(res.status, err?.code, err?.message || defaultMessage(res.status));
  }
  return data;
}

function defaultMessage(status) {
  if (status === 403) return 'You do not have permission to do that.';
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many requests. Please wait a moment.';
  if (status >= 500) return 'The server had a problem. Please try again.';
  return `Request failed (${status}).`;
}

/** Builds a query string, skipping empty values. */
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
}

export const api = {
  get: (path, opts) => request('GET', path, undefined, opts),
  post: (path, body = {}, opts) => request('POST', path, body, opts),
  put: (path, body, opts) => request('PUT', path, body, opts),
  patch: (path, body, opts) => request('PATCH', path, body, opts),
  del: (path, opts) => request('DELETE', path, undefined, opts),
};
