/**
 * views/profile-detail.js — one enrollment profile (`/admin/profiles/<id>`): where it stands
 * (revision, devices that have it, its copy at Apple per token with Apple's refusal in plain
 * words), every setting in words, where it is the default, the JSON Apple receives (read-only,
 * copyable), and deletion with typed confirmation and blockers.
 *
 * Owns: loading the profile (with `apple_json`), the catalog (screen titles), the tokens, the
 * other profiles and the defaults, and reloading the summary after a default changes.
 * Element ids for tests: #profile-detail (data-profile), #profile-summary, #profile-devices
 * (data-devices), #profile-apple-states, #profile-edit-link, #profile-settings,
 * #profile-defaults, #profile-apple-json (the <pre>), #profile-apple-json-copy, plus those of
 * profiles/describe.js, profiles/profile-defaults.js, profiles/setup-steps.js and
 * profiles/delete.js.
 * Must not use: anything but the API, its parts and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet } from '../api.js';
import { formatNumber, timeElement } from '../format.js';
import { adminHref } from '../router.js';
import { copyButton } from '../components/copy.js';
import { panel } from '../components/panel.js';
import { toast } from '../components/toast.js';
import { loadAllProfiles, loadDefaults, loadSkipKeys, loadTokens } from '../profiles/data.js';
import { profileDeletePanel } from '../profiles/delete.js';
import { appleStates, describeProfile } from '../profiles/describe.js';
import { profileDefaults } from '../profiles/profile-defaults.js';
import { setupStepsPanel } from '../profiles/setup-steps.js';

/** "12 devices have it", linked to the Devices list filtered by this profile (every token, every revision). */
function devicesWords(profile, devices) {
  if (!devices) return 'No device has it yet';
  const text = `${formatNumber(devices)} ${devices === 1 ? 'device has' : 'devices have'} it`;
  return h('a', { href: adminHref('devices', { profile_id: profile.id }) }, text);
}

function summary(profile, tokenName) {
  const devices = profile.devices ?? 0;
  return h('dl', { class: 'details' },
    h('dt', {}, 'Revision'), h('dd', { dataset: { field: 'revision' } }, formatNumber(profile.revision),
      h('span', { class: 'muted small' }, 'changed ', timeElement(profile.updated_at))),
    h('dt', {}, 'Devices'), h('dd', { id: 'profile-devices', dataset: { devices: String(devices) } },
      devicesWords(profile, devices),
      h('span', { class: 'muted small' }, 'Assign it on the Devices page.')),
    h('dt', {}, 'At Apple'), h('dd', { id: 'profile-apple-states' }, appleStates(profile.tokens, tokenName)),
    h('dt', {}, 'Created'), h('dd', { dataset: { field: 'created_at' } }, timeElement(profile.created_at, { mode: 'absolute' })));
}

const PENDING_POLL_MS = 2000;
const PENDING_ROUNDS = 60;

function appleJsonPanel(json) {
  const text = JSON.stringify(json ?? {}, null, 2);
  const pre = h('pre', { id: 'profile-apple-json', class: 'json-block', tabindex: '0', 'aria-label': 'The profile as Apple receives it (JSON)' }, text);
  return panel({
    id: 'profile-apple', title: 'What Apple receives',
    intro: 'The profile exactly as it is sent to Apple for the first token (the other tokens get the same). The appliance fills in its own enrollment addresses and certificate.',
  }, h('div', { class: 'stack' }, h('div', { class: 'actions' }, copyButton({ getText: () => text, label: 'Copy the JSON', id: 'profile-apple-json-copy' })), pre));
}

export default {
  name: 'profiles',
  title: 'Profile',
  intro: 'One enrollment profile.',

  mount(container, ctx) {
    const id = ctx.param;
    const { signal } = ctx;
    const root = h('div', { id: 'profile-detail', class: 'page-content', dataset: { profile: id } },
      h('p', { class: 'muted' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Loading the profile…'));
    container.append(root);

    async function build() {
      let profile;
      let catalog;
      let tokens;
      let profiles;
      let defaults;
      try {
        [profile, catalog, tokens, profiles, defaults] = await Promise.all([
          apiGet(`/profiles/${encodeURIComponent(id)}`, { signal }),
          loadSkipKeys(signal).catch(() => []),
          loadTokens(signal),
          loadAllProfiles(signal),
          loadDefaults(signal),
        ]);
      } catch (err) {
        if (err.name === 'AbortError') return;
        ctx.setTitle(err.status === 404 ? 'Profile not found' : 'Could not load the profile');
        replaceChildren(root, panel({ id: 'profile-missing', title: err.status === 404 ? 'No such profile' : 'Could not load the profile' },
          h('p', {}, err.status === 404 ? 'It may have been deleted. ' : `${err.message} `, h('a', { href: adminHref('profiles') }, 'Back to the profiles'), '.')));
        return;
      }
      const names = new Map(tokens.map((t) => [t.id, t.server_name]));
      const tokenName = (tid) => names.get(tid) ?? tid;
      ctx.setTitle(profile.name, profile.description || 'One enrollment profile.');
      const summaryBody = h('div', { class: 'panel-body' }, summary(profile, tokenName));
      const edit = h('a', { href: adminHref(`profiles/${profile.id}/edit`), class: 'button button-primary', id: 'profile-edit-link' }, 'Edit the profile');
      const editScreens = h('a', { href: `${adminHref(`profiles/${profile.id}/edit`)}#profile-screens`, class: 'button' }, 'Change the hidden screens');
      replaceChildren(root,
        h('p', { class: 'back-link' }, h('a', { href: adminHref('profiles') }, '← All profiles')),
        panel({ id: 'profile-summary', title: 'Where it stands' }, h('div', { class: 'actions' }, edit, editScreens), summaryBody),
        panel({ id: 'profile-settings', title: 'Settings', intro: 'Every setting of this revision, in the order of the form.' }, describeProfile(profile, { catalog })),
        panel({ id: 'profile-defaults', title: 'Default profile', intro: 'Devices of a token (or of one device family) that have no profile get their default by themselves, now and as they arrive.' },
          profileDefaults({
            profile, profiles, tokens, defaults,
            onChanged: () => apiGet(`/profiles/${encodeURIComponent(id)}`, { signal })
              .then((fresh) => replaceChildren(summaryBody, summary(fresh, tokenName)))
              .catch(() => {}),
          })),
        setupStepsPanel({ profile }),
        appleJsonPanel(profile.apple_json),
        profileDeletePanel({
          profile,
          onDeleted: () => {
            toast(`Profile “${profile.name}” deleted.`);
            ctx.navigate(adminHref('profiles'));
          },
        }));
      const target = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
      target?.scrollIntoView();
      followPending(profile, summaryBody, tokenName);
    }

    /** While a token's copy is still on its way to Apple, the summary follows it. */
    function followPending(profile, summaryBody, tokenName, round = 0) {
      if (!profile.tokens?.some((t) => t.state === 'pending') || round >= PENDING_ROUNDS || signal.aborted) return;
      setTimeout(() => {
        if (signal.aborted) return;
        apiGet(`/profiles/${encodeURIComponent(id)}`, { signal }).then((fresh) => {
          replaceChildren(summaryBody, summary(fresh, tokenName));
          followPending(fresh, summaryBody, tokenName, round + 1);
        }).catch(() => {});
      }, PENDING_POLL_MS);
    }

    build();
  },
};
