/**
 * views/settings/tls-acme.js — the ACME part of the TLS panel, shown when the configuration
 * file has a [tls.acme] section: where the certificate comes from, how the last order went
 * (the CA's own error in plain words), when the next one is due, and "Renew now".
 *
 * Owns: the ACME details and the renew button (`POST /api/v1/settings/tls/acme/renew`).
 * Until the first certificate arrives, says how many devices it would re-assign (the profiles
 * then pin no CA); once issued it waits for a confirmation (`tls-held.js`).
 * Exposes: `acmeSection(tls, onChanged, impact)` → element.
 * Element ids for tests: #tls-acme, #tls-acme-directory, #tls-acme-ca-file, #tls-acme-last-order,
 * #tls-acme-next, #tls-acme-error, #tls-acme-renew, #tls-acme-switch.
 * Must not use: anything but the API and the form helpers.
 */

import { h } from '../../dom.js';
import { apiPost } from '../../api.js';
import { timeElement } from '../../format.js';
import { actionsRow, setBusy } from '../../components/form.js';
import { showError, toast } from '../../components/toast.js';

function row(label, ...value) {
  return [h('dt', {}, label), h('dd', {}, value)];
}

function when(value, id) {
  return h('span', { id }, value ? timeElement(value, { mode: 'absolute' }) : h('span', { class: 'muted' }, 'not yet'));
}

export function acmeSection(tls, onChanged, impact) {
  const acme = tls.acme;
  const n = impact?.devices_to_reassign ?? 0;
  const pending = tls.mode === 'self_managed' && n > 0 && !tls.held
    ? h('p', { class: 'callout', id: 'tls-acme-switch' }, `The first certificate from the CA would replace the self-managed one: every enrollment profile would then be defined again at Apple without the appliance CA pinned, and ${n === 1 ? '1 device' : `${n} devices`} re-assigned. It waits here for your confirmation once it is issued.`)
    : null;
  const button = h('button', { type: 'button', id: 'tls-acme-renew', class: 'button' }, 'Renew now');
  const error = acme.last_error
    ? h('p', { class: 'error-text', id: 'tls-acme-error', role: 'alert' }, `The last order failed: ${acme.last_error}`)
    : null;
  button.addEventListener('click', async () => {
    const done = setBusy(button, 'Ordering from the CA…');
    try {
      const next = await apiPost('/settings/tls/acme/renew', {});
      toast('The CA issued a new certificate. New connections get it from now on.');
      onChanged(next);
    } catch (err) {
      showError(err, 'The CA did not issue a certificate');
    } finally {
      done?.();
    }
  });
  return h('div', { class: 'stack', id: 'tls-acme' },
    h('h3', { class: 'subtitle' }, 'Certificate from an ACME CA'),
    h('p', { class: 'muted' }, 'The configuration file ([tls.acme]) names the CA. The appliance proves its names over HTTP-01 on the listener below, which answers only the CA’s challenges while an order is pending, and renews the certificate without a restart: inside the renewal window the CA suggests (RFC 9773) when it offers one, else at two thirds of its lifetime.'),
    h('dl', { class: 'details' },
      row('Directory', h('code', { id: 'tls-acme-directory' }, acme.directory_url)),
      row('Challenge listener', h('code', {}, acme.http_listen)),
      row('Extra trusted CA', acme.ca_file
        ? [h('code', { id: 'tls-acme-ca-file' }, acme.ca_file), h('span', { class: 'muted' }, ' — trusted for the CA’s own HTTPS only (tls.acme.ca_file).')]
        : h('span', { class: 'muted', id: 'tls-acme-ca-file' }, 'none: the system’s public roots')),
      row('Contact', acme.contact ? h('code', {}, acme.contact) : h('span', { class: 'muted' }, 'none')),
      row('External account binding', acme.external_account_binding ? 'yes (the key is not shown)' : 'no'),
      row('Last order', when(acme.last_order_at, 'tls-acme-last-order')),
      row('Last issued', when(acme.last_success_at, 'tls-acme-last-success')),
      row('Next order', when(acme.next_attempt_at, 'tls-acme-next'))),
    error,
    pending,
    actionsRow(button));
}
