/**
 * views/signin.js — the Sign-in page: what user affinity does, which profiles use which
 * sign-in source, and the directories users sign in with (local accounts, LDAP or Active
 * Directory, OpenID Connect).
 *
 * Owns: the page layout, its in-page links and the "Profiles with user affinity" panel
 * (`GET /api/v1/profiles`, the profiles whose `user_affinity` is `with_affinity`, each with
 * its `sign_in.source` and allowed groups, linking to the profile). The panels of each
 * directory are their own files. Organisation-wide (the navigation hides it from an admin
 * limited to some server tokens); every role reads it, Owners edit (docs/roles.md).
 * Element ids for tests: #signin-profiles (panel), #signin-profiles-empty, rows of
 * #signin-profile-list carry data-profile="<id>"; the panels' own ids.
 * Must not use: anything but the API, the components, its panels and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { adminHref } from '../router.js';
import { loadAllProfiles } from '../profiles/data.js';
import { panel } from '../components/panel.js';
import { showError } from '../components/toast.js';
import { localAccountsPanel } from './signin/local.js';
import { ldapPanel } from './signin/ldap.js';
import { oidcPanel } from './signin/oidc.js';

/** The words for a profile's `sign_in.source`. */
export const SOURCE_WORDS = { local: 'Local accounts', ldap: 'LDAP or Active Directory', oidc: 'OpenID Connect' };

function sourceAnchor(source) {
  return { local: '#local-accounts', ldap: '#ldap', oidc: '#oidc' }[source] ?? '#local-accounts';
}

function affinityTable(profiles) {
  return h('div', { class: 'table-scroll' }, h('table', { class: 'table', id: 'signin-profile-list' },
    h('caption', { class: 'sr-only' }, 'Profiles with user affinity and their sign-in source'),
    h('thead', {}, h('tr', {}, ['Profile', 'Users sign in with', 'Who may enroll', 'Devices'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, profiles.map((p) => {
      const source = p.sign_in?.source ?? 'local';
      const groups = p.sign_in?.allowed_groups ?? [];
      return h('tr', { dataset: { profile: p.id } },
        h('td', {}, h('a', { href: adminHref(`profiles/${p.id}`), class: 'strong-link' }, p.name)),
        h('td', {}, h('a', { href: sourceAnchor(source) }, SOURCE_WORDS[source] ?? source)),
        h('td', {}, groups.length ? `Members of ${groups.join(', ')}` : 'Every account'),
        h('td', { class: 'num' }, String(p.devices ?? 0)));
    }))));
}

export default {
  name: 'signin',
  title: 'Sign-in',
  intro: 'With user affinity, a person signs in during Setup Assistant and the device is bound to them: the device list, the device page and the audit log show who it belongs to, and a Mac can have its first account pre-filled. Each profile with user affinity chooses which directory below checks the password.',

  mount(container, ctx) {
    const { signal } = ctx;
    const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the profiles…'));
    async function loadProfiles() {
      try {
        const all = await loadAllProfiles(signal);
        const affinity = all.filter((p) => p.user_affinity === 'with_affinity');
        if (affinity.length === 0) {
          replaceChildren(body, h('div', { class: 'empty-state', id: 'signin-profiles-empty' },
            h('p', { class: 'empty-title' }, 'No profile uses user affinity yet'),
            h('p', { class: 'muted' }, 'Choose “With user affinity” in a profile’s User affinity section; its users then sign in with the source it names.'),
            h('a', { href: adminHref('profiles') }, 'Go to the profiles')));
          return;
        }
        replaceChildren(body, affinityTable(affinity));
      } catch (err) {
        if (err.name === 'AbortError') return;
        replaceChildren(body, h('p', { class: 'error-text' }, `Could not load the profiles: ${err.message}`));
        showError(err);
      }
    }
    container.append(
      h('nav', { class: 'on-this-page', 'aria-label': 'On this page' },
        h('span', { class: 'muted' }, 'On this page: '),
        h('a', { href: '#signin-profiles' }, 'Profiles'), ' · ',
        h('a', { href: '#local-accounts' }, 'Local accounts'), ' · ',
        h('a', { href: '#ldap' }, 'LDAP'), ' · ',
        h('a', { href: '#oidc' }, 'OpenID Connect')),
      panel({ id: 'signin-profiles', title: 'Profiles with user affinity', intro: 'Which directory each of them signs its users in with, and who may enroll.' }, body),
      localAccountsPanel(ctx, { onChange: loadProfiles }),
      ldapPanel(ctx),
      oidcPanel(ctx));
    loadProfiles();
    const target = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
    target?.scrollIntoView();
  },
};
