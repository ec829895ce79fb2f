/**
 * errors.js — records what went wrong in the page where tests (and a curious admin with the
 * developer tools) can read it: Content-Security-Policy violations and uncaught errors.
 *
 * Owns: `window.__adeboxErrors`, an array of short strings, filled by `securitypolicyviolation`,
 * `error` and `unhandledrejection` listeners installed when this module loads (main.js imports
 * it first, so they are in place before any view runs).
 * Exposes: nothing; the browser tests read the array.
 * Must not use: the DOM beyond the listeners, the API.
 */

const MAX_ENTRIES = 100;
const errors = [];
window.__adeboxErrors = errors;

function record(text) {
  if (errors.length < MAX_ENTRIES) errors.push(text);
}

document.addEventListener('securitypolicyviolation', (event) => {
  record(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile || 'page'}:${event.lineNumber || 0})`);
});

window.addEventListener('error', (event) => {
  record(`Error: ${event.message} (${event.filename || 'page'}:${event.lineno || 0})`);
});

window.addEventListener('unhandledrejection', (event) => {
  const reason = event.reason;
  // An aborted request (a view left while it loaded) is not an error.
  if (reason?.name === 'AbortError') return;
  record(`Unhandled rejection: ${reason?.message ?? String(reason)}`);
});
