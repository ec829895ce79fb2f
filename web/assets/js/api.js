/**
 * api.js — the one way the page talks to the appliance: JSON over fetch to `/api/v1`.
 *
 * Owns: the CSRF token sent as `X-CSRF-Token` on every state-changing request, turning the
 * API's error body `{"error", "message", "field"}` into an `ApiError` (so forms can put the
 * message next to the field at fault), and handing a 401 to the handler the app registers
 * (which shows the login view and comes back to the current URL afterwards).
 * Exposes: `apiGet`, `apiPost`, `apiPut`, `apiDelete`, `apiPostText`, `apiUrl`, `ApiError`,
 * `setCsrfToken`, `setUnauthenticatedHandler`.
 * Must not use: the DOM. Contract: docs/api.md.
 */

const BASE = '/api/v1';
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
// A JSON answer larger than this is not something the admin page asked for.
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

let csrfToken = null;
let onUnauthenticated = null;

/** An error answer from the API (or the network), in the contract's terms. */
export class ApiError extends Error {
  constructor({ status = 0, code = 'internal', message, field = null, body = null, retryAfter = null }) {
    super(message || 'The appliance answered with an error.');
    this.name = 'ApiError';
    /** HTTP status, 0 when the appliance could not be reached. */
    this.status = status;
    /** The stable code (`bad_credentials`, `validation`, …) or `network` / `bad_response`. */
    this.code = code;
    /** The input field at fault, when the API named one. */
    this.field = field;
    /** Seconds to wait (`locked_out`, `busy`, …): the Retry-After header, else the body's. */
    const header = retryAfter === null || retryAfter === '' ? NaN : Number(retryAfter);
    this.retryAfterS = Number.isFinite(header) ? header : (Number.isFinite(body?.retry_after_s) ? body.retry_after_s : null);
    this.body = body;
  }
}

/** The CSRF token from the session (login, setup or `GET /admin/session`); null when signed out. */
export function setCsrfToken(token) {
  csrfToken = token || null;
}

/** Called on a 401 from an authenticated call; the app shows the login view. */
export function setUnauthenticatedHandler(handler) {
  onUnauthenticated = handler;
}

/** Absolute URL of an API path with query parameters (empty values are left out). */
export function apiUrl(path, query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return `${BASE}${path}${qs ? `?${qs}` : ''}`;
}

/**
 * Sends one request. Options: `query`, `body` (sent as JSON), `text` with `contentType` (a
 * body sent as it is, such as a CSV file), `signal` (AbortSignal), and
 * `auth: false` for the public calls (setup, login, session probe) whose 401 means
 * "wrong credentials" or "not signed in" rather than "the session ended".
 * Resolves with the parsed JSON (null for 204); rejects with ApiError (or AbortError).
 */
export async function request(method, path, { query, body, text, contentType, signal, auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (text !== undefined) headers['Content-Type'] = contentType || 'text/plain; charset=utf-8';
  else if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (STATE_CHANGING.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;

  let response;
  try {
    response = await fetch(apiUrl(path, query), {
      method,
      headers,
      body: text !== undefined ? text : (body === undefined ? undefined : JSON.stringify(body)),
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError({
      code: 'network',
      message: 'Could not reach the appliance. Check the network connection and that the adebox service runs, then try again.',
    });
  }

  const payload = await readJson(response);
  if (response.ok) {
    if (payload === undefined) {
      throw new ApiError({ status: response.status, code: 'bad_response', message: 'The appliance sent an answer the page cannot read. Reload the page; if it persists, check the daemon log.' });
    }
    return payload;
  }

  const error = new ApiError({
    status: response.status,
    code: payload?.error || (response.status === 401 ? 'unauthenticated' : 'internal'),
    message: payload?.message || `The appliance answered ${response.status} ${response.statusText}.`.replace(' .', '.'),
    field: payload?.field || null,
    body: payload ?? null,
    retryAfter: response.headers.get('Retry-After'),
  });
  if (response.status === 401 && auth && onUnauthenticated) onUnauthenticated(error);
  return Promise.reject(error);
}

/** The body as JSON: null for an empty body, undefined when it is not JSON or too large. */
async function readJson(response) {
  if (response.status === 204) return null;
  const length = Number(response.headers.get('Content-Length'));
  if (Number.isFinite(length) && length > MAX_RESPONSE_BYTES) return undefined;
  let text;
  try {
    text = await response.text();
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    return undefined;
  }
  if (text.length > MAX_RESPONSE_BYTES) return undefined;
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const apiGet = (path, options) => request('GET', path, options);
export const apiPost = (path, body, options) => request('POST', path, { ...options, body: body ?? {} });
export const apiPut = (path, body, options) => request('PUT', path, { ...options, body: body ?? {} });
export const apiDelete = (path, options) => request('DELETE', path, options);
/** Posts text as it is (`contentType`, e.g. `text/csv`), for uploads the API reads raw. */
export const apiPostText = (path, text, contentType, options) => request('POST', path, { ...options, text, contentType });
