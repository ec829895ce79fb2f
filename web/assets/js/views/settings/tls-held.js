/**
 * views/settings/tls-held.js — the certificate the configuration file asks for ([tls.acme],
 * tls.cert_file) while it waits for a confirmation: serving it redefines every enrollment
 * profile at Apple and re-assigns the devices, so the appliance keeps the self-managed
 * certificate until an admin confirms here.
 *
 * Owns: the held notice and its confirmation (`POST /api/v1/settings/tls/held/confirm`).
 * Exposes: `heldSection(tls, impact, onConfirmed)` → element, or null when nothing is held.
 * Element ids for tests: #tls-held, #tls-held-confirm.
 * Must not use: anything but the API and the dialog helper.
 */

import { h } from '../../dom.js';
import { apiPost } from '../../api.js';
import { confirmDialog } from '../../components/dialog.js';
import { actionsRow } from '../../components/form.js';
import { toast } from '../../components/toast.js';

const SOURCES = {
  acme: 'the ACME CA of [tls.acme]',
  custom_config: 'the files of tls.cert_file and tls.key_file',
};

export function heldSection(tls, impact, onConfirmed) {
  if (!tls.held) return null;
  const source = SOURCES[tls.held] ?? tls.held;
  const n = impact?.devices_to_reassign ?? 0;
  const devices = n === 1 ? '1 device is' : `${n} devices are`;
  const text = `The configuration file asks for the certificate of ${source}. Serving it redefines every enrollment profile at Apple without the appliance CA pinned, and ${devices} re-assigned. Until you confirm, the self-managed certificate is served.`;
  const button = h('button', { type: 'button', id: 'tls-held-confirm', class: 'button button-primary' }, 'Serve it and re-assign the devices');
  button.addEventListener('click', async () => {
    const result = await confirmDialog({
      id: 'tls-held-dialog',
      title: 'Serve the certificate from the configuration file?',
      message: [text, 'Devices already set up keep their old settings until erased.'],
      confirmLabel: 'Serve it',
      busyLabel: 'Switching…',
      action: () => apiPost('/settings/tls/held/confirm', {}),
    });
    if (result) {
      toast('The certificate from the configuration file is in use; the profiles follow at Apple.');
      onConfirmed(result);
    }
  });
  return h('div', { class: 'stack', id: 'tls-held' },
    h('h3', { class: 'subtitle' }, 'Waiting for your confirmation'),
    h('p', { class: 'callout' }, text),
    actionsRow(button));
}
