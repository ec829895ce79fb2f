/**
 * views/settings/sync.js — the Sync panel of Settings: how often the appliance asks Apple for
 * devices, how long a run may take, the page size, and how long removed devices are kept.
 * The defaults are Apple's traffic budget as Microsoft Intune applies it; the form says so and
 * can restore them.
 *
 * Owns: `GET`/`PUT /api/v1/settings/sync`, the range of each number checked as the admin
 * types (the same ranges the appliance enforces), the server's field errors next to the field,
 * and keeping what was typed when saving fails.
 * Exposes: `syncSettingsPanel(ctx)` → element.
 * Element ids for tests: #sync-settings, #sync-settings-form, #sync-<field name> (e.g.
 * #sync-full_every_days), #sync-settings-submit, #sync-settings-defaults.
 * Must not use: anything but the API, the form helpers and the ctx it is given.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiGet, request } from '../../api.js';
import { formatNumber } from '../../format.js';
import { actionsRow, clearFormErrors, liveValidate, runSubmit, textField } from '../../components/form.js';
import { panel } from '../../components/panel.js';
import { showError, toast } from '../../components/toast.js';

// [name, label, min, max, default, unit, hint]
const FIELDS = [
  ['full_every_days', 'Full sync every', 1, 30, 7, 'days', 'A full sync reads every device. Apple’s budget: once a week; a full sync asked for sooner only imports new devices.'],
  ['delta_every_hours', 'Changes sync every', 1, 48, 12, 'hours', 'How often the appliance asks Apple what changed.'],
  ['manual_every_minutes', '“Sync now” at most every', 5, 120, 15, 'minutes', 'Per token. The button counts down until it is allowed again.'],
  ['run_limit_minutes', 'Stop a run after', 5, 60, 15, 'minutes', 'A run that takes longer is stopped and reported; the next one carries on.'],
  ['page_limit', 'Devices per request', 1, 1000, 1000, 'devices', 'Apple sends at most 1,000 devices per page.'],
  ['retention_days', 'Keep removed devices for', 1, 3650, 45, 'days', 'Devices Apple removed stay visible this long, then are deleted.'],
];

function check(value, min, max, unit) {
  const v = value.trim();
  if (v === '') return `Enter a number of ${unit} from ${formatNumber(min)} to ${formatNumber(max)}.`;
  if (!/^\d+$/.test(v)) return `Use a whole number of ${unit}.`;
  const n = Number(v);
  if (n < min || n > max) return `Use ${formatNumber(min)} to ${formatNumber(max)} ${unit}.`;
  return null;
}

function settingsForm(initial, onSaved) {
  const inputs = FIELDS.map(([name, label, min, max, , unit, hint]) => {
    const built = textField({
      id: `sync-${name}`, name, label: `${label} (${unit})`, type: 'number', hint: `${hint} ${formatNumber(min)}–${formatNumber(max)}.`,
      value: String(initial[name] ?? ''), attrs: { min: String(min), max: String(max), step: '1', inputmode: 'numeric', class: 'input-number' },
    });
    return { name, built, validate: liveValidate(built.input, (v) => check(v, min, max, unit)) };
  });
  const submit = h('button', { type: 'submit', id: 'sync-settings-submit', class: 'button button-primary' }, 'Save sync settings');
  const defaults = h('button', { type: 'button', id: 'sync-settings-defaults', class: 'button' }, 'Fill in Apple’s defaults');
  const form = h('form', { id: 'sync-settings-form', class: 'stack', novalidate: true },
    h('div', { class: 'grid-3' }, inputs.map((i) => i.built.field)), actionsRow(submit, defaults));

  defaults.addEventListener('click', () => {
    clearFormErrors(form);
    for (const [name, , , , value] of FIELDS) inputs.find((i) => i.name === name).built.input.value = String(value);
    toast('Apple’s defaults are filled in. Save to use them.', { variant: 'info' });
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(form, {
      button: submit,
      busyLabel: 'Saving…',
      validate: () => inputs.map((i) => ({ input: i.built.input, message: i.validate() })),
      submit: () => request('PUT', '/settings/sync', { body: Object.fromEntries(inputs.map((i) => [i.name, Number(i.built.input.value.trim())])) }),
      onSuccess: (saved) => {
        toast('Sync settings saved. They apply from the next run.');
        onSaved?.(saved);
      },
    });
  });
  return form;
}

export function syncSettingsPanel(ctx) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the sync settings…'));
  const section = panel({ id: 'sync-settings', title: 'Sync', intro: 'How the appliance keeps its device list in step with Apple. The defaults are Apple’s traffic budget as Microsoft Intune applies it: a full sync once a week, changes every 12 hours, “Sync now” every 15 minutes, 15 minutes per run. Asking Apple more often risks being throttled.' }, body);
  apiGet('/settings/sync', { signal: ctx.signal })
    .then((settings) => replaceChildren(body, settingsForm(settings)))
    .catch((err) => {
      if (err.name === 'AbortError') return;
      replaceChildren(body, h('p', { class: 'error-text' }, `Could not load the sync settings: ${err.message}`));
      showError(err);
    });
  return section;
}
