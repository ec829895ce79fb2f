/**
 * views/signin/oidc.js — the OpenID Connect panel of the Sign-in page.
 *
 * This appliance has no page for the OpenID provider yet: it is configured through
 * `/api/v1/signin/oidc`, which the panel names.
 * Exposes: `oidcPanel(ctx)` → element.
 * Element ids for tests: #oidc.
 * Must not use: anything but the components and the ctx it is given.
 */

import { h } from '../../dom.js';
import { panel } from '../../components/panel.js';

export function oidcPanel() {
  return panel({ id: 'oidc', title: 'OpenID Connect' },
    h('p', { class: 'muted' }, 'Users can sign in with your identity provider once it is configured through ',
      h('code', {}, '/api/v1/signin/oidc'), '.'));
}
