/**
 * views/settings/tls-info.js — what the TLS panel shows about the certificates in use.
 *
 * Owns: the appliance CA block (subject, SHA-256 fingerprint shown large with a copy button,
 * validity, PEM and DER downloads) and the server certificate details (mode, names, issuer,
 * validity, automatic renewal) from `GET /api/v1/settings/tls`.
 * Exposes: `tlsInfo(tls)` → element; `formatFingerprint(hex)`.
 * Element ids for tests: #tls-mode, #tls-ca-fingerprint, #tls-ca-pem, #tls-ca-der,
 * #tls-server-names, #tls-server-not-after, #tls-server-renews.
 * Must not use: anything that changes state (tls.js has the forms).
 */

import { h } from '../../dom.js';
import { apiUrl } from '../../api.js';
import { timeElement } from '../../format.js';
import { badge, expiryBadge } from '../../components/badge.js';
import { copyButton } from '../../components/copy.js';

export const MODES = {
  self_managed: { label: 'Self-managed', variant: 'success', text: 'A certificate from the appliance’s own CA, renewed automatically.' },
  custom_upload: { label: 'Your own certificate', variant: 'info', text: 'A certificate and key you installed on this page.' },
  custom_config: { label: 'Your own certificate (configuration file)', variant: 'info', text: 'A certificate and key named in the configuration file.' },
  acme: { label: 'ACME', variant: 'success', text: 'A certificate from the ACME CA named in the configuration file, renewed automatically.' },
};

/** "AB:CD:…" in upper case, whatever separators the API used. */
export function formatFingerprint(value) {
  const hex = String(value ?? '').replace(/[^0-9a-f]/gi, '').toUpperCase();
  return hex.length ? hex.match(/.{1,2}/g).join(':') : '—';
}

function row(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, value)];
}

function caBlock(ca) {
  const fingerprint = formatFingerprint(ca?.fingerprint_sha256);
  const print = h('p', { class: 'fingerprint', id: 'tls-ca-fingerprint' }, fingerprint);
  return h('div', { class: 'ca-block' },
    h('h3', { class: 'subtitle' }, 'Appliance CA'),
    h('p', { class: 'muted' }, 'Install this CA on the computers you manage adebox from, so browsers trust this page. Before you trust it, check that its SHA-256 fingerprint matches the one below.'),
    h('p', { class: 'fingerprint-label', id: 'tls-ca-fingerprint-label' }, 'SHA-256 fingerprint'),
    h('div', { class: 'fingerprint-row' }, print,
      copyButton({ getText: () => fingerprint, label: 'Copy fingerprint', id: 'tls-ca-fingerprint-copy', describedBy: 'tls-ca-fingerprint-label' })),
    h('dl', { class: 'details' },
      row('Subject', h('span', { class: 'mono' }, ca?.subject ?? '—')),
      row('Valid until', timeElement(ca?.not_after, { mode: 'absolute' }), ' ', expiryBadge(ca?.not_after, { warnDays: 180 }))),
    h('div', { class: 'actions' },
      h('a', { class: 'button', id: 'tls-ca-pem', href: apiUrl('/settings/tls/ca.pem'), download: 'adebox-ca.pem' }, 'Download CA (PEM)'),
      h('a', { class: 'button', id: 'tls-ca-der', href: apiUrl('/settings/tls/ca.der'), download: 'adebox-ca.cer' }, 'Download CA (DER)')),
    h('p', { class: 'muted small' }, 'PEM suits Linux and Firefox; DER (.cer) suits macOS Keychain and Windows.'));
}

function serverBlock(tls) {
  const server = tls.server ?? {};
  const mode = MODES[tls.mode] ?? { label: tls.mode ?? 'Unknown', variant: 'neutral', text: '' };
  const names = (server.sans ?? []).map((name) => h('li', {}, h('code', {}, name)));
  const hosts = (tls.public_hosts ?? []).map((name) => h('li', {}, h('code', {}, name)));
  return h('div', { class: 'server-block' },
    h('h3', { class: 'subtitle' }, 'Server certificate'),
    h('dl', { class: 'details' },
      row('In use', h('span', { id: 'tls-mode', dataset: { mode: tls.mode } }, badge(mode.label, mode.variant)), ' ', h('span', { class: 'muted' }, mode.text)),
      row('Names', names.length ? h('ul', { class: 'chips', id: 'tls-server-names' }, names) : h('span', { class: 'muted' }, 'none')),
      row('Public host names', hosts.length ? h('ul', { class: 'chips' }, hosts) : h('span', { class: 'muted' }, 'none configured')),
      row('Subject', h('span', { class: 'mono' }, server.subject ?? '—')),
      row('Issuer', h('span', { class: 'mono' }, server.issuer ?? '—')),
      row('Valid from', timeElement(server.not_before, { mode: 'absolute' })),
      row('Valid until', h('span', { id: 'tls-server-not-after' }, timeElement(server.not_after, { mode: 'absolute' })), ' ', expiryBadge(server.not_after)),
      tls.mode === 'self_managed'
        ? row('Renews', h('span', { id: 'tls-server-renews' }, tls.renews_at
          ? [timeElement(tls.renews_at, { mode: 'absolute' }), h('span', { class: 'muted' }, ' — automatically, 30 days before it expires, without a restart.')]
          : h('span', { class: 'muted' }, 'automatically, 30 days before it expires.')))
        : null,
      tls.mode === 'acme' && tls.renews_at
        ? row('Renews', h('span', { id: 'tls-server-renews' }, timeElement(tls.renews_at, { mode: 'absolute' }), h('span', { class: 'muted' }, tls.acme?.renewal_basis === 'ca_suggestion' ? ' (CA’s suggestion: inside the renewal window it gives), without a restart.' : ' — at two thirds of its lifetime, without a restart.')))
        : null,
      row('SHA-256 fingerprint', h('span', { class: 'mono small' }, formatFingerprint(server.fingerprint_sha256)))));
}

export function tlsInfo(tls) {
  return h('div', { class: 'tls-info stack' }, caBlock(tls.ca), serverBlock(tls));
}
