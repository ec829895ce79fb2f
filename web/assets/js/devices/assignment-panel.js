/**
 * devices/assignment-panel.js — on a device's page, where its enrollment profile assignment
 * stands: the state in words, the profile (by name, with Apple's profile UUID), Apple's last
 * answer, attempts, the next retry time while it waits, when it was assigned, and the actions
 * to assign a profile or remove it (with the same dry run as the Devices page).
 *
 * Exposes: `assignmentPanel({device, profiles, onChanged})` → element.
 * Element ids for tests: #device-assignment (panel), #device-assignment-state (data-state),
 * #device-assignment-retry, #device-assign-profile (select), #device-assign,
 * #device-unassign; each dd has data-field="<assignment field>".
 * Must not use: anything but the API (through devices/assign.js) and the callbacks it is given.
 */

import { h } from '../dom.js';
import { formatAbsolute, formatNumber, timeElement, timeOr } from '../format.js';
import { adminHref } from '../router.js';
import { panel } from '../components/panel.js';
import { setDisabledReason } from '../components/form.js';
import { assignmentBadge, lastResultWords } from '../profiles/words.js';
import { assignFlow, unassignFlow } from './assign.js';

const WAITING = new Set(['cooldown', 'throttled', 'queued', 'not_accessible', 'failed']);

function row(field, label, ...value) {
  return [h('dt', {}, label), h('dd', { dataset: { field } }, value)];
}

export function assignmentPanel({ device, profiles, onChanged }) {
  const a = device.assignment ?? { state: 'idle', attempts: 0 };
  const profile = profiles.find((p) => p.id === a.profile_id);
  const profileCell = a.profile_id
    ? (profile
      ? h('a', { href: adminHref(`profiles/${profile.id}`), title: a.profile_uuid ? `Apple profile UUID ${a.profile_uuid}` : null }, profile.name)
      : h('span', { class: 'muted' }, 'a deleted profile'))
    : h('span', { class: 'muted' }, 'None from this appliance');
  const retry = a.next_retry_at && WAITING.has(a.state)
    ? h('span', { id: 'device-assignment-retry' }, 'next try ', timeElement(a.next_retry_at, { deadline: true }), h('span', { class: 'muted small', 'aria-hidden': 'true' }, ` (${formatAbsolute(a.next_retry_at)})`))
    : h('span', { class: 'muted', id: 'device-assignment-retry' }, 'No retry pending');

  const details = h('dl', { class: 'details' },
    row('state', 'State', h('span', { id: 'device-assignment-state', dataset: { state: a.state } }, assignmentBadge(a.state)), a.message ? h('span', { class: 'small' }, a.message) : null),
    row('profile_id', 'Profile', profileCell, a.forced_await && a.profile_id && profile?.await_device_configured !== true
      ? h('span', { class: 'small', id: 'device-assignment-forced-await' }, `Apple Business set a migration deadline for this device, so it must wait in Setup Assistant for final configuration: adebox assigns it a copy of “${profile?.name ?? 'the profile'}” with “Await final configuration” turned on.`)
      : null),
    row('last_result', 'Apple’s last answer', lastResultWords(a.last_result)),
    row('attempts', 'Attempts', formatNumber(a.attempts ?? 0)),
    row('next_retry_at', 'Next retry', retry),
    row('assigned_at', 'Assigned', timeOr(a.assigned_at, 'not yet')));

  const sorted = [...profiles].sort((x, y) => x.name.localeCompare(y.name));
  const choose = h('select', { id: 'device-assign-profile' },
    h('option', { value: '' }, sorted.length ? 'Choose a profile…' : 'No profile yet'),
    sorted.filter((p) => p.id !== a.profile_id).map((p) => h('option', { value: p.id }, p.name)));
  const assign = h('button', { type: 'button', class: 'button button-primary button-small', id: 'device-assign' }, a.profile_id ? 'Assign instead…' : 'Assign…');
  const unassign = h('button', { type: 'button', class: 'button button-small', id: 'device-unassign' }, 'Remove profile…');
  const actions = h('div', { class: 'selection-actions' }, h('label', { for: 'device-assign-profile' }, 'Profile'), choose, assign, a.profile_id ? unassign : null);
  const refresh = () => setDisabledReason(assign, choose.value ? null : 'Choose a profile first.');
  choose.addEventListener('change', refresh);
  assign.addEventListener('click', () => assignFlow({
    serials: [device.serial], profile: profiles.find((p) => p.id === choose.value), onDone: onChanged,
  }));
  unassign.addEventListener('click', () => unassignFlow({ serials: [device.serial], onDone: onChanged }));
  const element = panel({
    id: 'device-assignment', title: 'Enrollment profile',
    intro: 'The profile Apple gives this device in Setup Assistant. Failed attempts are retried by themselves: after an hour, then a day; when Apple asks to wait, as long as it says.',
  }, details, actions);
  refresh();
  return element;
}
