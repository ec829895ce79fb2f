/**
 * enrollment/audit-switch.js — the audit-only switch of the Enrollment page.
 *
 * Owns: showing whether audit-only mode is on (text plus colour), and turning it on or off
 * after a confirmation that says what will happen (`PUT /api/v1/enrollment/settings`). Every
 * change answers with a toast; a failure is shown in the dialog, which stays open.
 * Exposes: `auditSwitch({settings, onChange})` → `{element, update(settings)}`.
 * Element ids for tests: #enroll-audit-state (data-audit-only="true|false"),
 * #enroll-audit-toggle, the dialog #enroll-audit-dialog (…-confirm, …-cancel).
 * Must not use: anything but the API and the components.
 */

import { h, replaceChildren } from '../dom.js';
import { apiPut } from '../api.js';
import { badge } from '../components/badge.js';
import { confirmDialog } from '../components/dialog.js';
import { toast } from '../components/toast.js';

const ON_TEXT = 'Devices the gate would refuse — serials not in this appliance’s device list, removed devices, devices without one of this appliance’s profiles — are let through and only recorded below.';
const OFF_TEXT = 'Only devices in this appliance’s device list, with one of its enrollment profiles, may enroll; any other device is refused and listed below.';

export function auditSwitch({ settings, onChange }) {
  const state = h('p', { id: 'enroll-audit-state', class: 'audit-state' });
  const explain = h('p', { class: 'muted' });
  const button = h('button', { type: 'button', id: 'enroll-audit-toggle', class: 'button' });
  let current = Boolean(settings?.audit_only);

  function update(next) {
    current = Boolean(next?.audit_only);
    state.dataset.auditOnly = String(current);
    replaceChildren(state, 'Audit-only mode: ',
      current ? badge('On — refusals are only logged', 'warning') : badge('Off — unknown devices are refused', 'success'));
    explain.textContent = current ? ON_TEXT : OFF_TEXT;
    button.textContent = current ? 'Turn audit-only mode off…' : 'Turn audit-only mode on…';
    button.className = current ? 'button button-primary' : 'button';
  }

  button.addEventListener('click', async () => {
    const turnOn = !current;
    const done = await confirmDialog({
      id: 'enroll-audit-dialog',
      title: turnOn ? 'Turn audit-only mode on?' : 'Turn audit-only mode off?',
      message: turnOn ? [
        'Devices that are not in this appliance’s device list (or that Apple removed, or that carry another server’s profile) will be let through and enrolled. Each one is only logged, in the list of recent refusals on this page, as “Let through”.',
        'Use this for a first rollout, to see which devices would be refused, and turn it off again afterwards: while it is on, any Apple device that reaches the enrollment URL can enroll.',
      ] : [
        'Devices that are not in this appliance’s device list, that Apple removed, or that carry another server’s profile will be refused again. Each refusal is listed on this page with its reason.',
      ],
      confirmLabel: turnOn ? 'Turn on audit-only mode' : 'Turn off audit-only mode',
      busyLabel: 'Saving…',
      danger: turnOn,
      action: () => apiPut('/enrollment/settings', { audit_only: turnOn }),
    });
    if (!done) return;
    update(done);
    toast(done.audit_only ? 'Audit-only mode is on: refused devices are let through and logged.' : 'Audit-only mode is off: unknown devices are refused.');
    onChange?.(done);
  });

  update(settings);
  const element = h('div', { class: 'audit-switch' }, state, explain, h('div', { class: 'actions' }, button));
  return { element, update };
}
