/**
 * views/signin/ldap.js — the LDAP / Active Directory panel of the Sign-in page.
 *
 * This appliance has no page for the LDAP directory yet: it is configured through
 * `/api/v1/signin/ldap`, which the panel names.
 * Exposes: `ldapPanel(ctx)` → element.
 * Element ids for tests: #ldap.
 * Must not use: anything but the components and the ctx it is given.
 */

import { h } from '../../dom.js';
import { panel } from '../../components/panel.js';

export function ldapPanel() {
  return panel({ id: 'ldap', title: 'LDAP or Active Directory' },
    h('p', { class: 'muted' }, 'Users can sign in with their directory account once the directory is configured through ',
      h('code', {}, '/api/v1/signin/ldap'), '.'));
}
