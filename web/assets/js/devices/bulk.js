/**
 * devices/bulk.js — assigning a profile to many devices at once from a CSV file or a pasted
 * list of serial numbers: first a dry run that shows the outcome per serial with the counts
 * per outcome, then "Apply" sends exactly what was checked.
 *
 * Owns: reading the file (≤ 5 MiB, the API's cap) or the pasted text, the dry run
 * (`POST /assignments/csv?dry_run=true` for a file, `POST /assignments` with `dry_run` for a
 * list), invalidating the check when the input or the profile changes, and applying it.
 * Exposes: `bulkAssign({profiles, onApplied})` → element (a disclosure, open when the page
 * asks for it).
 * Element ids for tests: #bulk-assign (the <details>), #bulk-profile, #bulk-source-file /
 * #bulk-source-paste (radios), #bulk-file, #bulk-file-info, #bulk-paste, #bulk-check,
 * #bulk-apply, #bulk-error, #bulk-result (see devices/outcomes.js: #bulk-result-summary,
 * #bulk-result-table).
 * Must not use: anything but the API and the callbacks it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiPost, apiPostText } from '../api.js';
import { formatNumber } from '../format.js';
import { setBusy, setDisabledReason } from '../components/form.js';
import { showError, toast } from '../components/toast.js';
import { sentWords } from './assign.js';
import { outcomeView, willChange } from './outcomes.js';

const MAX_CSV_BYTES = 5 * 1024 * 1024;

/** Serial numbers from pasted text: one per line, or separated by commas, semicolons or spaces. */
export function pastedSerials(text) {
  return String(text ?? '').split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
}

export function bulkAssign({ profiles, onApplied }) {
  const sorted = [...profiles].sort((a, b) => a.name.localeCompare(b.name));
  const profile = h('select', { id: 'bulk-profile' },
    h('option', { value: '' }, sorted.length ? 'Choose a profile…' : 'No profile yet'),
    sorted.map((p) => h('option', { value: p.id }, p.name)));
  const radio = (value, words) => {
    const input = h('input', { type: 'radio', name: 'bulk-source', id: `bulk-source-${value}`, value, props: { checked: value === 'file' } });
    return [input, h('div', { class: 'check-row' }, input, h('label', { for: input.id }, words))];
  };
  const [fileRadio, fileChoice] = radio('file', 'A CSV file');
  const [pasteRadio, pasteChoice] = radio('paste', 'Serial numbers pasted here');
  const file = h('input', { type: 'file', id: 'bulk-file', accept: '.csv,.txt,text/csv,text/plain', class: 'file-input' });
  const fileInfo = h('p', { id: 'bulk-file-info', class: 'hint', 'aria-live': 'polite' }, 'The first column that holds serial numbers is used; a header row is fine. Up to 200,000 rows (5 MiB).');
  const paste = h('textarea', { id: 'bulk-paste', rows: 6, class: 'mono', spellcheck: 'false', autocomplete: 'off', placeholder: 'C02XK1ABJG5J\nDMPXK1ABJG5K' });
  const fileBox = h('div', { class: 'field' }, h('label', { for: 'bulk-file' }, 'CSV file'), file, fileInfo);
  const pasteBox = h('div', { class: 'field', hidden: true }, h('label', { for: 'bulk-paste' }, 'Serial numbers'),
    h('p', { class: 'hint' }, 'One per line, or separated by commas or spaces.'), paste);
  const check = h('button', { type: 'button', class: 'button', id: 'bulk-check' }, 'Check (dry run)');
  const apply = h('button', { type: 'button', class: 'button button-primary', id: 'bulk-apply' }, 'Apply');
  const error = h('p', { class: 'field-error', id: 'bulk-error', role: 'alert', hidden: true });
  const result = h('div', { id: 'bulk-result-slot', tabindex: '-1' });

  let csvText = null;
  let checked = null; // {key, answer} of the last dry run

  const source = () => (pasteRadio.checked ? 'paste' : 'file');
  const inputKey = () => JSON.stringify([profile.value, source(), source() === 'file' ? csvText : paste.value]);

  function refresh() {
    fileBox.hidden = source() !== 'file';
    pasteBox.hidden = source() !== 'paste';
    const hasInput = source() === 'file' ? csvText !== null : pastedSerials(paste.value).length > 0;
    let why = null;
    if (!profile.value) why = 'Choose a profile.';
    else if (!hasInput) why = source() === 'file' ? 'Choose a CSV file.' : 'Paste serial numbers.';
    setDisabledReason(check, why);
    const fresh = checked && checked.key === inputKey();
    if (checked && !fresh) {
      replaceChildren(result);
      checked = null;
    }
    const n = fresh ? willChange(checked.answer) : 0;
    apply.textContent = fresh ? `Apply: assign ${formatNumber(n)} ${n === 1 ? 'device' : 'devices'}` : 'Apply';
    setDisabledReason(apply, !fresh ? 'Run the check first: it shows what will happen.' : (n ? null : 'The check found nothing to assign.'));
  }

  function showProblem(message) {
    error.textContent = message;
    error.hidden = !message;
  }

  file.addEventListener('change', async () => {
    showProblem(null);
    csvText = null;
    const chosen = file.files?.[0];
    if (chosen) {
      if (chosen.size > MAX_CSV_BYTES) {
        showProblem(`“${chosen.name}” is ${formatNumber(Math.ceil(chosen.size / 1024))} KiB; the appliance takes CSV files up to 5 MiB (200,000 serials). Split it into smaller files.`);
      } else {
        try {
          csvText = await chosen.text();
          const lines = csvText.split(/\r?\n/).filter((l) => l.trim()).length;
          fileInfo.textContent = `“${chosen.name}”: ${formatNumber(lines)} ${lines === 1 ? 'line' : 'lines'}.`;
        } catch {
          showProblem(`Could not read “${chosen.name}”. Choose it again.`);
        }
      }
    }
    refresh();
  });
  for (const el of [profile, fileRadio, pasteRadio]) el.addEventListener('change', refresh);
  paste.addEventListener('input', refresh);

  function send(dryRun) {
    const profileId = profile.value;
    if (source() === 'file') return apiPostText('/assignments/csv', csvText, 'text/csv', { query: { profile_id: profileId, dry_run: String(dryRun) } });
    return apiPost('/assignments', { profile_id: profileId, serials: pastedSerials(paste.value), dry_run: dryRun });
  }

  check.addEventListener('click', async () => {
    showProblem(null);
    const key = inputKey();
    const restore = setBusy(check, 'Checking…');
    try {
      const answer = await send(true);
      checked = { key, answer };
      replaceChildren(result, outcomeView(answer, { id: 'bulk-result', dryRun: true }));
      result.focus();
    } catch (err) {
      if (err.name === 'AbortError') return;
      showProblem(err.message || String(err));
    } finally {
      restore();
      refresh();
    }
  });

  apply.addEventListener('click', async () => {
    showProblem(null);
    const name = profile.selectedOptions[0]?.textContent ?? '';
    const restore = setBusy(apply, 'Sending…');
    try {
      const answer = await send(false);
      checked = null;
      replaceChildren(result, outcomeView(answer, { id: 'bulk-result', dryRun: false }));
      toast(sentWords(answer, name));
      onApplied?.(answer);
      result.focus();
    } catch (err) {
      showError(err, 'The assignment was not sent');
      showProblem(err.message || String(err));
    } finally {
      restore();
      refresh();
    }
  });

  const element = h('details', { class: 'panel bulk-assign', id: 'bulk-assign' },
    h('summary', { class: 'bulk-summary' }, h('span', { class: 'panel-title' }, 'Assign a profile by CSV file or pasted list'),
      h('span', { class: 'muted small' }, ' — checked first (dry run), applied when you say so')),
    h('div', { class: 'stack bulk-body' },
      h('div', { class: 'grid-2' },
        h('div', { class: 'stack' },
          h('div', { class: 'field' }, h('label', { for: 'bulk-profile' }, 'Profile'), profile),
          h('fieldset', { class: 'field-group' }, h('legend', {}, 'Serial numbers from'), fileChoice, pasteChoice)),
        h('div', { class: 'stack' }, fileBox, pasteBox)),
      h('div', { class: 'actions' }, check, apply),
      error,
      result));
  refresh();
  return element;
}
