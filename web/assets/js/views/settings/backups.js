/**
 * views/settings/backups.js — the Backups panel of Settings: the daily backup of the whole
 * appliance, its last result and next run, and (for the roles holding `backups`) the schedule's
 * form: directory, time (UTC), retention, and a passphrase or an age recipient, with
 * "Back up now". A schedule saved here wins over `[backup]` of the configuration file until it
 * is removed (docs/operations.md). The passphrase is write-only: the API says only whether
 * one is saved.
 *
 * Owns: `GET`/`PUT`/`DELETE /api/v1/settings/backup`, `POST /api/v1/settings/backup/run`,
 * the server's field errors next to the field, keeping what was typed when saving fails.
 * Exposes: `backupsPanel(ctx)` → element.
 * Element ids for tests: #backups, #backup-source, #backup-directory, #backup-next,
 * #backup-last, #backup-form, #backup-form-<field> (directory, time, keep, keep_days,
 * passphrase, recipient), #backup-seal-passphrase, #backup-seal-recipient, #backup-save,
 * #backup-run, #backup-remove.
 * Must not use: anything but the API, the form and badge helpers and the ctx it is given.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiGet, request } from '../../api.js';
import { formatNumber, timeElement } from '../../format.js';
import { badge } from '../../components/badge.js';
import { actionsRow, liveValidate, runSubmit, setBusy, textField } from '../../components/form.js';
import { confirmDialog } from '../../components/dialog.js';
import { panel } from '../../components/panel.js';
import { showError, toast } from '../../components/toast.js';
import { can } from '../../roles.js';

function row(id, label, ...value) {
  return [h('dt', {}, label), h('dd', { id }, value)];
}

function last(l) {
  if (!l) return h('span', { class: 'muted' }, 'None yet');
  return l.ok
    ? [badge('Written', 'success'), ' ', timeElement(l.at), ' ', h('code', {}, l.file), ' ', h('span', { class: 'muted' }, `${formatNumber(l.bytes)} bytes`)]
    : [badge('Failed', 'danger'), ' ', timeElement(l.at), ' ', h('span', { class: 'error-text' }, l.message)];
}

const SOURCE = {
  page: 'Set on this page (it replaces [backup] of the configuration file)',
  file: '[backup] of the configuration file',
};

function sealWords(b) {
  if (b.seal === 'recipient') return ['Encrypted to the age recipient ', h('code', { class: 'small' }, b.recipient)];
  if (b.seal === 'passphrase_file') return ['Sealed under the passphrase in ', h('code', {}, b.passphrase_file)];
  return 'Sealed under the passphrase saved on this page (never shown)';
}

function facts(b) {
  if (!b.source) {
    return h('p', { class: 'muted', id: 'backup-source' },
      can('backups')
        ? 'No daily backup is set up. Fill in the form below, or add [backup] to /etc/adebox/adebox.toml; until then, run adebox admin backup.'
        : 'No daily backup is set up. An Owner can set one up here.');
  }
  return h('dl', { class: 'details' },
    row('backup-source', 'Schedule', SOURCE[b.source], b.changed_by ? h('span', { class: 'muted' }, ` — by ${b.changed_by} `, timeElement(b.changed_at)) : null),
    row('backup-directory', 'Directory', h('code', {}, b.directory)),
    row('backup-when', 'Runs', `daily at ${b.time} UTC, keeping `, b.keep_days ? `${formatNumber(b.keep_days)} days` : `${formatNumber(b.keep)} backups`),
    row('backup-seal', 'Protection', sealWords(b)),
    row('backup-next', 'Next backup', timeElement(b.next_at, { mode: 'absolute' })),
    row('backup-last', 'Last backup', last(b.last)));
}

function checkTime(v) {
  return /^([01]\d|2[0-3]):[0-5]\d$/.test(v.trim()) ? null : 'Write the time as HH:MM (UTC), e.g. 03:00.';
}

function checkCount(v, max, unit) {
  const t = v.trim();
  if (t === '') return null;
  if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > max) return `Use 1 to ${formatNumber(max)} ${unit}.`;
  return null;
}

function scheduleForm(b, reload) {
  const passphraseSaved = b.source === 'page' && b.seal === 'passphrase';
  const directory = textField({ id: 'backup-form-directory', name: 'directory', label: 'Directory', value: b.directory ?? '/var/backups/adebox', hint: 'An absolute path the adebox user may write; put it on another disk or a mounted share. Created (mode 0700) if missing.' });
  const time = textField({ id: 'backup-form-time', name: 'time', label: 'Time of day (UTC)', value: b.time ?? '03:00', hint: 'HH:MM.', attrs: { inputmode: 'numeric', class: 'input-number' } });
  const keep = textField({ id: 'backup-form-keep', name: 'keep', label: 'Keep the newest (backups)', required: false, value: b.keep_days ? '' : String(b.keep ?? 7), hint: '1–1,000. Or keep by days instead.', attrs: { inputmode: 'numeric', class: 'input-number' } });
  const keepDays = textField({ id: 'backup-form-keep_days', name: 'keep_days', label: 'Or keep the last (days)', required: false, value: b.keep_days ? String(b.keep_days) : '', hint: '1–3,650; the newest backup always stays.', attrs: { inputmode: 'numeric', class: 'input-number' } });
  const usePass = h('input', { type: 'radio', name: 'seal', value: 'passphrase', id: 'backup-seal-passphrase', checked: b.seal !== 'recipient' });
  const useAge = h('input', { type: 'radio', name: 'seal', value: 'recipient', id: 'backup-seal-recipient', checked: b.seal === 'recipient' });
  const passphrase = textField({
    id: 'backup-form-passphrase', name: 'passphrase', label: 'Passphrase', type: 'password', autocomplete: 'new-password', required: !passphraseSaved,
    hint: passphraseSaved ? 'A passphrase is saved (sealed, never shown); leave this empty to keep it.' : 'At least 12 characters. Stored sealed on the appliance; keep a copy apart from the backups: a restore needs it.',
  });
  const recipient = textField({
    id: 'backup-form-recipient', name: 'recipient', label: 'age recipient', value: b.recipient ?? '', autocomplete: 'off',
    hint: 'The public key age-keygen printed (age1…). Restore with adebox admin restore FILE --identity KEYFILE; the identity never comes near the appliance.',
    attrs: { spellcheck: 'false', autocapitalize: 'off', class: 'mono' },
  });
  const sealChoice = h('fieldset', { class: 'field' },
    h('legend', {}, 'Protect each backup with'),
    h('label', { for: 'backup-seal-passphrase' }, usePass, ' a passphrase'), ' ',
    h('label', { for: 'backup-seal-recipient' }, useAge, ' an age recipient (public key)'));
  const showSeal = () => {
    passphrase.field.hidden = !usePass.checked;
    recipient.field.hidden = !useAge.checked;
  };
  usePass.addEventListener('change', showSeal);
  useAge.addEventListener('change', showSeal);
  showSeal();
  const checks = [
    [time.input, liveValidate(time.input, checkTime)],
    [keep.input, liveValidate(keep.input, (v) => checkCount(v, 1000, 'backups') ?? (v.trim() && keepDays.input.value.trim() ? 'Keep by number or by days, not both.' : null))],
    [keepDays.input, liveValidate(keepDays.input, (v) => checkCount(v, 3650, 'days'))],
  ];
  const save = h('button', { type: 'submit', id: 'backup-save', class: 'button button-primary' }, 'Save schedule');
  const run = h('button', { type: 'button', id: 'backup-run', class: 'button', disabled: !b.source }, 'Back up now');
  const remove = b.source === 'page'
    ? h('button', { type: 'button', id: 'backup-remove', class: 'button button-danger' }, b.file_configured ? 'Use the configuration file’s schedule' : 'Remove the schedule')
    : null;
  const form = h('form', { id: 'backup-form', class: 'stack', novalidate: true },
    h('h3', {}, 'Schedule'),
    directory.field,
    h('div', { class: 'grid-3' }, time.field, keep.field, keepDays.field),
    sealChoice, passphrase.field, recipient.field,
    actionsRow(save, run, remove));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const number = (input) => (input.value.trim() === '' ? undefined : Number(input.value.trim()));
    runSubmit(form, {
      button: save,
      busyLabel: 'Saving…',
      validate: () => checks.map(([input, validate]) => ({ input, message: validate() })),
      submit: () => request('PUT', '/settings/backup', {
        body: {
          directory: directory.input.value.trim(),
          time: time.input.value.trim(),
          keep: number(keep.input),
          keep_days: number(keepDays.input),
          passphrase: usePass.checked && passphrase.input.value ? passphrase.input.value : undefined,
          recipient: useAge.checked ? recipient.input.value.trim() : undefined,
        },
      }),
      onSuccess: () => {
        toast('Backup schedule saved. It replaces [backup] of the configuration file.');
        reload();
      },
    });
  });
  run.addEventListener('click', async () => {
    const done = setBusy(run, 'Backing up…');
    try {
      const result = await request('POST', '/settings/backup/run');
      if (result.ok) toast(`Backup written: ${result.file}.`);
      else toast(`The backup failed: ${result.message}`, { variant: 'error' });
      reload();
    } catch (err) {
      showError(err);
    } finally {
      done();
    }
  });
  remove?.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Remove the schedule set on this page?',
      message: b.file_configured
        ? 'The daily backup follows [backup] of the configuration file again. The saved passphrase is erased; the backups already written stay.'
        : 'No daily backup runs until a schedule is set again. The saved passphrase is erased; the backups already written stay.',
      id: 'backup-remove-dialog', confirmLabel: 'Remove', danger: true,
      action: () => request('DELETE', '/settings/backup'),
    });
    if (ok) reload();
  });
  return form;
}

export function backupsPanel(ctx) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const section = panel({ id: 'backups', title: 'Backups', intro: 'The daily backup of the whole appliance (store, keys, TLS and signing folders) to a directory; adebox admin restore puts one back.' }, body);
  const load = () => apiGet('/settings/backup', { signal: ctx.signal })
    .then((b) => replaceChildren(body, h('div', { class: 'stack' }, facts(b), can('backups') ? scheduleForm(b, load) : null)))
    .catch((err) => {
      if (err.name === 'AbortError') return;
      replaceChildren(body, h('p', { class: 'error-text' }, `Could not load the backups: ${err.message}`));
      showError(err);
    });
  load();
  return section;
}
