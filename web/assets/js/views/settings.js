/**
 * views/settings.js — the Settings page: TLS certificate, Apple services, sync, backups,
 * administrators, API tokens.
 *
 * Owns: the page layout and its in-page links (#tls, #apple-services, #sync-settings, #backups, #admins,
 * #api-tokens; a bookmarked anchor scrolls to its panel once it is drawn). API tokens are
 * shown only to roles that make them or see them all (docs/roles.md).
 * Must not use: anything but its panels and the ctx it is given.
 */

import { h } from '../dom.js';
import { can, scoped } from '../roles.js';
import { adminsPanel } from './settings/admins.js';
import { appleServicesPanel } from './settings/apple.js';
import { apiTokensPanel } from './settings/api-tokens.js';
import { backupsPanel } from './settings/backups.js';
import { syncSettingsPanel } from './settings/sync.js';
import { tlsPanel } from './settings/tls.js';

export default {
  name: 'settings',
  title: 'Settings',
  intro: 'The appliance’s TLS certificate, how it reaches Apple and syncs with it, who can sign in, and the API tokens scripts use.',

  mount(container, ctx) {
    const tokens = can('api_tokens_own') || can('admins_read');
    // The appliance's own settings are organisation-wide: not for an admin limited to some tokens.
    const appliance = !scoped();
    container.append(
      h('nav', { class: 'on-this-page', 'aria-label': 'On this page' },
        h('span', { class: 'muted' }, 'On this page: '),
        appliance ? [
          h('a', { href: '#tls' }, 'TLS certificate'), ' · ',
          h('a', { href: '#apple-services' }, 'Apple services'), ' · ',
          h('a', { href: '#sync-settings' }, 'Sync'), ' · ',
          h('a', { href: '#backups' }, 'Backups'), ' · '] : null,
        h('a', { href: '#admins' }, 'Administrators'),
        tokens ? [' · ', h('a', { href: '#api-tokens' }, 'API tokens')] : null),
      ...[
        appliance ? tlsPanel(ctx) : null, appliance ? appleServicesPanel(ctx) : null, appliance ? syncSettingsPanel(ctx) : null,
        appliance ? backupsPanel(ctx) : null,
        adminsPanel(ctx), tokens ? apiTokensPanel(ctx) : null,
      ].filter(Boolean));
    const target = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
    target?.scrollIntoView();
  },
};
