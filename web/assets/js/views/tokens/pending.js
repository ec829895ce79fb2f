/**
 * views/tokens/pending.js — keys waiting for their token: made on this page (or for a
 * renewal) but no token uploaded with them yet. They survive reloads and restarts, so an
 * admin who went to Apple Business Manager comes back to them here.
 *
 * Exposes: `pendingKeys({tokens, onContinue(key), onDiscarded})` → `{element, show(keys,
 * tokens)}`; hidden while there are none.
 * Element ids for tests: #pending-keys, #pending-keys-table; rows data-key="<id>"; buttons
 * data-continue-key / data-discard-key.
 * Must not use: anything but the API, the components and the callbacks it is given.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiDelete, apiUrl } from '../../api.js';
import { timeElement } from '../../format.js';
import { adminHref } from '../../router.js';
import { confirmButton } from '../../components/dialog.js';
import { panel } from '../../components/panel.js';
import { formatFingerprint } from '../settings/tls-info.js';

function shortPrint(fp) {
  return formatFingerprint(fp).slice(0, 23);
}

export function pendingKeys({ onContinue, onDiscarded }) {
  const tbody = h('tbody');
  const table = h('table', { class: 'data', id: 'pending-keys-table' },
    h('caption', { class: 'sr-only' }, 'Keys waiting for a token'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Key fingerprint'), h('th', { scope: 'col' }, 'Made'),
      h('th', { scope: 'col' }, 'For'), h('th', { scope: 'col', class: 'col-actions' }, 'Actions'))),
    tbody);
  const element = panel({ id: 'pending-keys', title: 'Waiting for a token', intro: 'Keys whose token has not been uploaded yet. Continue with one after downloading its token in Apple Business Manager, or discard it.' },
    h('div', { class: 'table-wrap' }, table));
  element.hidden = true;

  function row(key, tokens) {
    const renewing = key.for_token ? tokens.find((t) => t.id === key.for_token) : null;
    const forCell = key.for_token
      ? ['Renewal of ', h('a', { href: adminHref(`tokens/${key.for_token}`) }, renewing?.server_name ?? key.for_token)]
      : 'A new token';
    let proceed;
    if (key.for_token) {
      proceed = h('a', { class: 'button button-small', href: `${adminHref(`tokens/${key.for_token}`)}#renew` }, 'Continue the renewal');
    } else {
      proceed = h('button', { type: 'button', class: 'button button-small button-primary', dataset: { continueKey: key.id } }, 'Continue');
      proceed.addEventListener('click', () => onContinue(key));
    }
    const discard = confirmButton({
      label: 'Discard',
      name: `key ${shortPrint(key.fingerprint_sha256)}`,
      dataset: { discardKey: key.id },
      dialog: {
        id: 'discard-key-dialog',
        title: 'Discard this key?',
        message: [
          'The appliance deletes the key pair. A token Apple made for its public key can then never be read, so only discard a key you no longer need.',
          `Fingerprint: ${formatFingerprint(key.fingerprint_sha256)}`,
        ],
        confirmLabel: 'Discard key',
        busyLabel: 'Discarding…',
        action: () => apiDelete(`/tokens/keys/${encodeURIComponent(key.id)}`),
      },
      doneMessage: 'Key discarded.',
      onDone: () => onDiscarded(key),
    });
    return h('tr', { dataset: { key: key.id } },
      h('td', {}, h('span', { class: 'mono', title: formatFingerprint(key.fingerprint_sha256) }, `${shortPrint(key.fingerprint_sha256)}…`)),
      h('td', { class: 'col-time' }, timeElement(key.created_at), h('p', { class: 'muted small' }, `by ${key.created_by}`)),
      h('td', {}, forCell),
      h('td', { class: 'col-actions' }, h('div', { class: 'actions' }, proceed,
        h('a', { class: 'button button-small', href: apiUrl(`/tokens/keys/${encodeURIComponent(key.id)}/public-key.pem`), download: `adebox-public-key-${key.id}.pem` }, 'Public key'),
        discard)));
  }

  function show(keys, tokens) {
    element.hidden = keys.length === 0;
    replaceChildren(tbody, keys.map((key) => row(key, tokens)));
  }

  return { element, show };
}
