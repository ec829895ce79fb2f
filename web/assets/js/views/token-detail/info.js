/**
 * views/token-detail/info.js — every field of one server token, and its expiry on a
 * timeline (added, renewed, today, the 30-day renewal warning, expiry).
 *
 * Exposes: `tokenInfo(token)` → element.
 * Element ids for tests: #token-fields (the details list; each row's dd has data-field),
 * #token-state, #token-timeline, #token-key-download.
 * Must not use: the API (links to it are fine).
 */

import { h } from '../../dom.js';
import { apiUrl } from '../../api.js';
import { formatNumber, timeElement } from '../../format.js';
import { adminHref } from '../../router.js';
import { badge } from '../../components/badge.js';
import { timeline } from '../../charts/timeline.js';
import { daysLeftText, environmentWords, tokenStateBadge, tokenTone } from '../../tokens/badge.js';
import { formatFingerprint } from '../settings/tls-info.js';

const DAY_MS = 86400 * 1000;
const WARN_DAYS = 30;

function row(key, label, ...value) {
  return [h('dt', {}, label), h('dd', { dataset: { field: key } }, value)];
}

function orNone(value) {
  return value ? value : h('span', { class: 'muted' }, 'not given');
}

function expiryTimeline(token) {
  const now = Date.now();
  const expires = new Date(token.expires_at).getTime();
  const items = [{ key: 'added', label: 'Added', at: token.added_at, tone: 'neutral', badge: badge('Added', 'neutral') }];
  if (token.renewed_at) items.push({ key: 'renewed', label: 'Renewed', at: token.renewed_at, tone: 'info', badge: badge('Renewed', 'info') });
  const warn = expires - WARN_DAYS * DAY_MS;
  if (warn > now) items.push({ key: 'warn', label: 'Renewal reminder', at: new Date(warn).toISOString(), tone: 'warning', badge: badge('Banner appears', 'warning') });
  items.push({ key: 'expires', label: 'Token expires', at: token.expires_at, tone: tokenTone(token), badge: tokenStateBadge(token) });
  return timeline({ id: 'token-timeline', title: 'Expiry timeline', caption: false, items, now, horizonDays: 420 });
}

export function tokenInfo(token) {
  return h('div', { class: 'stack' },
    h('dl', { class: 'details', id: 'token-fields' },
      row('state', 'State', h('span', { id: 'token-state' }, tokenStateBadge(token)), h('span', { class: 'muted' }, daysLeftText(token))),
      token.problem ? row('problem', 'Problem', h('span', { class: 'error-text' }, token.problem.message), ' ', timeElement(token.problem.at)) : null,
      row('expires_at', 'Expires', timeElement(token.expires_at, { mode: 'absolute' })),
      row('server_name', 'MDM server', token.server_name),
      row('server_uuid', 'Server UUID', h('span', { class: 'mono' }, token.server_uuid)),
      row('org_name', 'Organisation', orNone(token.org_name)),
      row('org_email', 'Organisation email', orNone(token.org_email)),
      row('admin_id', 'Made by (Apple)', orNone(token.admin_id)),
      row('apple_id', 'Apple Account', orNone(token.apple_id)),
      row('environment', 'Talks to', environmentWords(token.environment)),
      row('devices', 'Devices', h('a', { href: adminHref('devices', { token: token.id }) }, `${formatNumber(token.devices ?? 0)} active`)),
      row('added_at', 'Added', timeElement(token.added_at, { mode: 'absolute' })),
      row('renewed_at', 'Renewed', token.renewed_at ? timeElement(token.renewed_at, { mode: 'absolute' }) : h('span', { class: 'muted' }, 'not yet')),
      row('key_fingerprint_sha256', 'Public key (SHA-256)', h('span', { class: 'mono small' }, formatFingerprint(token.key_fingerprint_sha256))),
      row('id', 'Token id', h('code', {}, token.id))),
    h('div', { class: 'actions' },
      h('a', { class: 'button', id: 'token-key-download', href: apiUrl(`/tokens/${encodeURIComponent(token.id)}/public-key.pem`), download: `adebox-public-key-${token.id}.pem` }, 'Download the public key again'),
      h('span', { class: 'muted small' }, 'For Apple Business Manager, if it asks for this server’s key again.')),
    h('h3', { class: 'subtitle' }, 'Expiry'),
    expiryTimeline(token));
}
