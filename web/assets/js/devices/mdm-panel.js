/**
 * mdm-panel.js — the device page's MDM panel: enrollment state, last check-in, whether a push
 * token is known, the actions Refresh device information, Release now (only while the device
 * waits in Setup Assistant), Rename (a labelled field checked before anything is sent) and
 * Erase and Erase and return to service (typed serial confirmation; rts-form.js), each shown only when the role holds its permission
 * (`device_support`, `device_erase`; docs/roles.md), the setup steps run while Setup
 * Assistant waits (for a step that failed and blocks the release: which one and why, with
 * Retry and Release anyway; docs/setup-steps.md), and the command history as a table.
 * Each part is one function returning one block, so a new action is one more block.
 * Exposes: `mdmPanel({serial, onChanged})`. Uses /api/v1/devices/{serial}/mdm….
 * Element ids for tests: #device-mdm-state (data-state), #device-mdm-refresh,
 * #device-mdm-release, #device-mdm-name, #device-mdm-rename, #device-mdm-erase-confirm,
 * #device-mdm-erase, #device-mdm-commands (rows data-state).
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet, apiPost } from '../api.js';
import { timeElement, timeOr } from '../format.js';
import { badge } from '../components/badge.js';
import { clearFieldError, setBusy, setDisabledReason, setFieldError, textField } from '../components/form.js';
import { panel } from '../components/panel.js';
import { toast, showError } from '../components/toast.js';
import { can } from '../roles.js';
import { rtsForm } from './rts-form.js';

const STATE_WORDS = {
  awaiting_configuration: ['Waiting in Setup Assistant for final configuration', 'warning'],
  enrolled: ['Enrolled and released', 'success'],
  authenticated: ['Authenticated, no push token yet', 'info'],
  checked_out: ['Checked out', 'neutral'],
};

const COMMAND_STATES = {
  queued: ['Queued', 'progress'],
  not_now: ['Device busy, retried later', 'warning'],
  acknowledged: ['Done', 'success'],
  error: ['Failed', 'danger'],
  command_format_error: ['Refused by the device', 'danger'],
  canceled: ['Canceled', 'neutral'],
};

const NAME_MAX = 63;

function stateBadge(state) {
  const [words, tone] = STATE_WORDS[state] ?? [String(state ?? 'Unknown').replaceAll('_', ' '), 'neutral'];
  return badge(words, tone);
}

function facts(s) {
  return h('dl', { class: 'details' },
    h('dt', {}, 'State'), h('dd', { id: 'device-mdm-state', dataset: { state: s.state } }, stateBadge(s.state)),
    h('dt', {}, 'Last check-in'), h('dd', {}, timeOr(s.last_check_in, 'never')),
    h('dt', {}, 'Push token'), h('dd', {}, s.push_token_present ? 'Known: the appliance can wake the device' : 'Not yet: commands wait for the next check-in'),
    s.released_at ? [h('dt', {}, 'Released'), h('dd', {}, timeElement(s.released_at))] : null,
    // Only whether and when it was escrowed: the token itself never reaches the page.
    h('dt', {}, 'Bootstrap token'), h('dd', { id: 'device-mdm-bootstrap' }, s.bootstrap_token
      ? h('span', {}, 'Escrowed ', timeOr(s.bootstrap_token.escrowed_at, ''))
      : 'Not escrowed'));
}

/** Runs an action with the button busy; says what happened either way. */
async function run(button, busyLabel, request, done, onChanged) {
  const restore = setBusy(button, busyLabel);
  try {
    await request();
    toast(done);
    onChanged?.();
  } catch (err) {
    showError(err, `${done.replace(/\.$/, '')} failed`);
  } finally {
    restore();
  }
}

function commandButtons(s, post, onChanged) {
  const refresh = h('button', { type: 'button', class: 'button button-small', id: 'device-mdm-refresh' }, 'Refresh device information');
  refresh.addEventListener('click', () => run(refresh, 'Asking…', () => post('refresh', {}), 'Device information requested.', onChanged));
  const release = h('button', { type: 'button', class: 'button button-small', id: 'device-mdm-release' }, 'Release now');
  release.addEventListener('click', () => run(release, 'Releasing…', () => post('release', {}), 'Release queued: the device leaves Setup Assistant at its next check-in.', onChanged));
  const section = h('div', { class: 'stack mdm-actions' }, h('div', { class: 'actions' }, refresh, release));
  // The reason goes beside the button once it is on the page.
  queueMicrotask(() => {
    if (s.state !== 'awaiting_configuration') {
      setDisabledReason(release, s.released_at ? 'Already released.' : 'Only a device waiting in Setup Assistant can be released.');
    }
  });
  return section;
}

function renameForm(post, onChanged) {
  const { field, input } = textField({
    id: 'device-mdm-name', name: 'name', label: 'New device name',
    hint: `What the device shows as its name (at most ${NAME_MAX} characters).`,
    attrs: { maxlength: NAME_MAX, autocomplete: 'off' },
  });
  const button = h('button', { type: 'submit', class: 'button button-small', id: 'device-mdm-rename' }, 'Rename');
  const form = h('form', { class: 'mdm-rename', novalidate: true }, field, h('div', { class: 'actions' }, button));
  input.addEventListener('input', () => clearFieldError(input));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) {
      setFieldError(input, 'Give the device a name first.');
      input.focus();
      return;
    }
    run(button, 'Renaming…', () => post('rename', { name }), `Rename to “${name}” queued.`, onChanged);
  });
  return form;
}

function eraseForm(serial, post, onChanged) {
  const { field, input } = textField({
    id: 'device-mdm-erase-confirm', name: 'confirm', label: `Type the serial number ${serial} to confirm`,
    attrs: { autocomplete: 'off', spellcheck: 'false' },
  });
  const button = h('button', { type: 'button', class: 'button button-danger button-small', id: 'device-mdm-erase', disabled: true }, 'Erase for re-enrollment');
  input.addEventListener('input', () => { button.disabled = input.value.trim().toUpperCase() !== serial.toUpperCase(); });
  button.addEventListener('click', () => run(button, 'Erasing…', () => post('erase', { confirm: input.value }), 'Erase queued.', onChanged));
  return h('div', { class: 'callout callout-warning mdm-erase' },
    h('p', {}, h('strong', {}, 'Erase this device. '), 'Everything on it is deleted; it restarts in Setup Assistant and enrolls again with its profile.'),
    field, h('div', { class: 'actions' }, button));
}

function commandState(c) {
  const [words, tone] = COMMAND_STATES[c.state] ?? [String(c.state).replaceAll('_', ' '), 'neutral'];
  return badge(words, tone);
}

function history(commands) {
  if (!commands.length) return h('p', { class: 'muted', id: 'device-mdm-commands' }, 'No commands yet.');
  const rows = commands.map((c) => h('tr', { dataset: { state: c.state } },
    h('td', {}, h('strong', {}, c.words), h('p', { class: 'muted small' }, `by ${c.origin}`)),
    h('td', { class: 'col-nowrap' }, commandState(c)),
    h('td', { class: 'col-date' }, timeOr(c.queued_at, 'never')),
    h('td', { class: 'col-wrap' },
      c.error_chain?.length ? h('p', { class: 'error-text small' }, c.error_chain.map((e) => e.description ?? e.code).join('; ')) : null,
      c.result ? h('details', {}, h('summary', {}, 'What the device answered'), h('pre', { class: 'mdm-result' }, JSON.stringify(c.result, null, 2))) : null)));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'device-mdm-commands' },
    h('caption', { class: 'sr-only' }, 'Commands sent to this device, newest first'),
    h('thead', {}, h('tr', {}, ['Command', 'State', 'Queued', 'Result'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows)));
}

const STEP_WORDS = {
  waiting: 'Waiting', sent: 'Sent, no answer yet', done: 'Done', failed: 'Failed', skipped: 'Skipped',
};

/** Retry and Release anyway, for a step that failed and blocks the release. */
function stepActions(post, onChanged) {
  const retry = h('button', { type: 'button', id: 'device-mdm-retry' }, 'Retry the step');
  retry.addEventListener('click', () => run(retry, 'Sending…', () => post('setup/retry', {}), 'Step sent again.', onChanged));
  const anyway = h('button', { type: 'button', id: 'device-mdm-release-anyway' }, 'Release anyway');
  anyway.addEventListener('click', () => run(anyway, 'Releasing…', () => post('setup/release-anyway', {}), 'Released without the remaining steps.', onChanged));
  return h('div', { class: 'actions' }, retry, anyway);
}

/** The setup steps of the device's run, in order, and what blocks its release. */
function setupSteps(setup, post, onChanged) {
  if (!setup) return null;
  const blocked = setup.blocked_at ?? null;
  const rows = setup.steps.map((st, i) => h('li', { dataset: { state: st.state } },
    h('strong', {}, `${i + 1}. ${st.title}`), ' — ',
    h('span', { class: `badge badge-${st.state === 'failed' ? 'danger' : st.state === 'done' ? 'success' : 'neutral'}` }, STEP_WORDS[st.state] ?? st.state),
    st.attempts > 1 ? ` (${st.attempts} attempts)` : null,
    st.detail ? h('p', { class: 'muted' }, st.detail) : null));
  const block = blocked === null ? null : h('div', { class: 'banner banner-error', id: 'device-mdm-blocked', role: 'alert' },
    h('p', {}, `Step ${blocked + 1} (${setup.steps[blocked].title}) failed and keeps the device in Setup Assistant: `,
      setup.steps[blocked].detail ?? 'no reason given'),
    can('device_support') ? stepActions(post, onChanged) : null);
  return h('div', { id: 'device-mdm-setup' },
    h('h3', { class: 'subtitle' }, 'Setup steps'),
    block,
    setup.steps.length ? h('ol', { class: 'event-list' }, rows) : h('p', { class: 'muted' }, 'No setup steps: released right away.'),
    setup.released_anyway_by ? h('p', { class: 'muted' }, `Released anyway by ${setup.released_anyway_by}.`) : null);
}

export function mdmPanel({ serial, onChanged }) {
  const body = h('div', { class: 'stack' }, h('p', { class: 'muted' }, 'Loading…'));
  const path = `/devices/${encodeURIComponent(serial)}/mdm`;
  const post = (what, payload) => apiPost(`${path}/${what}`, payload);
  apiGet(path).then((s) => {
    replaceChildren(body,
      facts(s),
      can('device_support') ? commandButtons(s, post, onChanged) : null,
      can('device_support') ? renameForm(post, onChanged) : null,
      can('device_erase') ? eraseForm(serial, post, onChanged) : null,
      can('device_erase') && s.state !== 'checked_out' ? rtsForm({ serial, product: s.product, post, run, onChanged }) : null,
      setupSteps(s.setup, post, onChanged),
      h('h3', { class: 'subtitle' }, 'Commands'), history(s.commands ?? []));
  }).catch((err) => {
    replaceChildren(body, h('p', { class: 'muted' }, err.status === 404
      ? 'This device has not checked in with MDM yet.' : `Could not load the MDM state: ${err.message}`));
  });
  return panel({ id: 'device-mdm', title: 'Management (MDM)', intro: 'Check-ins, commands and their results.' }, body);
}
