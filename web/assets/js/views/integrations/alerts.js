/**
 * views/integrations/alerts.js — the Alerts panel of the Integrations page: the alerts that
 * hold now (each links to its fix), the SMTP server (the password is never shown: only
 * whether one is stored; "Remove" erases the server and its password after asking), recipients per alert kind and the thresholds, "Send test" with the
 * SMTP server's answer in plain words, and the recent alerts with what became of each e-mail.
 *
 * Exposes: `alertsPanel({signal})` → `{element, load}`.
 * Element ids for tests: #alerts, #alerts-active, #smtp-form, #smtp-host, #smtp-port,
 * #smtp-security, #smtp-allow-plain, #smtp-username, #smtp-password, #smtp-from, #smtp-ca,
 * #smtp-remove (its dialog: #smtp-remove-dialog, #smtp-remove-dialog-confirm),
 * #alert-recipients-form, #recipients-<kind>, #alert-refusals, #alert-disk, #alert-test-to,
 * #alert-test-send, #alert-test-result, #alerts-recent.
 * Must not use: anything but the API and its components.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiDelete, apiGet, apiPost, apiPut } from '../../api.js';
import { confirmDialog } from '../../components/dialog.js';
import { panel } from '../../components/panel.js';
import { badge } from '../../components/badge.js';
import { applyApiError, clearFormErrors, setBusy, textField } from '../../components/form.js';
import { showError, toast } from '../../components/toast.js';
import { timeElement, timeOr } from '../../format.js';

const MAIL_WORDS = {
  sent: ['Sent', 'success'], queued: ['Waiting to send', 'warning'],
  gave_up: ['Gave up', 'danger'], not_mailed: ['Not e-mailed (no recipient)', 'neutral'],
};

function mailBadge(entry) {
  if (entry.mail === 'queued' && entry.last_error) return badge('Failed, will retry', 'warning');
  const [words, variant] = MAIL_WORDS[entry.mail] ?? [entry.mail, 'neutral'];
  return badge(words, variant);
}

function addresses(text) {
  return text.split(/[\s,;]+/).map((a) => a.trim()).filter(Boolean);
}

export function alertsPanel({ signal }) {
  const active = h('div', { id: 'alerts-active', class: 'banners', 'aria-live': 'polite' });

  // SMTP server.
  const host = textField({ id: 'smtp-host', name: 'smtp.host', label: 'SMTP server', hint: 'Host name or IP address, e.g. smtp.example.org.' });
  const port = textField({ id: 'smtp-port', name: 'smtp.port', label: 'Port', type: 'number', value: '587', hint: '587 for STARTTLS, 465 for TLS.' });
  const security = h('select', { id: 'smtp-security', name: 'smtp.security' },
    h('option', { value: 'starttls' }, 'STARTTLS (port 587)'),
    h('option', { value: 'tls' }, 'TLS from the start (port 465)'),
    h('option', { value: 'none' }, 'No encryption'));
  const allowPlain = h('input', { type: 'checkbox', id: 'smtp-allow-plain', name: 'smtp.allow_plain' });
  const plainRow = h('div', { class: 'field', hidden: true, dataset: { field: 'smtp.allow_plain' } },
    h('label', { for: 'smtp-allow-plain' }, allowPlain, ' Send without encryption: the password and every alert cross the network in clear'),
    h('p', { class: 'field-error', hidden: true }));
  security.addEventListener('change', () => { plainRow.hidden = security.value !== 'none'; });
  const username = textField({ id: 'smtp-username', name: 'smtp.username', label: 'User name', required: false, autocomplete: 'off' });
  const password = textField({ id: 'smtp-password', name: 'smtp.password', label: 'Password', type: 'password', required: false, autocomplete: 'new-password', hint: 'Stored sealed; never shown again.' });
  const from = textField({ id: 'smtp-from', name: 'smtp.from', label: 'From address', type: 'email', hint: 'e.g. adebox@example.org' });
  const ca = textField({ id: 'smtp-ca', name: 'smtp.ca_pem', label: 'CA certificate to trust (PEM)', required: false, multiline: true, rows: 4, hint: 'Only for a server whose certificate a private CA issued; the system’s CAs are always trusted.' });
  const smtpSave = h('button', { type: 'submit', class: 'button button-primary' }, 'Save SMTP settings');
  const smtpRemove = h('button', { type: 'button', id: 'smtp-remove', class: 'button button-danger', hidden: true }, 'Remove SMTP settings');
  const smtpForm = h('form', { id: 'smtp-form', novalidate: true },
    h('h3', {}, 'E-mail server'),
    h('div', { class: 'grid-2' }, host.field, port.field,
      h('div', { class: 'field' }, h('label', { for: 'smtp-security' }, 'Security'), security)),
    plainRow, h('div', { class: 'grid-2' }, username.field, password.field), from.field, ca.field,
    h('div', { class: 'actions' }, smtpSave, smtpRemove));

  // Recipients and thresholds.
  const recipientsBody = h('div', {});
  const refusals = textField({ id: 'alert-refusals', name: 'refusals_per_hour', label: 'Enrollment refusals per hour before alerting', type: 'number', value: '20' });
  const disk = textField({ id: 'alert-disk', name: 'disk_free_percent', label: 'Alert when free disk space is below (%)', type: 'number', value: '10' });
  const recipientsSave = h('button', { type: 'submit', class: 'button button-primary' }, 'Save recipients and thresholds');
  const recipientsForm = h('form', { id: 'alert-recipients-form', novalidate: true },
    h('h3', {}, 'Who hears about what'),
    h('p', { class: 'muted' }, 'E-mail addresses per alert, separated by commas. Each alert is sent once when it starts, again when it gets worse (30, 14, 7, 1 days), and once when it is resolved. Webhooks get the same alerts as adebox.* events.'),
    recipientsBody, h('div', { class: 'grid-2' }, refusals.field, disk.field),
    h('div', { class: 'form-actions' }, recipientsSave));

  // Send test.
  const testTo = textField({ id: 'alert-test-to', name: 'to', label: 'Send a test message to', type: 'email', required: false, hint: 'Empty: the test message’s recipients above.' });
  const testSend = h('button', { type: 'button', id: 'alert-test-send', class: 'button' }, 'Send test');
  const testResult = h('div', { id: 'alert-test-result', 'aria-live': 'polite' });
  const testBox = h('div', { class: 'stack' }, h('h3', {}, 'Send test'), testTo.field,
    h('div', { class: 'form-actions' }, testSend), testResult);

  const recent = h('div', { id: 'alerts-recent' }, h('p', { class: 'muted' }, 'Loading the alerts…'));

  const element = panel({ id: 'alerts', title: 'Alerts', intro: 'E-mail and webhook alerts for what needs you: server tokens and the push certificate expiring or refused, sync failing, many enrollment refusals, the disk nearly full, the appliance certificate’s renewal failing.' },
    h('div', { class: 'panel-body stack' }, active, smtpForm, recipientsForm, testBox, h('h3', {}, 'Recent alerts'), recent));

  function showSettings(s) {
    smtpRemove.hidden = !s.smtp;
    if (!s.smtp) {
      for (const f of [host, username, password, from, ca]) f.input.value = '';
      password.input.placeholder = '';
      port.input.value = '587';
      security.value = 'starttls';
      allowPlain.checked = false;
      plainRow.hidden = true;
    } else {
      host.input.value = s.smtp.host;
      port.input.value = String(s.smtp.port);
      security.value = s.smtp.security;
      allowPlain.checked = s.smtp.allow_plain;
      plainRow.hidden = s.smtp.security !== 'none';
      username.input.value = s.smtp.username ?? '';
      password.input.value = '';
      password.input.placeholder = s.smtp.password_set ? 'Stored — leave empty to keep it' : '';
      from.input.value = s.smtp.from;
      ca.input.value = s.smtp.ca_pem ?? '';
    }
    refusals.input.value = String(s.refusals_per_hour);
    disk.input.value = String(s.disk_free_percent);
    replaceChildren(recipientsBody, h('div', { class: 'grid-2' }, s.kinds.map((k) => textField({
      id: `recipients-${k.kind}`, name: `recipients.${k.kind}`, label: k.title, required: false,
      value: k.recipients.join(', '), attrs: { dataset: { kind: k.kind } },
    }).field)));
  }

  function showAlerts(v) {
    replaceChildren(active, v.active.map((a) => h('div', { class: ['banner', a.severity === 'error' ? 'banner-error' : 'banner-warning'], role: 'status' },
      a.summary, ' — ', h('a', { href: a.fix_path }, 'Fix it'))));
    if (v.recent.length === 0) {
      replaceChildren(recent, h('p', { class: 'muted' }, 'No alert yet.'));
      return;
    }
    replaceChildren(recent, h('div', { class: 'table-scroll' }, h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, ['When', 'Alert', 'E-mail', 'Recipients', 'Problem'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, v.recent.map((e) => h('tr', {},
        h('td', {}, timeElement(e.at)),
        h('td', {}, h('a', { href: e.fix_path }, e.summary)),
        h('td', {}, mailBadge(e), e.next_attempt_at && e.last_error ? h('span', { class: 'muted' }, ' next ', timeOr(e.next_attempt_at, '')) : null),
        h('td', {}, e.recipients.join(', ') || '—'),
        h('td', {}, e.last_error ?? '')))))));
  }

  async function load() {
    try {
      const [settings, alerts] = await Promise.all([
        apiGet('/alerts/settings', { signal }), apiGet('/alerts', { signal })]);
      showSettings(settings);
      showAlerts(alerts);
    } catch (err) {
      if (err.name !== 'AbortError') showError(err, 'Could not load the alerts');
    }
  }

  async function loadAlerts() {
    try {
      showAlerts(await apiGet('/alerts', { signal }));
    } catch (err) {
      if (err.name !== 'AbortError') showError(err, 'Could not load the alerts');
    }
  }

  async function save(form, button, body, done) {
    clearFormErrors(form);
    const restore = setBusy(button, 'Saving…');
    try {
      showSettings(await apiPut('/alerts/settings', body));
      toast(done);
    } catch (err) {
      applyApiError(form, err);
    } finally {
      restore();
    }
  }

  smtpForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const smtp = {
      host: host.input.value, port: Number(port.input.value), security: security.value,
      allow_plain: allowPlain.checked, username: username.input.value || null,
      from: from.input.value, ca_pem: ca.input.value || null,
    };
    if (password.input.value) smtp.password = password.input.value;
    save(smtpForm, smtpSave, { smtp }, 'SMTP settings saved');
  });

  recipientsForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const recipients = {};
    for (const input of recipientsBody.querySelectorAll('input[data-kind]')) {
      recipients[input.dataset.kind] = addresses(input.value);
    }
    save(recipientsForm, recipientsSave, {
      recipients, refusals_per_hour: Number(refusals.input.value), disk_free_percent: Number(disk.input.value),
    }, 'Recipients and thresholds saved');
  });

  smtpRemove.addEventListener('click', async () => {
    const removed = await confirmDialog({
      id: 'smtp-remove-dialog', title: 'Remove the SMTP settings?', danger: true, confirmLabel: 'Remove',
      busyLabel: 'Removing…',
      message: ['The SMTP server and its stored password are erased. Alerts are still listed here and sent to webhooks; their e-mails wait until an SMTP server is set again.'],
      action: () => apiDelete('/alerts/settings/smtp'),
    });
    if (removed) {
      showSettings(removed);
      toast('SMTP settings removed');
      smtpSave.focus();
    }
  });

  testSend.addEventListener('click', async () => {
    const restore = setBusy(testSend, 'Sending…');
    replaceChildren(testResult);
    try {
      const to = testTo.input.value ? addresses(testTo.input.value) : undefined;
      const r = await apiPost('/alerts/test', to ? { to } : {});
      replaceChildren(testResult, h('div', { class: ['banner', r.sent ? 'banner-info' : 'banner-error'], role: 'status' },
        r.sent ? `Sent to ${r.recipients.join(', ')}. ` : 'Not sent. ', r.answer));
      toast(r.sent ? 'Test message sent' : 'The test message was not sent');
    } catch (err) {
      replaceChildren(testResult, h('div', { class: ['banner', 'banner-error'], role: 'alert' }, err.message));
    } finally {
      restore();
    }
  });

  return { element, load, loadAlerts };
}
