/**
 * devices/bulk-business.js — Apple Business actions for many devices at once, from a CSV file
 * or a pasted list of serial numbers: assign to one of our MDM servers, unassign, schedule /
 * change / cancel a migration with a deadline (1–90 days), release from the organisation
 * (Owners; its stronger confirmation). First "Check" reads the list on the appliance (nothing
 * is sent to Apple) and says what to type to confirm; then "Send" sends exactly that list, and
 * the action's progress and each serial's outcome show as Apple works on it.
 *
 * Owns: reading the file (≤ 1 MiB) or the pasted text, the check
 * (`POST /business/actions[/release]/csv?check=true`), the typed confirmation, sending with one
 * request id per action (a retry after a lost answer acts once), following the action.
 * Exposes: `bulkBusiness({tokens, onChanged})` → element, or null when the role takes no
 * Business action.
 * Element ids for tests: #bulk-business (the <details>), #bulk-business-action,
 * #bulk-business-token, #bulk-business-deadline, #bulk-business-source-file /
 * #bulk-business-source-paste (radios), #bulk-business-file, #bulk-business-paste,
 * #bulk-business-check, #bulk-business-found, #bulk-business-confirm, #bulk-business-send,
 * #bulk-business-error, #bulk-business-progress (data-state), #bulk-business-results.
 * Must not use: anything but the API and the callbacks it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiPostText } from '../api.js';
import { formatNumber } from '../format.js';
import { setBusy, setDisabledReason } from '../components/form.js';
import { showError, toast } from '../components/toast.js';
import { can } from '../roles.js';
import { ACTIONS, follow } from './business-panel.js';
import { pastedSerials } from './bulk.js';

const MAX_CSV_BYTES = 1024 * 1024;
const NEEDS_SERVER = ['assign', 'unassign', 'migrate'];
const NEEDS_DEADLINE = ['migrate', 'change_deadline'];

export function bulkBusiness({ tokens, onChanged }) {
  const allowed = ACTIONS.filter(([, , perm]) => can(perm));
  if (!allowed.length) return null;
  const id = (s) => `bulk-business-${s}`;
  const action = h('select', { id: id('action') }, allowed.map(([v, label]) => h('option', { value: v }, label)));
  const token = h('select', { id: id('token') }, tokens.map((t) => h('option', { value: t.id }, t.server_name)));
  const inDays = (d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10);
  const deadline = h('input', { id: id('deadline'), type: 'date', min: inDays(1), max: inDays(90), value: inDays(30) });
  const tokenField = h('div', { class: 'field' }, h('label', { for: id('token') }, 'MDM server (server token)'), token);
  const deadlineField = h('div', { class: 'field' }, h('label', { for: id('deadline') }, 'Migration deadline (1 to 90 days from now)'), deadline);
  const effect = h('p', { class: 'small' });
  const radio = (value, words) => {
    const input = h('input', { type: 'radio', name: id('source'), id: id(`source-${value}`), value, props: { checked: value === 'file' } });
    return [input, h('div', { class: 'check-row' }, input, h('label', { for: input.id }, words))];
  };
  const [fileRadio, fileChoice] = radio('file', 'A CSV file');
  const [pasteRadio, pasteChoice] = radio('paste', 'Serial numbers pasted here');
  const file = h('input', { type: 'file', id: id('file'), accept: '.csv,.txt,text/csv,text/plain', class: 'file-input' });
  const paste = h('textarea', { id: id('paste'), rows: 5, class: 'mono', spellcheck: 'false', autocomplete: 'off', placeholder: 'C02XK1ABJG5J\nDMPXK1ABJG5K' });
  const fileBox = h('div', { class: 'field' }, h('label', { for: id('file') }, 'CSV file'), file,
    h('p', { class: 'hint' }, 'The first column that holds serial numbers is used; a header row is fine. Up to 1,000 devices per action.'));
  const pasteBox = h('div', { class: 'field', hidden: true }, h('label', { for: id('paste') }, 'Serial numbers'),
    h('p', { class: 'hint' }, 'One per line, or separated by commas or spaces.'), paste);
  const check = h('button', { type: 'button', class: 'button', id: id('check') }, 'Check the list');
  const found = h('div', { id: id('found'), 'aria-live': 'polite' });
  const confirm = h('input', { id: id('confirm'), type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const confirmLabel = h('label', { for: id('confirm') }, 'Type to confirm');
  const confirmField = h('div', { class: 'field', hidden: true }, confirmLabel, confirm);
  const send = h('button', { type: 'button', class: 'button button-primary', id: id('send') }, 'Send to Apple Business');
  const error = h('p', { class: 'field-error', id: id('error'), role: 'alert', hidden: true });
  const progress = h('div', { id: id('progress'), class: 'stack', 'aria-live': 'polite' });

  let csvText = null;
  let checked = null; // {key, phrase, count} of the last check
  // One id per action: a retry after a lost answer sends the same id, so Apple acts once.
  let requestId = crypto.randomUUID();

  const source = () => (pasteRadio.checked ? 'paste' : 'file');
  const listText = () => (source() === 'file' ? csvText : pastedSerials(paste.value).join('\n'));
  const isRelease = () => action.value === 'release';
  const path = () => (isRelease() ? '/business/actions/release/csv' : '/business/actions/csv');
  const inputKey = () => JSON.stringify([isRelease(), listText()]);

  function showProblem(message) {
    error.textContent = message ?? '';
    error.hidden = !message;
  }

  function refresh() {
    const a = action.value;
    tokenField.hidden = !NEEDS_SERVER.includes(a);
    deadlineField.hidden = !NEEDS_DEADLINE.includes(a);
    effect.textContent = ACTIONS.find(([v]) => v === a)?.[3] ?? '';
    fileBox.hidden = source() !== 'file';
    pasteBox.hidden = source() !== 'paste';
    send.className = `button ${isRelease() ? 'button-danger' : 'button-primary'}`;
    const text = listText();
    setDisabledReason(check, text && text.trim() ? null : (source() === 'file' ? 'Choose a CSV file.' : 'Paste serial numbers.'));
    if (checked && checked.key !== inputKey()) {
      checked = null;
      replaceChildren(found);
      confirm.value = '';
    }
    confirmField.hidden = !checked;
    if (checked) confirmLabel.textContent = `Type “${checked.phrase}” to confirm`;
    let why = null;
    if (!checked) why = 'Check the list first: it shows which devices the action names.';
    else if (NEEDS_SERVER.includes(a) && !token.value) why = 'Add a server token first.';
    else if (confirm.value.trim().toLowerCase() !== checked.phrase.toLowerCase()) why = `Type “${checked.phrase}” to confirm.`;
    setDisabledReason(send, why);
  }

  file.addEventListener('change', async () => {
    showProblem(null);
    csvText = null;
    const chosen = file.files?.[0];
    if (chosen && chosen.size > MAX_CSV_BYTES) {
      showProblem(`“${chosen.name}” is larger than 1 MiB; one action names at most 1,000 devices. Split the file.`);
    } else if (chosen) {
      try {
        csvText = await chosen.text();
      } catch {
        showProblem(`Could not read “${chosen.name}”. Choose it again.`);
      }
    }
    refresh();
  });
  action.addEventListener('change', () => { requestId = crypto.randomUUID(); refresh(); });
  for (const el of [fileRadio, pasteRadio, token, deadline]) el.addEventListener('change', refresh);
  for (const el of [paste, confirm]) el.addEventListener('input', refresh);

  check.addEventListener('click', async () => {
    showProblem(null);
    const key = inputKey();
    const restore = setBusy(check, 'Checking…');
    try {
      const answer = await apiPostText(path(), listText(), 'text/csv', { query: { check: 'true' } });
      checked = { key, phrase: answer.confirm, count: answer.serials.length };
      requestId = crypto.randomUUID();
      const n = answer.serials.length;
      replaceChildren(found,
        h('p', {}, h('strong', {}, `${formatNumber(n)} ${n === 1 ? 'device' : 'devices'}`), ' in the list.'),
        answer.ignored_rows.length
          ? h('details', {}, h('summary', {}, answer.ignored_rows.length === 1
            ? '1 row without a serial number is left out'
            : `${formatNumber(answer.ignored_rows.length)} rows without a serial number are left out`),
            h('ul', { class: 'plain small' }, answer.ignored_rows.slice(0, 50).map((r) => h('li', {}, r))))
          : null);
    } catch (err) {
      if (err.name === 'AbortError') return;
      checked = null;
      showProblem(err.message || String(err));
    } finally {
      restore();
      refresh();
    }
  });

  send.addEventListener('click', async () => {
    showProblem(null);
    const a = action.value;
    const query = { request_id: requestId, confirm: confirm.value };
    if (!isRelease()) query.action = a;
    if (NEEDS_SERVER.includes(a)) query.token = token.value;
    if (NEEDS_DEADLINE.includes(a)) query.deadline = new Date(`${deadline.value}T17:00:00`).toISOString();
    const restore = setBusy(send, 'Sending…');
    try {
      const view = await apiPostText(path(), listText(), 'text/csv', { query });
      toast('Sent to Apple Business: its progress shows below.');
      requestId = crypto.randomUUID();
      confirm.value = '';
      follow(progress, view, onChanged, id('results'));
      progress.scrollIntoView?.({ block: 'nearest' });
    } catch (err) {
      showError(err, 'The action was not sent');
      showProblem(err.message || String(err));
    } finally {
      restore();
      refresh();
    }
  });

  const element = h('details', { class: 'panel bulk-assign', id: 'bulk-business' },
    h('summary', { class: 'bulk-summary' }, h('span', { class: 'panel-title' }, 'Apple Business actions by CSV file or pasted list'),
      h('span', { class: 'muted small' }, ' — assign, unassign, migrate or release many devices at Apple Business')),
    h('div', { class: 'stack bulk-body' },
      h('div', { class: 'grid-2' },
        h('div', { class: 'stack' },
          h('div', { class: 'field' }, h('label', { for: id('action') }, 'Action'), action),
          tokenField, deadlineField, effect),
        h('div', { class: 'stack' },
          h('fieldset', { class: 'field-group' }, h('legend', {}, 'Serial numbers from'), fileChoice, pasteChoice),
          fileBox, pasteBox)),
      h('div', { class: 'actions' }, check),
      found, confirmField,
      h('div', { class: 'actions' }, send),
      error, progress));
  refresh();
  return element;
}
