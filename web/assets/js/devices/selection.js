/**
 * devices/selection.js — choosing devices in the Devices table: a checkbox per row, one in
 * the header for every row of this page, and "all N matching the filters" (which the page
 * resolves to serials only when an action runs). The selection survives paging and sorting;
 * changing the filters ends an "all matching" choice (it would no longer mean the same).
 *
 * Exposes: `deviceSelection({onChange})` → `{column, onRender(items, total, state), clear(),
 * count(), describe(), serials(fetchAll) → Promise<string[]>, selectMatching(), mode}`.
 * `column` is a data-table column (no CSV, no sort).
 * Element ids for tests: #devices-select-page (header box), row boxes
 * data-select-serial="<serial>".
 * Must not use: the API (the page passes `fetchAll(state)` for "all matching").
 */

import { h } from '../dom.js';
import { formatNumber } from '../format.js';

export function deviceSelection({ onChange }) {
  const chosen = new Set();
  let onPage = [];
  let matching = null; // {total, state} while "all matching the filters" is chosen
  let lastState = null;
  let lastTotal = 0;

  const pageBox = h('input', { type: 'checkbox', id: 'devices-select-page', 'aria-label': 'Select every device on this page' });
  pageBox.addEventListener('change', () => {
    matching = null;
    for (const serial of onPage) {
      if (pageBox.checked) chosen.add(serial);
      else chosen.delete(serial);
    }
    syncBoxes();
    onChange();
  });

  function syncBoxes() {
    const boxes = document.querySelectorAll('input[data-select-serial]');
    for (const box of boxes) box.checked = Boolean(matching) || chosen.has(box.dataset.selectSerial);
    const here = onPage.filter((s) => matching || chosen.has(s)).length;
    pageBox.checked = onPage.length > 0 && here === onPage.length;
    pageBox.indeterminate = here > 0 && here < onPage.length;
    pageBox.disabled = onPage.length === 0;
  }

  function rowBox(device) {
    const box = h('input', {
      type: 'checkbox', dataset: { selectSerial: device.serial },
      'aria-label': `Select ${device.serial}`, props: { checked: Boolean(matching) || chosen.has(device.serial) },
    });
    box.addEventListener('change', () => {
      if (matching) {
        // Leaving "all matching": keep this page's rows, minus the one just cleared.
        matching = null;
        for (const s of onPage) chosen.add(s);
      }
      if (box.checked) chosen.add(device.serial);
      else chosen.delete(device.serial);
      syncBoxes();
      onChange();
    });
    return box;
  }

  const sameFilters = (a, b) => JSON.stringify(a?.filters ?? {}) === JSON.stringify(b?.filters ?? {});

  return {
    column: { key: 'select', label: pageBox, className: 'col-select', csv: false, render: rowBox },
    onRender(items, total, state) {
      onPage = items.map((d) => d.serial);
      if (matching && !sameFilters(matching.state, state)) matching = null;
      lastState = state;
      lastTotal = total;
      syncBoxes();
      onChange();
    },
    /** Every device the current filters match, across pages. */
    selectMatching() {
      matching = { total: lastTotal, state: lastState };
      syncBoxes();
      onChange();
    },
    clear() {
      matching = null;
      chosen.clear();
      syncBoxes();
      onChange();
    },
    count: () => (matching ? matching.total : chosen.size),
    /** Whether "all matching" would add anything: the page is all chosen and more rows match. */
    canWiden: () => !matching && onPage.length > 0 && onPage.every((s) => chosen.has(s)) && lastTotal > onPage.length,
    total: () => lastTotal,
    isMatching: () => Boolean(matching),
    describe() {
      const n = matching ? matching.total : chosen.size;
      if (matching) return `All ${formatNumber(n)} devices matching the filters are selected.`;
      return n ? `${formatNumber(n)} ${n === 1 ? 'device' : 'devices'} selected.` : 'No device selected.';
    },
    /** The chosen serials; for "all matching", `fetchAll(state)` lists them. */
    async serials(fetchAll) {
      return matching ? fetchAll(matching.state) : [...chosen];
    },
  };
}
