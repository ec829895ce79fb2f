/**
 * profiles/skip-table.js — the Setup Assistant screens of a profile as a table with Show /
 * Hide per row, the OS range of each screen on the chosen platforms, and a note where Apple
 * deprecated or removed a screen or does not always let it be skipped.
 *
 * Owns: filtering the rows to the chosen platforms (iPadOS follows iOS, spec §4.1; a hidden
 * screen that no chosen platform has stays listed, marked, so nothing is sent unseen), a
 * search box, "Show all" / "Hide all" for the rows in view, and the count of hidden screens.
 * Exposes: `skipTable({catalog})` → a field slot (see field-kit.js) named `hidden_screens`,
 * plus `setPlatforms(platforms)`.
 * Element ids for tests: #skip-table (root), #skip-table-grid (the table; rows
 * data-key="<skip key>"), radios `skip-<key>-show` / `skip-<key>-hide`, #skip-search,
 * #skip-show-all, #skip-hide-all, #skip-count.
 * Must not use: the API (the form passes the catalog from `GET /profiles/skip-keys`).
 */

import { h, replaceChildren } from '../dom.js';
import { formatNumber } from '../format.js';
import { badge } from '../components/badge.js';
import { slot } from './field-kit.js';
import { SKIP_PLATFORM } from './words.js';

const PLATFORM_NAMES = { iOS: 'iOS / iPadOS', macOS: 'macOS', tvOS: 'tvOS', visionOS: 'visionOS' };

/** The first paragraph of Apple's description, without its Markdown notes. */
function shortDescription(text) {
  return String(text ?? '').split(/\n\s*\n/)[0].replace(/\s+/g, ' ').trim();
}

function rangeLines(item, platforms) {
  return platforms.filter((p) => item.platforms?.[p]).map((p) => {
    const range = item.platforms[p];
    const parts = [`${PLATFORM_NAMES[p]} ${range.introduced}+`];
    if (range.removed) parts.push(`removed in ${range.removed}`);
    else if (range.deprecated) parts.push(`deprecated in ${range.deprecated}`);
    return h('li', { dataset: { platform: p } }, parts.join(', '));
  });
}

function notes(item, platforms, onChosen) {
  const out = [];
  const removedOn = platforms.filter((p) => item.platforms?.[p]?.removed);
  const deprecatedOn = platforms.filter((p) => item.platforms?.[p]?.deprecated && !item.platforms[p].removed);
  if (!onChosen) out.push(badge('Not on the chosen platforms', 'warning'), h('p', { class: 'small' }, 'Set to Show to leave it out, or choose a platform that has it.'));
  if (removedOn.length) out.push(badge('Removed', 'danger'), h('p', { class: 'small' }, `Apple removed it in ${removedOn.map((p) => `${PLATFORM_NAMES[p]} ${item.platforms[p].removed}`).join(', ')}; hiding it there has no effect.`));
  if (deprecatedOn.length) out.push(badge('Deprecated', 'warning'), h('p', { class: 'small' }, `Deprecated in ${deprecatedOn.map((p) => `${PLATFORM_NAMES[p]} ${item.platforms[p].deprecated}`).join(', ')}: newer versions ignore it.`));
  for (const n of item.not_hideable ?? []) {
    if (platforms.includes(n.platform)) out.push(badge('Cannot be hidden', 'warning'), h('p', { class: 'small' }, `${PLATFORM_NAMES[n.platform] ?? n.platform} ${n.since} and later show this screen even when the profile hides it.`));
  }
  if (item.always_skippable === false) out.push(badge('Not always skippable', 'neutral'), h('p', { class: 'small' }, 'The device may show it anyway, for example before it has a network connection.'));
  return out;
}

export function skipTable({ catalog }) {
  const nameOf = (item) => item.screen ?? item.title;
  const items = [...catalog].sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  const known = new Set(items.map((i) => i.key));
  let hidden = new Set();
  let platforms = ['iOS'];
  let query = '';

  const anchor = h('div', { id: 'skip-table', class: 'skip-table', tabindex: '-1', 'aria-describedby': 'skip-table-error skip-table-warning' });
  const count = h('p', { id: 'skip-count', class: 'skip-count', 'aria-live': 'polite' });
  const search = h('input', { type: 'search', id: 'skip-search', placeholder: 'e.g. Siri, Passcode', autocomplete: 'off', spellcheck: 'false' });
  const showAll = h('button', { type: 'button', class: 'button button-small', id: 'skip-show-all' }, 'Show all listed');
  const hideAll = h('button', { type: 'button', class: 'button button-small', id: 'skip-hide-all' }, 'Hide all listed');
  const tbody = h('tbody');
  const table = h('table', { class: 'data skip-grid', id: 'skip-table-grid' },
    h('caption', { class: 'sr-only' }, 'Setup Assistant screens: show or hide each'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Screen'),
      h('th', { scope: 'col', class: 'col-os' }, 'On'),
      h('th', { scope: 'col', class: 'col-notes' }, 'Notes'),
      h('th', { scope: 'col', class: 'col-choice' }, 'Show or hide'))),
    tbody);
  const empty = h('p', { class: 'muted', hidden: true }, 'No screen matches the search.');
  const error = h('p', { class: 'field-error', id: 'skip-table-error', hidden: true });
  const warning = h('p', { class: 'field-warning', id: 'skip-table-warning', hidden: true });

  replaceChildren(anchor,
    h('div', { class: 'skip-toolbar' },
      h('div', { class: 'filter' }, h('label', { for: 'skip-search' }, 'Find a screen'), search),
      h('div', { class: 'actions' }, showAll, hideAll)),
    count, error, warning,
    h('div', { class: 'table-wrap' }, table), empty);

  const skipPlatforms = () => [...new Set(platforms.map((p) => SKIP_PLATFORM[p]).filter(Boolean))];
  const onChosen = (item) => skipPlatforms().some((p) => item.platforms?.[p]);
  const matches = (item) => {
    if (!query) return true;
    const q = query.toLowerCase();
    return [item.key, item.title, item.screen, item.user_sees, item.intune_name].some((t) => t && t.toLowerCase().includes(q));
  };
  const listed = () => items.filter((item) => (onChosen(item) || hidden.has(item.key)) && matches(item));

  function choiceCell(item) {
    const name = `skip-${item.key}`;
    const radio = (value, words) => {
      const id = `${name}-${value}`;
      const input = h('input', { type: 'radio', id, name, value, props: { checked: hidden.has(item.key) === (value === 'hide') } });
      input.addEventListener('change', () => {
        if (!input.checked) return;
        if (value === 'hide') hidden.add(item.key);
        else hidden.delete(item.key);
        input.closest('tr')?.classList.toggle('is-hidden-screen', value === 'hide');
        refreshCount();
        anchor.dispatchEvent(new Event('input', { bubbles: true }));
      });
      return h('span', { class: ['segment', `segment-${value}`] }, input, h('label', { for: id }, words, h('span', { class: 'sr-only' }, ` ${nameOf(item)}`)));
    };
    return h('td', { class: 'col-choice' },
      h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': `${nameOf(item)}: show or hide` }, radio('show', 'Show'), radio('hide', 'Hide')));
  }

  function render() {
    const rows = listed();
    const chosen = skipPlatforms();
    replaceChildren(tbody, rows.map((item) => {
      const description = shortDescription(item.description);
      return h('tr', { dataset: { key: item.key }, class: hidden.has(item.key) ? 'is-hidden-screen' : null },
        h('td', {},
          h('span', { class: 'screen-title' }, nameOf(item)),
          item.user_sees ? h('p', { class: 'small screen-description' }, item.user_sees) : null,
          h('p', { class: 'muted small' }, 'Apple key ', h('code', {}, item.key), item.screen ? ` · ${item.title}` : '', item.intune_name && item.intune_name !== nameOf(item) ? ` · Intune: ${item.intune_name}` : ''),
          !item.user_sees && description && description !== item.title ? h('p', { class: 'small screen-description' }, description) : null),
        h('td', { class: 'col-os' }, h('ul', { class: 'os-list' }, rangeLines(item, chosen))),
        h('td', { class: 'col-notes' }, notes(item, chosen, onChosen(item))),
        choiceCell(item));
    }));
    empty.hidden = rows.length > 0;
    table.hidden = rows.length === 0;
    refreshCount();
  }

  function refreshCount() {
    const here = items.filter(onChosen);
    const total = here.length;
    const hiddenHere = here.filter((item) => hidden.has(item.key)).length;
    count.textContent = `${formatNumber(hiddenHere)} of ${formatNumber(total)} screens hidden on the chosen platforms. Hidden screens are skipped in Setup Assistant; shown ones appear as usual.`;
  }

  function setAll(hide) {
    for (const item of listed()) {
      if (hide) hidden.add(item.key);
      else hidden.delete(item.key);
    }
    render();
    anchor.dispatchEvent(new Event('input', { bubbles: true }));
  }

  search.addEventListener('input', () => {
    query = search.value.trim();
    render();
  });
  // Enter in the search box must not submit the profile form.
  search.addEventListener('keydown', (event) => { if (event.key === 'Enter') event.preventDefault(); });
  showAll.addEventListener('click', () => setAll(false));
  hideAll.addEventListener('click', () => setAll(true));

  const base = slot({
    name: 'hidden_screens',
    element: anchor,
    anchor,
    // Keys the catalog does not know (an older profile) are kept and sent, so the server says what it thinks.
    read: () => [...hidden].sort(),
    write: (value) => {
      hidden = new Set(value ?? []);
      for (const key of hidden) {
        if (known.has(key)) continue;
        known.add(key);
        items.push({ key, title: key, platforms: {}, description: 'Not in Apple’s list of Setup Assistant screens.' });
      }
      render();
    },
    focus: () => anchor.focus(),
  });
  render();
  return {
    ...base,
    setPlatforms(next) {
      const wanted = next?.length ? next : ['iOS'];
      // Redraw only when the platforms change: the form calls this after every edit, and a
      // redraw between a press and its release (a text field's change event fires on that
      // press) would swallow the click on a Show / Hide button.
      if (wanted.join() === platforms.join()) return;
      platforms = wanted;
      render();
    },
  };
}
