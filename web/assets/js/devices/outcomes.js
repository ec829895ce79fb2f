/**
 * devices/outcomes.js — what an assignment request did, or would do, per serial (the answer
 * of `POST /assignments`, dry run or not): the counts per outcome as a summary line, and a
 * table of the serials (the first 500 on screen; all of them in a CSV download).
 *
 * Exposes: `outcomeView(answer, {id, dryRun})` → element, `willChange(answer)` (how many
 * serials the request assigns or would assign).
 * Element ids for tests: #<id> (root, data-dry-run), #<id>-summary (items data-outcome,
 * data-count), #<id>-table (rows data-serial, data-outcome), #<id>-download.
 * Must not use: the API.
 */

import { h } from '../dom.js';
import { formatNumber } from '../format.js';
import { datedFileName, downloadFile, toCsv } from '../components/csv.js';
import { OUTCOMES, outcomeBadge } from '../profiles/words.js';

const SHOWN = 500;

/** Serials the request assigns (queued) or would assign (will_assign). */
export function willChange(answer) {
  const s = answer?.summary ?? {};
  return (s.will_assign ?? 0) + (s.queued ?? 0);
}

function counts(answer) {
  const summary = { ...(answer?.summary ?? {}) };
  if (!answer?.summary) for (const item of answer?.items ?? []) summary[item.outcome] = (summary[item.outcome] ?? 0) + 1;
  const known = OUTCOMES.map(([value]) => value);
  const order = [...known, ...Object.keys(summary).filter((k) => !known.includes(k))];
  return order.filter((k) => summary[k]).map((k) => [k, summary[k]]);
}

export function outcomeView(answer, { id = 'assign-result', dryRun = false } = {}) {
  const items = answer?.items ?? [];
  const list = counts(answer);
  const summary = h('ul', { class: 'outcome-summary', id: `${id}-summary` }, list.map(([outcome, n]) => h('li', { dataset: { outcome, count: String(n) } },
    outcomeBadge(outcome), h('span', { class: 'outcome-count' }, formatNumber(n)))));
  const download = h('button', { type: 'button', class: 'button button-small', id: `${id}-download` }, 'Download every serial’s outcome (CSV)');
  download.addEventListener('click', () => {
    downloadFile(datedFileName(dryRun ? 'adebox-assignment-dry-run' : 'adebox-assignment'),
      toCsv(['serial', 'outcome', 'message'], items.map((i) => [i.serial, i.outcome, i.message ?? ''])));
  });
  // Problems first: the rows an admin has to look at are the ones that will not be assigned.
  const rank = (o) => (o === 'will_assign' || o === 'queued' ? 2 : o === 'already_assigned' ? 1 : 0);
  const sorted = [...items].sort((a, b) => rank(a.outcome) - rank(b.outcome));
  const table = h('table', { class: 'data outcome-table', id: `${id}-table` },
    h('caption', { class: 'sr-only' }, 'Outcome per serial number'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Serial number'), h('th', { scope: 'col' }, 'Outcome'), h('th', { scope: 'col' }, 'Details'))),
    h('tbody', {}, sorted.slice(0, SHOWN).map((i) => h('tr', { dataset: { serial: i.serial, outcome: i.outcome } },
      h('td', { class: 'mono col-nowrap' }, i.serial || h('span', { class: 'muted' }, '(empty)')),
      h('td', { class: 'col-nowrap' }, outcomeBadge(i.outcome)),
      h('td', {}, i.message || '')))));
  return h('div', { class: 'outcome-view stack', id, dataset: { dryRun: String(dryRun) } },
    h('p', {}, h('strong', {}, `${formatNumber(items.length)} ${items.length === 1 ? 'serial' : 'serials'} `, dryRun ? 'checked (nothing was changed):' : 'sent:')),
    summary,
    items.length ? h('div', { class: 'table-wrap outcome-wrap' }, table) : null,
    items.length > SHOWN ? h('p', { class: 'muted small' }, `The table shows the ${formatNumber(SHOWN)} rows to look at first; the download has all ${formatNumber(items.length)}.`) : null,
    items.length ? h('div', { class: 'actions' }, download) : null);
}
