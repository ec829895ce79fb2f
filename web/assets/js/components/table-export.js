/**
 * table-export.js — the CSV export hook of a data table.
 *
 * Owns: paging through the table's own fetch function (with the current filters and sort,
 * 500 rows a request, the API's maximum) until every matching row is read, showing progress,
 * letting the admin cancel, and saving the file. Rows are de-duplicated by key because new
 * entries arriving during the export shift offset pages by a row or two.
 * Exposes: `exportButton({id, columns, fetchPage, getState, rowKey, fileBase, maxRows})`
 *   → `{button, slot}` (the button, and where its progress appears).
 * Must not use: the URL.
 */

import { h } from '../dom.js';
import { formatNumber } from '../format.js';
import { progressBar } from './progress.js';
import { datedFileName, downloadFile, toCsv } from './csv.js';
import { showError, toast } from './toast.js';

const PAGE = 500;

function csvValue(column, row) {
  if (typeof column.csv === 'function') return column.csv(row);
  const value = row[column.key];
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
}

export function exportButton({ id, columns, fetchPage, getState, rowKey, fileBase, maxRows = 100000 }) {
  const button = h('button', { type: 'button', class: 'button button-small', id: `${id}-export` }, 'Export CSV');
  const slot = h('div', { class: 'export-progress', hidden: true });
  let controller = null;

  button.addEventListener('click', async () => {
    if (controller) {
      controller.abort();
      return;
    }
    controller = new AbortController();
    const { signal } = controller;
    const progress = progressBar({ label: 'Exporting CSV', id: `${id}-export-progress` });
    slot.replaceChildren(progress.element);
    slot.hidden = false;
    button.textContent = 'Cancel export';
    const state = getState();
    const seen = new Set();
    const rows = [];
    try {
      let offset = 0;
      let total = null;
      while (rows.length < maxRows) {
        const page = await fetchPage({ ...state, limit: PAGE, offset, signal });
        total = page.total;
        for (const row of page.items) {
          const key = rowKey(row);
          if (key !== undefined && seen.has(key)) continue;
          if (key !== undefined) seen.add(key);
          rows.push(row);
        }
        offset += PAGE;
        progress.update({ value: Math.min(rows.length, total), max: total, text: `${formatNumber(rows.length)} of ${formatNumber(total)} rows read` });
        if (page.items.length < PAGE || offset >= total) break;
      }
      const usable = columns.filter((c) => c.csv !== false);
      const text = toCsv(usable.map((c) => c.csvLabel ?? c.label), rows.slice(0, maxRows).map((row) => usable.map((c) => csvValue(c, row))));
      downloadFile(datedFileName(fileBase), text);
      const capped = total > maxRows ? ` (the first ${formatNumber(maxRows)}; narrow the filters to export the rest)` : '';
      toast(`Exported ${formatNumber(Math.min(rows.length, maxRows))} rows to CSV${capped}.`);
    } catch (err) {
      if (err?.name === 'AbortError') toast('CSV export cancelled.', { variant: 'info' });
      else showError(err, 'CSV export failed');
    } finally {
      controller = null;
      button.textContent = 'Export CSV';
      slot.hidden = true;
      slot.replaceChildren();
    }
  });

  return { button, slot };
}
