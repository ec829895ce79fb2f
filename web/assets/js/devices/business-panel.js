/**
 * business-panel.js — the device page's Apple Business panel: the device's AppleCare
 * coverage (status, what it is, end date; Apple is asked at most once a day), and the actions
 * adebox takes at Apple Business for it, each with a typed confirmation that says what will
 * happen: assign to one of our MDM servers, unassign, schedule a migration with a deadline
 * (1–90 days), change the deadline or cancel the migration (`org_assign`), and release from
 * the organisation (`org_release`, Owner). Each action shows its progress until Apple has
 * finished it, then each serial's outcome in plain words and Apple's log as Apple sent it.
 * Exposes: `businessPanel({device, tokens, onChanged})`, `follow(box, view, onChanged,
 * resultsId)` (an action's progress, also used by devices/bulk-business.js), `ACTIONS`. Uses /api/v1/business/….
 * Element ids for tests: #device-applecare (data-state), #device-business-action (select),
 * #device-business-token, #device-business-deadline, #device-business-confirm,
 * #device-business-submit, #device-business-progress (data-state), #device-business-results.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet, apiPost } from '../api.js';
import { timeElement, formatDate } from '../format.js';
import { badge } from '../components/badge.js';
import { setBusy, textField } from '../components/form.js';
import { panel } from '../components/panel.js';
import { toast, showError } from '../components/toast.js';
import { can } from '../roles.js';

export const ACTIONS = [
  ['assign', 'Assign to one of our MDM servers', 'org_assign', 'The device enrolls with that server from its next Setup Assistant.'],
  ['unassign', 'Unassign from its MDM server', 'org_assign', 'No MDM server gets the device any more until it is assigned again.'],
  ['migrate', 'Schedule a migration to one of our MDM servers', 'org_assign', 'The device moves to that server and must enroll there by the deadline.'],
  ['change_deadline', 'Change the migration deadline', 'org_assign', 'The device keeps its migration with the new deadline.'],
  ['cancel_migration', 'Cancel the migration', 'org_assign', 'The device goes back to the server it came from.'],
  ['release', 'Release from the organisation', 'org_release', 'The device leaves your organisation for good: it loses its MDM assignment and comes back only through Apple Configurator or its reseller.'],
];

const STATE_WORDS = {
  sending: ['Sending to Apple', 'progress'],
  in_progress: ['Apple is working on it', 'progress'],
  finished: ['Finished', 'success'],
  rejected: ['Refused by Apple', 'danger'],
  unknown: ['Outcome unknown', 'warning'],
};

const OUTCOME_WORDS = { done: ['Done', 'success'], refused: ['Refused', 'danger'], unknown: ['Unclear', 'warning'] };

function coverageBlock(serial) {
  const box = h('div', { id: 'device-applecare', dataset: { state: 'loading' } }, h('p', { class: 'muted' }, 'Asking Apple Business about AppleCare…'));
  apiGet(`/business/applecare/${encodeURIComponent(serial)}`).then((c) => {
    const active = c.coverages.find((x) => x.status === 'ACTIVE');
    box.dataset.state = active ? 'active' : (c.coverages.length ? 'inactive' : 'none');
    replaceChildren(box, c.coverages.length
      ? h('ul', { class: 'plain' }, c.coverages.map((x) => h('li', {},
        badge(x.status === 'ACTIVE' ? 'Covered' : 'Not active', x.status === 'ACTIVE' ? 'success' : 'neutral'), ' ',
        h('strong', {}, x.description ?? 'AppleCare'),
        x.endDateTime ? [' until ', formatDate(x.endDateTime)] : null,
        x.agreementNumber ? h('span', { class: 'muted small' }, ` (agreement ${x.agreementNumber})`) : null)))
      : h('p', {}, 'No AppleCare coverage.'),
    h('p', { class: 'muted small' }, 'Asked ', timeElement(c.fetched_at), '; Apple is asked again after a day.'));
  }).catch((err) => {
    box.dataset.state = 'error';
    replaceChildren(box, h('p', { class: 'muted' }, err.status === 409
      ? 'AppleCare coverage shows once an Owner sets up the Apple Business API account.' : err.message));
  });
  return box;
}

/** What to type: the rule of `business::activities::confirmation`. */
function phrase(action, serial) {
  return action === 'release' ? `release ${serial}` : serial;
}

function results(view, id) {
  if (!view.results?.length) return null;
  return h('div', { id },
    h('ul', { class: 'plain' }, view.results.map((r) => {
      const [words, tone] = OUTCOME_WORDS[r.outcome] ?? [r.outcome, 'neutral'];
      return h('li', { dataset: { outcome: r.outcome } }, h('span', { class: 'mono' }, r.serial), ' ', badge(words, tone),
        r.message ? h('span', {}, ` Apple: “${r.message}”`) : null,
        r.advice ? h('p', { class: 'small' }, r.advice) : null);
    })),
    view.log ? h('details', {}, h('summary', {}, 'Apple’s log, as Apple sent it'), h('pre', { class: 'mdm-result' }, view.log)) : null);
}

/** Shows an action in `box` and follows it until Apple has finished (also for the bulk tool). */
export function follow(box, view, onChanged, resultsId = 'device-business-results') {
  const [words, tone] = STATE_WORDS[view.state] ?? [view.state, 'neutral'];
  box.dataset.state = view.state;
  replaceChildren(box, h('p', {}, badge(words, tone), ' ', view.summary),
    view.error && view.state !== 'in_progress' ? h('p', { class: 'error-text small' }, view.error) : null,
    results(view, resultsId));
  if (view.state === 'in_progress' || view.state === 'sending') {
    setTimeout(() => {
      if (!box.isConnected) return;
      apiGet(`/business/actions/${encodeURIComponent(view.request_id)}`)
        .then((v) => follow(box, v, onChanged, resultsId))
        .catch(() => follow(box, view, onChanged, resultsId));
    }, 2000);
  } else if (view.state === 'finished') {
    onChanged?.();
  }
}

function actionForm(device, tokens, progress, onChanged) {
  const allowed = ACTIONS.filter(([, , perm]) => can(perm));
  if (!allowed.length) return null;
  const select = h('select', { id: 'device-business-action' }, allowed.map(([v, label]) => h('option', { value: v }, label)));
  const tokenSelect = h('select', { id: 'device-business-token' }, tokens.map((t) => h('option', { value: t.id, selected: t.id === device.token }, t.server_name)));
  const inDays = (d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10);
  const deadline = h('input', { id: 'device-business-deadline', type: 'date', min: inDays(1), max: inDays(90), value: inDays(30) });
  const tokenField = h('div', { class: 'field' }, h('label', { for: 'device-business-token' }, 'MDM server (server token)'), tokenSelect);
  const deadlineField = h('div', { class: 'field' }, h('label', { for: 'device-business-deadline' }, 'Migration deadline (1 to 90 days from now)'), deadline);
  const effect = h('p', { class: 'small', id: 'device-business-effect' });
  const { field, input } = textField({ id: 'device-business-confirm', name: 'confirm', label: 'Type to confirm', attrs: { autocomplete: 'off', spellcheck: 'false' } });
  const button = h('button', { type: 'submit', class: 'button button-small', id: 'device-business-submit', disabled: true }, 'Send to Apple Business');
  // One id per action: a retry after a lost answer sends the same id, so Apple acts once.
  let requestId = crypto.randomUUID();
  const update = () => {
    const [action, , , words] = ACTIONS.find(([v]) => v === select.value);
    const needsServer = ['assign', 'unassign', 'migrate'].includes(action);
    tokenField.hidden = !needsServer;
    deadlineField.hidden = !['migrate', 'change_deadline'].includes(action);
    effect.textContent = words;
    field.querySelector('label').textContent = `Type “${phrase(action, device.serial)}” to confirm`;
    button.className = `button button-small${action === 'release' ? ' button-danger' : ''}`;
    button.disabled = input.value.trim().toLowerCase() !== phrase(action, device.serial).toLowerCase();
  };
  select.addEventListener('change', () => { requestId = crypto.randomUUID(); input.value = ''; update(); });
  input.addEventListener('input', update);
  const form = h('form', { class: 'stack business-action', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'device-business-action' }, 'Action'), select),
    tokenField, deadlineField, effect, field, h('div', { class: 'actions' }, button));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const action = select.value;
    const body = { request_id: requestId, serials: [device.serial], confirm: input.value };
    const path = action === 'release' ? '/business/actions/release' : '/business/actions';
    if (action !== 'release') body.action = action;
    if (['assign', 'unassign', 'migrate'].includes(action)) body.token = tokenSelect.value;
    if (['migrate', 'change_deadline'].includes(action)) body.deadline = new Date(`${deadline.value}T17:00:00`).toISOString();
    const restore = setBusy(button, 'Sending…');
    try {
      const view = await apiPost(path, body);
      toast('Sent to Apple Business: its progress shows below.');
      requestId = crypto.randomUUID();
      input.value = '';
      follow(progress, view, onChanged);
    } catch (err) {
      showError(err, 'The action was not sent');
    } finally {
      restore();
      update();
    }
  });
  update();
  return form;
}

export function businessPanel({ device, tokens, onChanged }) {
  const progress = h('div', { id: 'device-business-progress', class: 'stack', 'aria-live': 'polite' });
  const body = h('div', { class: 'stack' },
    h('h3', { class: 'subtitle' }, 'AppleCare'), coverageBlock(device.serial),
    h('h3', { class: 'subtitle' }, 'Actions at Apple Business'),
    actionForm(device, tokens, progress, onChanged) ?? h('p', { class: 'muted' }, 'Your role cannot change devices at Apple Business.'),
    progress);
  // The latest action on this device, if one is still running or just ended.
  apiGet('/business/actions', { query: { serial: device.serial, limit: 1 } }).then((l) => {
    if (l.items?.[0] && !progress.childElementCount) follow(progress, l.items[0]);
  }).catch(() => {});
  return panel({ id: 'device-business', title: 'Apple Business', intro: 'AppleCare coverage, and where Apple Business assigns this device.' }, body);
}
