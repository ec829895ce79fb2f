/**
 * profiles/describe.js — every setting of a profile in words, grouped as the form's sections
 * are, for the profile's own page; and the short cells of the profile list (platforms, the
 * defaults that point at a profile, its state at Apple per token).
 *
 * Exposes: `describeProfile(profile, {catalog})` → element, `platformChips(platforms)`,
 * `defaultsWords(defaults, tokenName)`, `appleStates(tokens, tokenName)`.
 * Element ids for tests: #profile-settings-list; each dd has data-field="<contract field>".
 * Must not use: the API.
 */

import { h } from '../dom.js';
import { formatDuration, formatNumber } from '../format.js';
import { appleStateBadge, affinityWords, familyWords, graceWords, PLATFORMS, syncWords } from './words.js';

function yesNo(value) {
  return value ? 'Yes' : 'No';
}

function orNot(value, fallback = 'Not set') {
  return value === null || value === undefined || value === '' ? h('span', { class: 'muted' }, fallback) : value;
}

function seconds(value, fallback) {
  return value === null || value === undefined ? h('span', { class: 'muted' }, fallback) : formatDuration(value);
}

function row(field, label, ...value) {
  return [h('dt', {}, label), h('dd', { dataset: { field } }, value)];
}

export function platformChips(platforms) {
  const words = new Map(PLATFORMS.map(([value, w]) => [value, w]));
  return h('ul', { class: 'chips' }, (platforms ?? []).map((p) => h('li', {}, h('span', { class: 'badge badge-neutral' }, words.get(p) ?? p))));
}

/** "Default of Server A (all devices), Server B (iPad)". */
export function defaultsWords(defaults, tokenName) {
  if (!defaults?.length) return h('span', { class: 'muted' }, 'Not a default');
  return h('ul', { class: 'plain-list' }, defaults.map((d) => h('li', {}, tokenName(d.token_id), h('span', { class: 'muted' }, ` · ${familyWords(d.family)}`))));
}

/** Each token's copy at Apple: a badge, and Apple's refusal in plain words with its code. */
export function appleStates(tokens, tokenName) {
  if (!tokens?.length) return h('span', { class: 'muted' }, 'No token yet');
  return h('ul', { class: 'plain-list apple-states' }, tokens.map((t) => h('li', { dataset: { token: t.token_id, state: t.state } },
    h('span', { class: 'small' }, tokenName(t.token_id)), ' ', appleStateBadge(t.state),
    t.error ? h('p', { class: 'error-text small' }, t.error.message, t.error.code ? h('span', { class: 'muted' }, ` (Apple: ${t.error.code})`) : '') : null)));
}

function sharedIpad(p) {
  if (!p.shared_ipad) return 'No';
  const s = p.shared_ipad_settings ?? {};
  return h('div', {},
    h('p', {}, 'Yes'),
    h('ul', { class: 'plain-list small' },
      h('li', {}, 'Cached users: ', s.max_cached_users ? formatNumber(s.max_cached_users) : 'the iPad decides'),
      h('li', {}, 'Password after the screen locks: ', graceWords(s.passcode_lock_grace_s)),
      h('li', {}, 'Log out after inactivity: ', seconds(s.inactivity_logout_s, 'never')),
      h('li', {}, 'Temporary sessions only: ', yesNo(s.temporary_session_only)),
      h('li', {}, 'End a temporary session after inactivity: ', seconds(s.temporary_session_inactivity_s, 'never'))));
}

function screens(hidden, catalog) {
  if (!hidden?.length) return h('span', { class: 'muted' }, 'None: every screen shows');
  const titles = new Map((catalog ?? []).map((i) => [i.key, i.title]));
  return h('ul', { class: 'chips', id: 'profile-hidden-screens' }, hidden.map((key) => h('li', { dataset: { key } },
    h('span', { class: 'badge badge-neutral', title: key }, titles.get(key) ?? key))));
}

export function describeProfile(p, { catalog } = {}) {
  const minimum = Object.entries(p.minimum_os ?? {});
  const pinned = Object.entries(p.pinned_os ?? {});
  const versions = (list, none) => (list.length
    ? h('ul', { class: 'plain-list' }, list.map(([platform, version]) => h('li', {}, `${platform} ${version}`)))
    : h('span', { class: 'muted' }, none));
  const section = (title) => h('h3', { class: 'subtitle settings-heading' }, title);
  return h('div', { id: 'profile-settings-list' },
    section('General'),
    h('dl', { class: 'details' },
      row('name', 'Name', p.name),
      row('description', 'Description', orNot(p.description, 'None')),
      row('platforms', 'Platforms', platformChips(p.platforms))),
    section('User affinity'),
    h('dl', { class: 'details' },
      row('user_affinity', 'User affinity', affinityWords(p.user_affinity),
        p.user_affinity === 'with_affinity' ? h('span', { class: 'muted small' }, '(the user signs in during Setup Assistant)') : null)),
    section('Management'),
    h('dl', { class: 'details' },
      row('supervised', 'Supervised', yesNo(p.supervised)),
      row('locked_enrollment', 'Locked enrollment', p.locked_enrollment ? 'Yes: the user cannot remove management' : 'No'),
      row('shared_ipad', 'Shared iPad', sharedIpad(p)),
      row('sync_with_computers', 'Sync with computers', syncWords(p.sync_with_computers),
        p.sync_with_computers === 'allow_certificates' ? h('span', { class: 'muted' }, `(${formatNumber(p.supervising_host_certs?.length ?? 0)} certificates)`) : null),
      row('await_device_configured', 'Await final configuration', yesNo(p.await_device_configured)),
      row('return_to_service', 'Return to Service keeps managed apps', yesNo(p.return_to_service)),
      row('do_not_use_profile_from_backup', 'Do not restore enrollment from backups', yesNo(p.do_not_use_profile_from_backup)),
      row('cellular_data_plan_url', 'Cellular data plan URL', orNot(p.cellular_data_plan_url && h('span', { class: 'mono' }, p.cellular_data_plan_url)))),
    section('Device name'),
    h('dl', { class: 'details' }, row('device_name_template', 'Template', orNot(p.device_name_template && h('span', { class: 'mono' }, p.device_name_template), 'None: devices keep their own names'))),
    section('Department and support'),
    h('dl', { class: 'details' },
      row('department', 'Department', orNot(p.department)),
      row('support_phone_number', 'Department phone', orNot(p.support_phone_number)),
      row('support_email_address', 'Support e-mail', orNot(p.support_email_address))),
    section('Language and region'),
    h('dl', { class: 'details' },
      row('language', 'Language', orNot(p.language, 'The user chooses')),
      row('region', 'Region', orNot(p.region, 'The user chooses'))),
    section('Setup Assistant screens'),
    h('dl', { class: 'details' }, row('hidden_screens', 'Hidden', screens(p.hidden_screens, catalog))),
    section('Minimum OS version'),
    h('dl', { class: 'details' },
      row('minimum_os', 'Minimum', versions(minimum, 'None')),
      row('pinned_os', 'Update to', versions(pinned, 'The lowest version'))));
}
