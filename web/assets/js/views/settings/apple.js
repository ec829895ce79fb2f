/**
 * views/settings/apple.js — the Apple services panel of Settings: which DEP API and APNs the
 * appliance talks to, the roots it trusts for them, and the proxy that carries the traffic,
 * from `GET /api/v1/status` (`apple_services`). Read-only: these come from the configuration
 * file (`[apple]`, `[outbound]`) or the service's environment, and need a restart to change.
 *
 * Owns: a warning notice listing every setting that is not the default (the appliance's own
 * words, so this page and the API never disagree), and one row per setting.
 * Exposes: `appleServicesPanel(ctx)` → element.
 * Element ids for tests: #apple-services, #apple-services-notices, #apple-dep-api,
 * #apple-apns, #apple-trust, #apple-proxy.
 * Must not use: anything but the API, the badge helpers and the ctx it is given.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiGet } from '../../api.js';
import { timeElement } from '../../format.js';
import { badge, expiryBadge } from '../../components/badge.js';
import { panel } from '../../components/panel.js';
import { showError } from '../../components/toast.js';
import { formatFingerprint } from './tls-info.js';

const TRUST = {
  system: 'The system’s certificate store',
  system_and_extra: 'The system’s certificate store, and the extra CA file below',
  simulator: 'Only the simulators’ CAs (sandbox)',
};

function row(id, label, ...value) {
  return [h('dt', {}, label), h('dd', { id }, value)];
}

function service(route, proxied) {
  let path = null;
  if (route.via_proxy) path = 'through the proxy';
  else if (proxied) path = 'directly (excluded from the proxy)';
  return [
    h('code', {}, route.url),
    route.apple ? badge('Apple', 'success') : badge('Not Apple’s', 'warning'),
    path ? h('span', { class: 'muted' }, path) : null,
  ];
}

function extraCa(ca) {
  return h('div', { class: 'stack' },
    h('p', {}, 'Extra CA file ', h('code', {}, ca.file), ', trusted for the two services above only, never for devices:'),
    h('ul', {}, (ca.certificates ?? []).map((c) => h('li', {},
      h('span', { class: 'mono' }, c.subject), ' ',
      h('span', { class: 'mono small muted' }, formatFingerprint(c.fingerprint_sha256)), ' ',
      'valid until ', timeElement(c.not_after, { mode: 'absolute' }), ' ', expiryBadge(c.not_after)))));
}

function proxy(p) {
  if (!p) return h('span', {}, 'None: the appliance connects directly');
  const source = p.source === 'outbound.proxy' ? 'from outbound.proxy in the configuration file' : `from the environment variable ${p.source}`;
  return [
    h('code', {}, p.url),
    h('span', { class: 'muted' }, source),
    p.no_proxy?.length ? h('span', { class: 'muted' }, `not for ${p.no_proxy.join(', ')}`) : null,
  ];
}

function render(services) {
  const notices = services.notices ?? [];
  const summary = notices.length
    ? h('div', { class: 'callout callout-warning', id: 'apple-services-notices', role: 'note' },
      h('strong', {}, 'Not the defaults'),
      h('ul', {}, notices.map((n) => h('li', { dataset: { code: n.code } }, n.message))))
    : h('p', { class: 'muted', id: 'apple-services-notices' }, 'Apple’s own services, trusted through the system’s certificate store, reached directly: the defaults.');
  return h('div', { class: 'stack' },
    summary,
    h('dl', { class: 'details' },
      row('apple-dep-api', 'DEP API', service(services.dep_api, Boolean(services.proxy))),
      row('apple-apns', 'APNs', service(services.apns, Boolean(services.proxy))),
      row('apple-trust', 'Trusted for them', TRUST[services.trust] ?? services.trust,
        services.extra_ca ? extraCa(services.extra_ca) : null),
      row('apple-proxy', 'Proxy', proxy(services.proxy))),
    h('p', { class: 'muted small' }, 'Set in /etc/adebox/adebox.toml ([apple] and [outbound]; the proxy may also come from HTTPS_PROXY in the service’s environment). A change takes effect after systemctl restart adebox.'));
}

export function appleServicesPanel(ctx) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const section = panel({ id: 'apple-services', title: 'Apple services', intro: 'Where the appliance reaches Apple: the DEP API for tokens, devices and profiles, and APNs for pushes to devices.' }, body);
  apiGet('/status', { signal: ctx.signal })
    .then((status) => replaceChildren(body, render(status.apple_services)))
    .catch((err) => {
      if (err.name === 'AbortError') return;
      replaceChildren(body, h('p', { class: 'error-text' }, `Could not load the Apple services: ${err.message}`));
      showError(err);
    });
  return section;
}
