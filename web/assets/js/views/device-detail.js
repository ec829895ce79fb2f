/**
 * views/device-detail.js — one device (`/admin/devices/<serial>`): where it stands (lifecycle
 * in words, token, profile, removal with when and why), every field Apple gave about it
 * labelled in words (fields Apple did not send are left out), and its timeline, newest first
 * (relative times, the absolute time on hover).
 *
 * Also its enrollment profile assignment (devices/assignment-panel.js: state, last result,
 * next retry, assign / remove), and its AppleCare coverage and actions at Apple Business
 * (devices/business-panel.js).
 * The user it was enrolled for (user affinity: name, username, e-mail, directory, when) is the
 * second line of its summary.
 * Element ids for tests: #device-detail (data-serial), #device-summary, #device-lifecycle,
 * #device-user,
 * #device-removed, #device-apple (each dd has data-field="<Apple's key>"), #device-timeline,
 * plus those of devices/assignment-panel.js.
 * Must not use: anything but the API and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet } from '../api.js';
import { timeElement, timeOr } from '../format.js';
import { adminHref } from '../router.js';
import { badge } from '../components/badge.js';
import { panel } from '../components/panel.js';
import { assignmentPanel } from '../devices/assignment-panel.js';
import { mdmPanel } from '../devices/mdm-panel.js';
import { businessPanel } from '../devices/business-panel.js';
import { loadAllProfiles } from '../profiles/data.js';
import { enrollmentEventLabel } from '../enrollment/words.js';
import { APPLE_FIELDS, TIME_FIELDS, lifecycleBadge, profileStatusWords, removalWords } from '../devices/words.js';

function row(key, label, ...value) {
  return [h('dt', {}, label), h('dd', { dataset: { field: key } }, value)];
}

function present(value) {
  if (value === null || value === undefined || value === '') return false;
  return !(Array.isArray(value) && value.length === 0);
}

function appleValue(key, value) {
  if (TIME_FIELDS.has(key)) return timeElement(value, { mode: 'absolute' });
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (key === 'profile_status') return profileStatusWords(value);
  if (Array.isArray(value)) return h('span', { class: 'mono' }, value.join(', '));
  if (/mac_address|uuid|eid|serial/.test(key)) return h('span', { class: 'mono' }, String(value));
  return String(value);
}

const SOURCE_WORDS = { local: 'a local account', ldap: 'LDAP or Active Directory', oidc: 'OpenID Connect' };

/** Who the device was enrolled for (user affinity), or nothing. */
function userRow(user) {
  if (!user) return null;
  return row('user', 'User', h('span', { id: 'device-user' },
    h('strong', {}, user.display_name), ' ', h('span', { class: 'muted' }, `(${user.username})`),
    user.email ? [h('br'), h('a', { href: `mailto:${user.email}` }, user.email)] : null,
    h('br'), h('span', { class: 'muted small' }, `Signed in with ${SOURCE_WORDS[user.source] ?? user.source} `, timeElement(user.signed_in_at))));
}

// A deadline is not proof of a migration (apple-2026.md §1.6): the device gets the full
// onboarding either way. Apple requires the profile to await final configuration (§1.4 D3),
// so a profile that does not is named with the fix.
function migrationNote(device, profiles) {
  // Apple took the device off this server (a cancelled migration, or a move elsewhere): the
  // deadline it carried is kept as Apple last showed it, but nothing here acts on it.
  if (device.removed) {
    return h('p', { class: 'muted small', id: 'device-migration-await' },
      'The device is no longer assigned to this server, so this deadline has no effect here: adebox assigns it nothing and does not count it.');
  }
  const profile = profiles.find((p) => p.id === device.profile_id);
  if (profile && profile.await_device_configured === false) {
    return h('p', { class: 'error-text small', id: 'device-migration-await' },
      `Its profile “${profile.name}” does not await final configuration, which Apple requires for a migration. Turn on “Await final configuration” in the profile.`);
  }
  return h('p', { class: 'muted small', id: 'device-migration-await' },
    'It goes through the full onboarding when it enrolls: setup steps while it awaits final configuration, then release.');
}

function summary(device, tokenName, profiles) {
  return h('dl', { class: 'details' },
    row('lifecycle', 'Lifecycle', h('span', { id: 'device-lifecycle' }, lifecycleBadge(device))),
    userRow(device.user),
    device.mdm_migration_deadline ? row('mdm_migration_deadline', 'Migration', h('span', { id: 'device-migration' }, 'Apple Business set a migration deadline: ', timeElement(device.mdm_migration_deadline)), migrationNote(device, profiles)) : null,
    row('token', 'Token', h('a', { href: adminHref(`tokens/${device.token}`) }, tokenName ?? device.token)),
    row('profile', 'Profile', device.profile_name
      ? h('a', { href: adminHref(`profiles/${device.profile_id}`), title: `Apple profile UUID ${device.profile_uuid}` }, device.profile_name)
      : null, ' ', h('span', { class: device.profile_name ? 'muted small' : '' }, profileStatusWords(device.profile_status)),
    device.profile_uuid && !device.profile_name ? h('span', { class: 'muted small', title: `Apple profile UUID ${device.profile_uuid}` }, ' (a profile not made by this appliance)') : null),
    row('assigned_at', 'Assigned to the server', timeOr(device.assigned_at, 'unknown')),
    row('first_seen', 'First synced', timeElement(device.first_seen)),
    row('updated_at', 'Last change', timeElement(device.updated_at)));
}

function removal(device) {
  if (!device.removed) return null;
  return h('div', { class: 'callout callout-warning', id: 'device-removed', role: 'note' },
    h('p', {}, h('strong', {}, 'Removed from Apple '), timeElement(device.removed.at), '.'),
    h('p', {}, removalWords(device.removed.reason)),
    h('p', { class: 'small' }, 'The appliance keeps removed devices for a while (Settings → Sync), then deletes them.'));
}

function appleRecord(apple, device) {
  // Apple's profile uuid reads as the profile's name when it is one of ours (uuid on hover).
  const value = (key) => (key === 'profile_uuid' && device.profile_name
    ? h('span', { title: `Apple profile UUID ${apple[key]}` }, `${device.profile_name} (this appliance’s profile)`)
    : appleValue(key, apple[key]));
  const rows = APPLE_FIELDS.filter(([key]) => present(apple?.[key])).map(([key, label]) => row(key, label, value(key)));
  const known = new Set(APPLE_FIELDS.map(([key]) => key));
  // Fields a newer protocol adds still show, under Apple's own name.
  const extra = Object.keys(apple ?? {}).filter((key) => !known.has(key) && present(apple[key]))
    .map((key) => row(key, key, appleValue(key, typeof apple[key] === 'object' && !Array.isArray(apple[key]) ? JSON.stringify(apple[key]) : apple[key])));
  return h('dl', { class: 'details', id: 'device-apple' }, rows, extra);
}

function kindLabel(kind) {
  if (kind === 'user_signed_in') return 'User signed in';
  const enrollment = enrollmentEventLabel(kind);
  if (enrollment) return enrollment.label;
  const words = String(kind ?? 'event').replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function timelineList(events) {
  if (!events?.length) return h('p', { class: 'muted', id: 'device-timeline' }, 'Nothing has happened to this device since it first synced.');
  return h('ol', { class: 'event-list', id: 'device-timeline' }, events.map((e) => h('li', { dataset: { kind: e.kind } },
    h('span', { class: 'event-time' }, timeElement(e.at)),
    badge(kindLabel(e.kind), e.kind === 'removed' ? 'warning' : (enrollmentEventLabel(e.kind)?.tone ?? (e.kind === 'user_signed_in' ? 'info' : 'neutral'))),
    h('span', { class: 'event-message' }, e.message))));
}

export default {
  name: 'devices',
  title: 'Device',
  intro: 'One device.',

  mount(container, ctx) {
    const serial = ctx.param;
    const root = h('div', { id: 'device-detail', class: 'page-content', dataset: { serial } }, h('p', { class: 'muted' }, 'Loading the device…'));
    container.append(root);
    const load = () => Promise.all([
      apiGet(`/devices/${encodeURIComponent(serial)}`, { signal: ctx.signal }),
      apiGet('/tokens', { signal: ctx.signal }).catch(() => ({ items: [] })),
      loadAllProfiles(ctx.signal).catch(() => []),
    ]).then(([device, tokens, profiles]) => {
      const tokenName = (tokens?.items ?? []).find((t) => t.id === device.token)?.server_name;
      ctx.setTitle(device.serial, [device.description ?? device.model, tokenName ? `assigned to “${tokenName}”` : null].filter(Boolean).join(', ') || 'One device.');
      replaceChildren(root,
        h('p', { class: 'back-link' }, h('a', { href: adminHref('devices') }, '← All devices')),
        panel({ id: 'device-summary', title: 'Where it stands' }, removal(device), summary(device, tokenName, profiles)),
        assignmentPanel({ device, profiles, onChanged: () => load() }),
        mdmPanel({ serial: device.serial, onChanged: () => load() }),
        businessPanel({ device, tokens: tokens?.items ?? [], onChanged: () => load() }),
        panel({ id: 'device-history', title: 'Timeline', intro: 'What happened to this device, newest first.' }, timelineList(device.timeline)),
        panel({ id: 'device-apple-panel', title: 'What Apple says about it', intro: 'Every field Apple sent for this device; fields it did not send are left out.' }, appleRecord(device.apple, device)));
    }).catch((err) => {
      if (err.name === 'AbortError') return;
      ctx.setTitle(err.status === 404 ? 'Device not found' : 'Could not load the device');
      replaceChildren(root, panel({ id: 'device-missing', title: err.status === 404 ? `No device ${serial}` : 'Could not load the device' },
        h('p', {}, err.status === 404 ? 'This appliance has no device with that serial number. ' : `${err.message} `, h('a', { href: adminHref('devices') }, 'Search the devices'), '.')));
    });
    load();
  },
};
