/**
 * mdm-panel.js — the device page's MDM panel: enrollment state, last check-in, whether a push
 * token is known, the command history with results, and the actions Refresh device
 * information, Rename, Release now and Erase (typed serial confirmation), each shown only
 * when the role holds its permission (`device_support`, `device_erase`; docs/roles.md); the
 * setup steps run while Setup Assistant waits, and for a step that failed and blocks the
 * release, which one and why, with Retry and Release anyway (docs/setup-steps.md).
 * Exposes: `mdmPanel({serial, onChanged})`. Uses /api/v1/devices/{serial}/mdm….
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet, apiPost } from '../api.js';
import { timeOr } from '../format.js';
import { panel } from '../components/panel.js';
import { toast, showError } from '../components/toast.js';
import { can } from '../roles.js';

const STATE_WORDS = {
  awaiting_configuration: 'Waiting in Setup Assistant for final configuration',
  enrolled: 'Enrolled and released',
  authenticated: 'Authenticated, no push token yet',
  checked_out: 'Checked out',
};

function history(commands) {
  if (!commands.length) return h('p', { class: 'muted' }, 'No commands yet.');
  return h('ol', { class: 'event-list', id: 'device-mdm-commands' }, commands.map((c) => h('li', { dataset: { state: c.state } },
    h('strong', {}, c.words), ' — ', c.state.replace(/_/g, ' '), ` (queued by ${c.origin}, `, timeOr(c.queued_at, 'never'), ')',
    c.error_chain?.length ? h('p', { class: 'muted' }, c.error_chain.map((e) => e.description ?? e.code).join('; ')) : null,
    c.result ? h('pre', { class: 'mdm-result' }, JSON.stringify(c.result, null, 2)) : null)));
}

const STEP_WORDS = {
  waiting: 'Waiting', sent: 'Sent, no answer yet', done: 'Done', failed: 'Failed', skipped: 'Skipped',
};

/** The setup steps of the device's run, in order, and what blocks its release. */
function setupSteps(setup, act) {
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
    can('device_support') ? h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'device-mdm-retry', on: { click: () => act('setup/retry', {}, 'Step sent again') } }, 'Retry the step'),
      h('button', { type: 'button', id: 'device-mdm-release-anyway', on: { click: () => act('setup/release-anyway', {}, 'Released without the remaining steps') } }, 'Release anyway')) : null);
  return h('div', { id: 'device-mdm-setup' },
    h('h3', {}, 'Setup steps'),
    block,
    setup.steps.length ? h('ol', { class: 'event-list' }, rows) : h('p', { class: 'muted' }, 'No setup steps: released right away.'),
    setup.released_anyway_by ? h('p', { class: 'muted' }, `Released anyway by ${setup.released_anyway_by}.`) : null);
}

export function mdmPanel({ serial, onChanged }) {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const path = `/devices/${encodeURIComponent(serial)}/mdm`;
  const act = (what, payload, done) => apiPost(`${path}/${what}`, payload)
    .then(() => { toast(done); onChanged?.(); })
    .catch((err) => showError(err, done));
  apiGet(path).then((s) => {
    const name = h('input', { type: 'text', id: 'device-mdm-name', maxlength: 63, 'aria-label': 'New device name' });
    const confirm = h('input', { type: 'text', id: 'device-mdm-erase-confirm', 'aria-label': `Type ${serial} to confirm the erase` });
    const erase = h('button', { type: 'button', id: 'device-mdm-erase', class: 'danger', disabled: true,
      on: { click: () => act('erase', { confirm: confirm.value }, 'Erase queued') } }, 'Erase for re-enrollment');
    confirm.addEventListener('input', () => { erase.disabled = confirm.value.trim().toUpperCase() !== serial.toUpperCase(); });
    replaceChildren(body,
      h('dl', { class: 'facts' },
        h('dt', {}, 'State'), h('dd', { id: 'device-mdm-state' }, STATE_WORDS[s.state] ?? s.state),
        h('dt', {}, 'Last check-in'), h('dd', {}, timeOr(s.last_check_in, 'never')),
        h('dt', {}, 'Push token'), h('dd', {}, s.push_token_present ? 'Known' : 'Not yet')),
      can('device_support') ? h('div', { class: 'actions' },
        h('button', { type: 'button', id: 'device-mdm-refresh', on: { click: () => act('refresh', {}, 'Device information requested') } }, 'Refresh device information'),
        h('button', { type: 'button', id: 'device-mdm-release', on: { click: () => act('release', {}, 'Release queued') } }, 'Release now')) : null,
      can('device_support') ? h('div', { class: 'actions' }, name,
        h('button', { type: 'button', id: 'device-mdm-rename', on: { click: () => act('rename', { name: name.value }, 'Rename queued') } }, 'Rename')) : null,
      can('device_erase') ? h('div', { class: 'actions' }, h('label', {}, `Type the serial number ${serial} to erase this device; it runs Setup Assistant and enrolls again.`), confirm, erase) : null,
      setupSteps(s.setup, act),
      h('h3', {}, 'Commands'), history(s.commands));
  }).catch((err) => {
    replaceChildren(body, h('p', { class: 'muted' }, err.status === 404
      ? 'This device has not checked in with MDM yet.' : `Could not load the MDM state: ${err.message}`));
  });
  return panel({ id: 'device-mdm', title: 'Management (MDM)', intro: 'Check-ins, commands and their results.' }, body);
}
