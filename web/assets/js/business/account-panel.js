/**
 * business/account-panel.js — the Apple Business API account on the Apple Business page:
 * the client id, key id and when it was saved; upload, replace and remove.
 *
 * Owns: `GET`/`PUT`/`DELETE /api/v1/business/account`. The private key is write-only: the
 * page sends it once and never receives it; the field is emptied after saving. What was typed
 * stays when saving fails, with the server's message next to its field.
 * Exposes: `accountPanel(ctx, {onChange})` → element (`onChange(account)` after a save or
 * removal, so the page can reload what depends on the account).
 * Element ids for tests: #business-account, #business-account-state, #business-account-form,
 * #business-client_id, #business-key_id, #business-private_key_pem, #business-account-save,
 * #business-account-remove.
 * Must not use: anything but the API, the components and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiDelete, apiGet, request } from '../api.js';
import { can } from '../roles.js';
import { badge } from '../components/badge.js';
import { confirmDialog } from '../components/dialog.js';
import { actionsRow, fileToField, liveValidate, runSubmit, textField } from '../components/form.js';
import { panel } from '../components/panel.js';
import { showError, toast } from '../components/toast.js';
import { timeElement } from '../format.js';

function checkClientId(value) {
  const v = value.trim();
  if (v === '') return 'Copy the Client ID from Apple Business (Preferences → API).';
  if (!/^(BUSINESSAPI|SCHOOLAPI)\.\S+$/.test(v)) return 'A client id looks like BUSINESSAPI.<uuid> (SCHOOLAPI.<uuid> for Apple School Manager).';
  return null;
}

function checkKey(value) {
  const v = value.trim();
  if (v === '') return 'Choose the .pem file Apple Business downloaded, or paste its contents.';
  if (!v.startsWith('-----BEGIN ')) return 'This is not a PEM file: it starts with -----BEGIN PRIVATE KEY-----.';
  return null;
}

function stateLine(account) {
  if (!account.configured) {
    return h('p', { id: 'business-account-state' }, badge('Not set up', 'neutral'), ' ',
      'Without an account adebox sees only the devices assigned to its own servers.');
  }
  return h('dl', { id: 'business-account-state', class: 'details' },
    h('dt', {}, 'Client ID'), h('dd', { class: 'mono' }, account.client_id),
    h('dt', {}, 'Key ID'), h('dd', { class: 'mono' }, account.key_id),
    h('dt', {}, 'Saved'), h('dd', {}, timeElement(account.saved_at)),
    h('dt', {}, 'Private key'), h('dd', {}, badge('Stored sealed', 'success'), ' never shown again'));
}

function accountForm(account, ctx, redraw) {
  const owner = can('secrets');
  const f = {
    client_id: textField({ id: 'business-client_id', name: 'client_id', label: 'Client ID', hint: 'BUSINESSAPI.<uuid>, shown in Apple Business under Preferences → API.', value: account.client_id ?? '', attrs: { autocomplete: 'off', spellcheck: 'false' } }),
    key_id: textField({ id: 'business-key_id', name: 'key_id', label: 'Key ID', hint: 'Shown beside the client id once the private key is generated.', value: account.key_id ?? '', attrs: { autocomplete: 'off', spellcheck: 'false' } }),
    private_key_pem: textField({ id: 'business-private_key_pem', name: 'private_key_pem', label: account.configured ? 'New private key (.pem)' : 'Private key (.pem)', hint: 'The EC P-256 key Apple Business downloaded when you clicked Generate Private Key. Stored sealed; never shown again.', multiline: true, rows: 5 }),
  };
  const validators = [
    [f.client_id.input, liveValidate(f.client_id.input, checkClientId)],
    [f.private_key_pem.input, liveValidate(f.private_key_pem.input, checkKey)],
  ];
  const save = h('button', { type: 'submit', id: 'business-account-save', class: 'button button-primary' }, account.configured ? 'Replace account' : 'Save account');
  const remove = h('button', { type: 'button', id: 'business-account-remove', class: 'button button-danger-quiet' }, 'Remove account');
  const form = h('form', { id: 'business-account-form', class: 'stack', novalidate: true },
    h('div', { class: 'grid-2' }, f.client_id.field, f.key_id.field),
    f.private_key_pem.field,
    fileToField(f.private_key_pem.input, { label: 'Or choose the .pem file', accept: '.pem,.p8,.key,text/plain', maxBytes: 16 * 1024 }),
    actionsRow(save, account.configured ? remove : null));
  if (!owner) {
    return h('p', { class: 'muted' }, 'Only an Owner can add, replace or remove the account.');
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(form, {
      button: save,
      busyLabel: 'Saving…',
      validate: () => validators.map(([input, check]) => ({ input, message: check() })),
      submit: () => request('PUT', '/business/account', { body: {
        client_id: f.client_id.input.value.trim(), key_id: f.key_id.input.value.trim(),
        private_key_pem: f.private_key_pem.input.value,
      } }),
      onSuccess: (saved) => {
        f.private_key_pem.input.value = '';
        toast('Apple Business API account saved. The key is stored sealed and will not be shown again.');
        redraw(saved);
      },
    });
  });
  remove.addEventListener('click', async () => {
    const done = await confirmDialog({
      title: 'Remove the Apple Business API account?', danger: true, confirmLabel: 'Remove account', typed: account.client_id,
      message: 'The sealed private key is erased. adebox stops syncing organisation devices and can no longer say where a missing serial is. The account stays in Apple Business until you revoke it there.',
      action: () => apiDelete('/business/account'),
    });
    if (done) {
      toast('Apple Business API account removed.');
      redraw({ configured: false });
    }
  });
  return form;
}

export function accountPanel(ctx, { onChange } = {}) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the account…'));
  const section = panel({ id: 'business-account', title: 'API account', intro: 'In Apple Business an Organization Administrator opens Preferences → API, creates an API account and generates its private key. adebox signs a short client assertion with the key for each access token.' }, body);
  let first = true;
  const draw = (account) => {
    replaceChildren(body, stateLine(account), accountForm(account, ctx, draw));
    if (!first) onChange?.(account);
    first = false;
  };
  apiGet('/business/account', { signal: ctx.signal })
    .then(draw)
    .catch((err) => {
      if (err.name === 'AbortError') return;
      replaceChildren(body, h('p', { class: 'error-text' }, `Could not load the account: ${err.message}`));
      showError(err);
    });
  return section;
}
