/**
 * views/setup.js — first run: create the first administrator.
 *
 * Shown while `GET /api/v1/admin/setup` says `setup_required`. Explains where the one-time
 * setup code is (the daemon log), asks for it and the new admin's username and password (rules
 * checked as the admin types), then signs in (`POST /api/v1/admin/setup`).
 * Element ids for tests: #setup-form, #setup-code, #setup-username, #setup-password,
 * #setup-password-confirm, #setup-submit, #setup-form-error.
 * Must not use: anything but the API, form helpers and the ctx it is given.
 */

import { h } from '../dom.js';
import { apiPost } from '../api.js';
import { actionsRow, liveValidate, runSubmit, showFormError, textField } from '../components/form.js';
import { credentialFields } from '../components/credentials.js';

export default {
  name: 'setup',
  public: true,
  title: 'Set up adebox',
  intro: 'No administrator exists yet. Create the first one to start using this appliance.',

  mount(container, ctx) {
    const code = textField({
      id: 'setup-code', name: 'setup_code', label: 'Setup code', autocomplete: 'one-time-code',
      hint: 'Four groups of four letters and digits, like ABCD-EFGH-JKMN-PQRS.',
      attrs: { spellcheck: 'false', autocapitalize: 'off' },
    });
    const checkCode = liveValidate(code.input, (v) => (v.trim() === '' ? 'Enter the setup code from the daemon log.' : null));
    const creds = credentialFields({ idPrefix: 'setup', usernameLabel: 'Your username', passwordLabel: 'Password' });
    const submit = h('button', { type: 'submit', id: 'setup-submit', class: 'button button-primary' }, 'Create administrator and sign in');

    const form = h('form', { id: 'setup-form', novalidate: true, class: 'stack' },
      h('div', { class: 'callout' },
        h('p', {}, 'To prove you run this appliance, copy the setup code from the daemon log. On the server, run:'),
        h('pre', { class: 'command' }, h('code', {}, 'journalctl -u adebox | grep -i "setup code"')),
        h('p', { class: 'muted' }, 'The code works once, and only until the first administrator exists. Restarting adebox prints a new one.')),
      code.field,
      h('fieldset', { class: 'fieldset' }, h('legend', {}, 'Your administrator account'), creds.fields),
      actionsRow(submit));

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      runSubmit(form, {
        button: submit,
        busyLabel: 'Creating the administrator…',
        validate: () => [{ input: code.input, message: checkCode() }, ...creds.validate()],
        submit: () => apiPost('/admin/setup', {
          // The code's alphabet is upper case; accept it typed in lower case or with spaces around.
          setup_code: code.input.value.trim().toUpperCase(),
          username: creds.username.value,
          password: creds.password.value,
        }, { auth: false }),
        onError: (err) => {
          if (err.code === 'setup_done') {
            showFormError(form, `${err.message} Sign in with an existing administrator instead.`).focus();
            ctx.setupAlreadyDone();
            return true;
          }
          return false;
        },
        onSuccess: (session) => ctx.signedIn(session, { welcome: `Welcome, ${session.user}. adebox is set up.` }),
      });
    });

    container.append(form);
    code.input.focus();
  },
};
