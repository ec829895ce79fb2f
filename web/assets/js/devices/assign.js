/**
 * devices/assign.js — assigning an enrollment profile to the selected devices, or removing
 * it, from the Devices table. Before anything is sent, the appliance's dry run says per
 * serial what will happen (assigned, already has it, another token's, removed…) and the
 * admin applies it from there; removing asks first and says what Apple will do.
 *
 * Exposes: `selectionBar({selection, profiles, fetchAll, onDone})` → `{element, refresh()}`;
 * `assignFlow({serials, profile, onDone})` and `unassignFlow({serials, onDone})`, the dialogs
 * one device's page uses too.
 * Element ids for tests: #devices-selection (bar), #devices-selection-count,
 * #devices-select-matching, #devices-selection-clear, #assign-profile (select),
 * #assign-selected, #unassign-selected, #assign-dialog (result #assign-check, apply
 * #assign-dialog-apply), #unassign-dialog (confirm #unassign-dialog-confirm).
 * Must not use: anything but the API and the callbacks it is given.
 */

import { h } from '../dom.js';
import { apiDelete, apiPost } from '../api.js';
import { formatNumber } from '../format.js';
import { confirmDialog, openDialog } from '../components/dialog.js';
import { setBusy, setDisabledReason } from '../components/form.js';
import { showError, toast } from '../components/toast.js';
import { outcomeView, willChange } from './outcomes.js';

const plural = (n, one, many) => `${formatNumber(n)} ${n === 1 ? one : many}`;

/** Words for what a sent request did: "12 devices queued for Apple; 3 not possible". */
export function sentWords(answer, profileName) {
  const queued = willChange(answer);
  const rest = (answer?.items?.length ?? 0) - queued;
  return `${plural(queued, 'device', 'devices')} queued for “${profileName}” at Apple${rest ? `; ${formatNumber(rest)} left as they were (see the outcome per serial)` : ''}.`;
}

/**
 * The dry run of assigning `profile` to `serials`, in a dialog; "Apply" sends it for real.
 * Resolves with the real answer, or null when the admin stops.
 */
export async function assignFlow({ serials, profile, onDone }) {
  let check;
  try {
    check = await apiPost('/assignments', { profile_id: profile.id, serials, dry_run: true });
  } catch (err) {
    showError(err, 'Could not check the assignment');
    return null;
  }
  const n = willChange(check);
  const apply = h('button', { type: 'button', class: 'button button-primary', id: 'assign-dialog-apply' },
    n ? `Assign to ${plural(n, 'device', 'devices')}` : 'Nothing to assign');
  const cancel = h('button', { type: 'button', class: 'button', id: 'assign-dialog-cancel' }, 'Cancel');
  const error = h('p', { class: 'dialog-error', role: 'alert', hidden: true });
  const { close, result } = openDialog({
    id: 'assign-dialog',
    className: 'dialog-wide',
    title: `Assign “${profile.name}”?`,
    body: [
      h('p', {}, 'This is what would happen; nothing has been sent yet. Apple gets the devices through their own tokens, at most 1,000 per request, and answers per device.'),
      outcomeView(check, { id: 'assign-check', dryRun: true }),
      error,
    ],
    buttons: [cancel, apply],
  });
  if (!n) setDisabledReason(apply, 'None of these devices would change.');
  cancel.addEventListener('click', () => close(null));
  (n ? apply : cancel).focus();
  apply.addEventListener('click', async () => {
    const restore = setBusy(apply, 'Sending…');
    cancel.disabled = true;
    try {
      const answer = await apiPost('/assignments', { profile_id: profile.id, serials, dry_run: false });
      close(answer);
    } catch (err) {
      restore();
      cancel.disabled = false;
      error.textContent = err.message || String(err);
      error.hidden = false;
    }
  });
  const answer = await result;
  if (answer) {
    toast(sentWords(answer, profile.name));
    onDone?.(answer);
  }
  return answer;
}

/** Asks, then removes the profile assignment of `serials` at Apple. */
export async function unassignFlow({ serials, onDone }) {
  const n = serials.length;
  const done = await confirmDialog({
    id: 'unassign-dialog',
    title: `Remove the profile from ${plural(n, 'device', 'devices')}?`,
    message: [
      'Apple removes the profile assignment; until another profile or a default is assigned, these devices enroll with no profile from this appliance when they are next set up.',
      'Devices already set up keep their settings until they are erased.',
    ],
    confirmLabel: 'Remove the profile',
    busyLabel: 'Removing…',
    action: () => apiDelete('/assignments', { body: { serials } }),
  });
  if (done) {
    toast(`Removal of the profile from ${plural(n, 'device', 'devices')} queued for Apple.`);
    onDone?.();
  }
  return done;
}

export function selectionBar({ selection, profiles, fetchAll, onDone }) {
  const count = h('p', { id: 'devices-selection-count', class: 'selection-count', 'aria-live': 'polite' });
  const widen = h('button', { type: 'button', class: 'link-button', id: 'devices-select-matching' });
  const clear = h('button', { type: 'button', class: 'button button-small', id: 'devices-selection-clear' }, 'Clear selection');
  const sorted = [...profiles].sort((a, b) => a.name.localeCompare(b.name));
  const choose = h('select', { id: 'assign-profile' },
    h('option', { value: '' }, sorted.length ? 'Choose a profile…' : 'No profile yet'),
    sorted.map((p) => h('option', { value: p.id }, p.name)));
  const assign = h('button', { type: 'button', class: 'button button-primary button-small', id: 'assign-selected' }, 'Assign…');
  const unassign = h('button', { type: 'button', class: 'button button-small', id: 'unassign-selected' }, 'Remove profile…');
  const element = h('div', { class: 'selection-bar', id: 'devices-selection', role: 'region', 'aria-label': 'Selected devices' },
    h('div', { class: 'selection-what' }, count, widen),
    h('div', { class: 'selection-actions' },
      h('label', { for: 'assign-profile' }, 'Profile'), choose, assign, unassign, clear));

  function refresh() {
    const n = selection.count();
    count.textContent = n ? selection.describe() : 'No device selected: tick devices in the table (or the box in its header for the whole page) to assign a profile or remove it.';
    widen.hidden = !selection.canWiden();
    widen.textContent = `Select all ${formatNumber(selection.total())} matching the filters`;
    element.classList.toggle('has-selection', n > 0);
    clear.disabled = n === 0;
    setDisabledReason(assign, n > 0 && !choose.value ? 'Choose a profile first.' : null);
    if (n === 0) assign.disabled = true;
    unassign.disabled = n === 0;
  }
  choose.addEventListener('change', refresh);
  widen.addEventListener('click', () => { selection.selectMatching(); widen.blur(); count.focus?.(); });
  clear.addEventListener('click', () => selection.clear());

  async function withSerials(button, run) {
    const restore = setBusy(button, selection.isMatching() ? 'Listing the devices…' : 'Checking…');
    try {
      const serials = await selection.serials(fetchAll);
      restore();
      await run(serials);
    } catch (err) {
      restore();
      showError(err, 'Could not list the selected devices');
    }
    refresh();
  }
  assign.addEventListener('click', () => withSerials(assign, (serials) => assignFlow({
    serials,
    profile: profiles.find((p) => p.id === choose.value),
    onDone: () => { selection.clear(); onDone?.(); },
  })));
  unassign.addEventListener('click', () => withSerials(unassign, (serials) => unassignFlow({
    serials,
    onDone: () => { selection.clear(); onDone?.(); },
  })));

  refresh();
  return { element, refresh };
}
