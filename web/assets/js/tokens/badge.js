/**
 * tokens/badge.js — a server token's state in words and colour (api-dep.md, Tokens):
 * ok → green "Valid until <date>", expiring → amber "Expires in N days", expired → red
 * "Expired", broken → red "Refused by Apple" (the problem's message beside it).
 *
 * Exposes: `tokenStateBadge(token)`, `daysLeftText(token)`, `environmentWords(env)`,
 * `tokenTone(token)` (for the expiry timeline).
 * Must not use: the API.
 */

import { formatAbsolute, formatDate, formatNumber } from '../format.js';
import { badge } from '../components/badge.js';

export function tokenStateBadge(token) {
  const title = `Expires ${formatAbsolute(token.expires_at)}`;
  switch (token.state) {
    case 'ok': return badge(`Valid until ${formatDate(token.expires_at)}`, 'success', { title });
    case 'expiring': {
      const n = Math.max(0, token.days_left ?? 0);
      return badge(n === 0 ? 'Expires today' : `Expires in ${formatNumber(n)} day${n === 1 ? '' : 's'}`, 'warning', { title });
    }
    case 'expired': return badge('Expired', 'danger', { title });
    case 'broken': return badge('Refused by Apple', 'danger', { title: token.problem?.message ?? title });
    default: return badge(token.state ?? 'Unknown', 'neutral', { title });
  }
}

export function daysLeftText(token) {
  const n = token.days_left;
  if (!Number.isFinite(n)) return '—';
  if (n < 0) return `expired ${formatNumber(-n)} day${n === -1 ? '' : 's'} ago`;
  return `${formatNumber(n)} day${n === 1 ? '' : 's'} left`;
}

export function environmentWords(env) {
  // `simulator` is any DEP API that is not Apple's: the sandbox's, or a test server named in
  // the configuration (Settings → Apple services shows which).
  return env === 'simulator' ? 'Not Apple’s DEP API (a simulator or test server)' : env === 'apple' ? 'Apple' : (env ?? '—');
}

export function tokenTone(token) {
  return token.state === 'ok' ? 'success' : token.state === 'expiring' ? 'warning' : 'danger';
}
