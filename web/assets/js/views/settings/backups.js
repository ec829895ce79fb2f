/**
 * views/settings/backups.js — the Backups panel of Settings: the daily backup set in the
 * configuration file (`[backup]`), where it goes, when it runs next and how the last one went,
 * from `GET /api/v1/status` (`backup`). Read-only: the schedule and the passphrase file are
 * configuration (docs/operations.md), so the passphrase never passes through the page.
 *
 * Owns: one row per fact, and how to turn backups on when they are off.
 * Exposes: `backupsPanel(ctx)` → element.
 * Element ids for tests: #backups, #backup-directory, #backup-next, #backup-last.
 * Must not use: anything but the API, the badge helpers and the ctx it is given.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiGet } from '../../api.js';
import { formatNumber, timeElement } from '../../format.js';
import { badge } from '../../components/badge.js';
import { panel } from '../../components/panel.js';
import { showError } from '../../components/toast.js';

function row(id, label, ...value) {
  return [h('dt', {}, label), h('dd', { id }, value)];
}

function last(l) {
  if (!l) return h('span', { class: 'muted' }, 'None yet');
  return l.ok
    ? [badge('Written', 'success'), ' ', timeElement(l.at), ' ', h('code', {}, l.file), ' ', h('span', { class: 'muted' }, `${formatNumber(l.bytes)} bytes`)]
    : [badge('Failed', 'danger'), ' ', timeElement(l.at), ' ', h('span', { class: 'error-text' }, l.message)];
}

function render(backup) {
  if (!backup) {
    return h('p', { class: 'muted', id: 'backup-last' },
      'No daily backup is set up. Add [backup] with directory and passphrase_file to /etc/adebox/adebox.toml and restart (docs/operations.md); until then, run adebox admin backup.');
  }
  return h('div', { class: 'stack' },
    h('dl', { class: 'details' },
      row('backup-directory', 'Directory', h('code', {}, backup.directory)),
      row('backup-next', 'Next backup', timeElement(backup.next_at, { mode: 'absolute' })),
      row('backup-last', 'Last backup', last(backup.last))),
    h('p', { class: 'muted small' }, 'Each backup holds the whole appliance (store, keys, TLS and signing folders), sealed under the passphrase file’s passphrase; adebox admin restore puts one back.'));
}

export function backupsPanel(ctx) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const section = panel({ id: 'backups', title: 'Backups', intro: 'The daily backup of the whole appliance to a directory.' }, body);
  apiGet('/status', { signal: ctx.signal })
    .then((status) => replaceChildren(body, render(status.backup)))
    .catch((err) => {
      if (err.name === 'AbortError') return;
      replaceChildren(body, h('p', { class: 'error-text' }, `Could not load the backups: ${err.message}`));
      showError(err);
    });
  return section;
}
