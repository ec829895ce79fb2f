/**
 * sync/words.js — a token's sync in the admin's words: run kinds, outcomes, the summary of a
 * run's numbers, and the badge for where a sync stands.
 *
 * Exposes: `KIND_WORDS`, `kindWords(kind)`, `outcomeBadge(outcome)`, `statsLine(stats)`,
 * `syncStateBadge(status)`.
 * Must not use: the API. Contract: docs/tokens-and-devices.md (SyncStatus, RunRecord).
 */

import { formatNumber } from '../format.js';
import { badge } from '../components/badge.js';

export const KIND_WORDS = {
  delta: 'Changes sync',
  full: 'Full sync',
  // Apple's budget allows one unrestricted full sync a week; inside it only new serials count.
  full_new_only: 'Full sync (new devices only)',
};

export function kindWords(kind) {
  return KIND_WORDS[kind] ?? (kind ? String(kind) : 'Sync');
}

const OUTCOMES = {
  completed: ['Completed', 'success'],
  completed_with_warning: ['Completed with a warning', 'warning'],
  failed: ['Failed', 'danger'],
  timed_out: ['Stopped: ran too long', 'danger'],
};

export function outcomeBadge(outcome) {
  const [text, variant] = OUTCOMES[outcome] ?? [outcome ?? 'Unknown', 'neutral'];
  return badge(text, variant);
}

/** "1,200 seen · 10 added · 2 modified · 0 removed" (moved when any). */
export function statsLine(stats = {}) {
  const parts = [
    `${formatNumber(stats.seen ?? 0)} seen`,
    `${formatNumber(stats.added ?? 0)} added`,
    `${formatNumber(stats.modified ?? 0)} modified`,
    `${formatNumber(stats.removed ?? 0)} removed`,
  ];
  if (stats.moved) parts.push(`${formatNumber(stats.moved)} moved`);
  return parts.join(' · ');
}

/** Where the sync stands, as a badge: running, waiting to start, or the last result. */
export function syncStateBadge(status) {
  if (status?.running) return badge('Syncing…', 'progress');
  if (status?.requested) return badge('Starting…', 'progress');
  const last = status?.last_run;
  if (!last) return badge('Not synced yet', 'neutral');
  if (last.outcome === 'completed') return badge('Synced', 'success');
  return outcomeBadge(last.outcome);
}
