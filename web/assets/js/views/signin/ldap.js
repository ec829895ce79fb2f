/**
 * views/signin/ldap.js — the LDAP / Active Directory panel of the Sign-in settings: where the
 * directory is, how it is reached (LDAPS, StartTLS, or plain LDAP only after the admin ticks
 * the warning), the CA to trust (pasted or chosen as a file), the service account (its
 * password is write-only: the form says whether one is saved), how users and groups are found,
 * the timeouts; "Test connection" shows each step; Save and Remove.
 *
 * Owns: `GET`/`PUT`/`DELETE /api/v1/signin/ldap` and `POST /api/v1/signin/ldap/test`, the
 * local rules checked as the admin types (the appliance enforces the same), the server's field
 * errors next to the field (`settings.<name>`), and keeping what was typed when saving fails.
 * Exposes: `ldapPanel(ctx)` → element (ctx: `{ api?, session?, signal? }`).
 * Element ids for tests: #ldap-directory, #ldap-form, #ldap-<field name> (e.g. #ldap-url,
 * #ldap-allow_plain_bind), #ldap-bind_password, #ldap-test-username, #ldap-save, #ldap-test,
 * #ldap-remove, #ldap-test-result (one <li data-step data-ok> per step).
 * Must not use: anything but the API, the form helpers and the ctx it is given.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiGet, request } from '../../api.js';
import { actionsRow, applyApiError, clearFormErrors, fileToField, liveValidate, runSubmit, setBusy, textField } from '../../components/form.js';
import { confirmDialog } from '../../components/dialog.js';
import { panel } from '../../components/panel.js';
import { showError, toast } from '../../components/toast.js';

// [name, label, hint, required]
const TEXT_FIELDS = [
  ['url', 'Server URL', 'ldaps://dc.example.org (port 636) or ldap://dc.example.org (port 389, with StartTLS). A port may follow the host.', true],
  ['bind_dn', 'Service account (bind DN)', 'The account that searches for users, e.g. cn=adebox,ou=services,dc=example,dc=org or svc-adebox@example.org on Active Directory. Empty: anonymous search.', false],
  ['user_base', 'User search base', 'Where users are searched, with everything below it, e.g. ou=people,dc=example,dc=org.', true],
  ['user_filter', 'User filter', '{username} stands for the name the user types (escaped). The default accepts uid, sAMAccountName and userPrincipalName.', true],
  ['display_name_attribute', 'Display name attribute', 'The user’s full name (displayName).', true],
  ['mail_attribute', 'E-mail attribute', 'Usually mail.', true],
  ['member_of_attribute', 'Group membership attribute on the user', 'memberOf lists the user’s groups on Active Directory and OpenLDAP with the memberof overlay. Empty: not read.', false],
  ['group_base', 'Group search base', 'Also search groups that list the user as a member, below this base. Empty: no group search.', false],
  ['group_filter', 'Group filter', '{dn} is the user’s DN, {username} the typed name.', false],
  ['group_name_attribute', 'Group name attribute', 'What a profile’s “allowed groups” name (cn). A group’s full DN works too.', true],
];

const TIMEOUTS = [
  ['connect_timeout_seconds', 'Connect timeout (seconds)'],
  ['operation_timeout_seconds', 'Operation timeout (seconds)'],
];

function checkbox(name, label, checked, hint) {
  const input = h('input', { type: 'checkbox', id: `ldap-${name}`, name });
  input.checked = Boolean(checked);
  return {
    input,
    field: h('div', { class: 'field', dataset: { field: name } },
      h('label', { for: input.id }, input, ` ${label}`),
      hint ? h('p', { class: 'hint' }, hint) : null,
      h('p', { class: 'field-error', id: `ldap-${name}-error`, hidden: true })),
  };
}

/** The settings the form holds, as the API takes them. */
function settingsOf(fields, boxes, timeouts) {
  const value = (name) => fields[name].input.value.trim();
  const settings = Object.fromEntries(TEXT_FIELDS.map(([name]) => [name, value(name)]));
  settings.group_base = settings.group_base || null;
  settings.ca_pem = fields.ca_pem.input.value.trim() || null;
  for (const [name, box] of Object.entries(boxes)) settings[name] = box.input.checked;
  for (const [name] of TIMEOUTS) settings[name] = Number(timeouts[name].input.value);
  return settings;
}

function stepList(report) {
  const names = { reach: 'Reach the server', tls: 'TLS', bind: 'Service account', search: 'Search' };
  return h('div', { class: report.ok ? 'callout' : 'callout callout-warning', role: 'status' },
    h('p', {}, h('strong', {}, report.ok ? 'The connection works.' : 'The connection does not work yet.')),
    h('ol', {}, report.steps.map((s) => h('li', { dataset: { step: s.step, ok: String(s.ok) } },
      h('strong', {}, `${s.ok ? '✓' : '✗'} ${names[s.step] ?? s.step}: `), s.detail))));
}

function ldapForm(initial, reload) {
  const s = initial.settings;
  const fields = {};
  for (const [name, label, hint, required] of TEXT_FIELDS) {
    fields[name] = textField({ id: `ldap-${name}`, name: `settings.${name}`, label, hint, required, value: s[name] ?? '', autocomplete: 'off', attrs: { spellcheck: 'false', autocapitalize: 'off' } });
  }
  fields.ca_pem = textField({ id: 'ldap-ca_pem', name: 'settings.ca_pem', label: 'CA certificate (PEM)', required: false, multiline: true, rows: 5, value: s.ca_pem ?? '', hint: 'The certificate of the CA that issued the directory’s certificate (-----BEGIN CERTIFICATE-----). Empty: the system’s trusted CAs.' });
  const password = textField({
    id: 'ldap-bind_password', name: 'bind_password', label: 'Service account password', type: 'password', required: false, autocomplete: 'new-password',
    hint: initial.bind_password_set ? 'A password is saved; leave this empty to keep it.' : 'Needed when a service account is named.',
  });
  const boxes = {
    starttls: checkbox('starttls', 'Use StartTLS (with ldap://)', s.starttls, 'Upgrades the connection to TLS before anything is sent.'),
    allow_plain_bind: checkbox('allow_plain_bind', 'Allow plain bind over cleartext', s.allow_plain_bind, 'Warning: with ldap:// and no StartTLS, every password crosses the network in clear text. Tick only on a network you trust.'),
  };
  boxes.starttls.input.name = 'settings.starttls';
  boxes.allow_plain_bind.input.name = 'settings.allow_plain_bind';
  const timeouts = Object.fromEntries(TIMEOUTS.map(([name, label]) => [name, textField({
    id: `ldap-${name}`, name: `settings.${name}`, label, type: 'number', value: String(s[name] ?? 5),
    hint: 'Both together at most 10 seconds: the user waits in Setup Assistant.', attrs: { min: '1', max: '9', step: '1', inputmode: 'numeric', class: 'input-number' },
  })]));
  const plainWarning = h('p', { class: 'callout callout-warning', id: 'ldap-plain-warning', hidden: true }, 'Passwords will cross the network in clear text.');

  liveValidate(fields.url.input, (v) => (/^ldaps?:\/\/[^\s/]+\/?$/i.test(v.trim()) ? null : 'Write ldaps://host or ldap://host (a port may follow).'));
  liveValidate(fields.user_filter.input, (v) => (v.includes('{username}') ? null : 'The filter must contain {username}.'));
  const refresh = () => {
    const plain = /^ldap:\/\//i.test(fields.url.input.value.trim());
    boxes.starttls.input.disabled = !plain;
    if (!plain) boxes.starttls.input.checked = false;
    plainWarning.hidden = !(plain && !boxes.starttls.input.checked && boxes.allow_plain_bind.input.checked);
  };
  for (const el of [fields.url.input, boxes.starttls.input, boxes.allow_plain_bind.input]) el.addEventListener('input', refresh);
  for (const el of [boxes.starttls.input, boxes.allow_plain_bind.input]) el.addEventListener('change', refresh);
  refresh();

  const testUser = textField({ id: 'ldap-test-username', name: 'test_username', label: 'Look up this user (optional)', required: false, autocomplete: 'off', hint: 'Checks that the filter finds them and shows their groups; no password is asked.' });
  const result = h('div', { id: 'ldap-test-result', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', id: 'ldap-save', class: 'button button-primary' }, 'Save');
  const test = h('button', { type: 'button', id: 'ldap-test', class: 'button' }, 'Test connection');
  const remove = h('button', { type: 'button', id: 'ldap-remove', class: 'button button-danger-quiet', hidden: !initial.configured }, 'Remove');
  const form = h('form', { id: 'ldap-form', class: 'stack', novalidate: true },
    fields.url.field, h('div', { class: 'grid-2' }, boxes.starttls.field, boxes.allow_plain_bind.field), plainWarning,
    fields.ca_pem.field, fileToField(fields.ca_pem.input, { label: 'Or choose the CA file', accept: '.pem,.crt,.cer' }),
    h('div', { class: 'grid-2' }, fields.bind_dn.field, password.field),
    fields.user_base.field, fields.user_filter.field,
    h('div', { class: 'grid-3' }, fields.display_name_attribute.field, fields.mail_attribute.field, fields.member_of_attribute.field),
    h('div', { class: 'grid-3' }, fields.group_base.field, fields.group_filter.field, fields.group_name_attribute.field),
    h('div', { class: 'grid-2' }, ...Object.values(timeouts).map((t) => t.field)),
    actionsRow(save, test, remove), testUser.field, result);

  const bindPassword = () => password.input.value || undefined;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(form, {
      button: save,
      busyLabel: 'Saving…',
      submit: () => request('PUT', '/signin/ldap', { body: { settings: settingsOf(fields, boxes, timeouts), bind_password: bindPassword() } }),
      onSuccess: () => {
        password.input.value = '';
        toast('LDAP directory saved. Profiles can now sign users in with it.');
        reload();
      },
    });
  });
  test.addEventListener('click', async () => {
    clearFormErrors(form);
    replaceChildren(result);
    const restore = setBusy(test, 'Testing…');
    try {
      const body = { settings: settingsOf(fields, boxes, timeouts), bind_password: bindPassword(), username: testUser.input.value.trim() || undefined };
      replaceChildren(result, stepList(await request('POST', '/signin/ldap/test', { body })));
    } catch (err) {
      applyApiError(form, err);
    } finally {
      restore();
    }
  });
  remove.addEventListener('click', async () => {
    const done = await confirmDialog({
      title: 'Remove the LDAP directory?', danger: true, confirmLabel: 'Remove', busyLabel: 'Removing…',
      message: 'Devices whose profile signs users in with LDAP will show “not set up” on the sign-in page until a directory is saved again. Devices already enrolled keep their user.',
      action: () => request('DELETE', '/signin/ldap'),
    });
    if (done) {
      toast('LDAP directory removed.');
      reload();
    }
  });
  return form;
}

export function ldapPanel(ctx = {}) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the LDAP settings…'));
  const section = panel({ id: 'ldap-directory', title: 'LDAP / Active Directory', intro: 'Users of profiles with user affinity can sign in with their directory account: adebox searches them with a service account, then checks their password with a bind. Use LDAPS or StartTLS.' }, body);
  const load = () => apiGet('/signin/ldap', { signal: ctx.signal })
    .then((current) => replaceChildren(body, ldapForm(current, load)))
    .catch((err) => {
      if (err.name === 'AbortError') return;
      replaceChildren(body, h('p', { class: 'error-text' }, `Could not load the LDAP settings: ${err.message}`));
      showError(err);
    });
  load();
  return section;
}
