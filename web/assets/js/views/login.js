/**
 * views/login.js — sign in (`POST /api/v1/admin/login`).
 *
 * Precise errors: wrong credentials at the top of the form; a 429 (a lockout, or too many
 * sign-ins being checked at once, `busy`) says in a plain sentence how long signing in is
 * paused, and keeps the button disabled with a live countdown from `Retry-After`, enabling
 * it again at zero. Every failed sign-in clears the password field. After signing in the
 * admin returns to the URL that sent them here (`?next=`).
 * Element ids for tests: #login-form, #login-username, #login-password, #login-submit,
 * #login-form-error (data-code says which error), #login-countdown (while paused).
 * Must not use: anything but the API, form helpers and the ctx it is given.
 */

import { h } from '../dom.js';
import { apiPost } from '../api.js';
import { formatDuration } from '../format.js';
import { actionsRow, disableUntil, liveValidate, runSubmit, showFormError, textField } from '../components/form.js';

export default {
  name: 'login',
  public: true,
  title: 'Sign in',
  intro: 'Sign in with your adebox administrator account.',

  mount(container, ctx) {
    const username = textField({ id: 'login-username', name: 'username', label: 'Username', autocomplete: 'username', attrs: { autocapitalize: 'off', spellcheck: 'false' } });
    const password = textField({ id: 'login-password', name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' });
    const checkUser = liveValidate(username.input, (v) => (v === '' ? 'Enter your username.' : null));
    const checkPass = liveValidate(password.input, (v) => (v === '' ? 'Enter your password.' : null));
    const submit = h('button', { type: 'submit', id: 'login-submit', class: 'button button-primary' }, 'Sign in');
    const form = h('form', { id: 'login-form', novalidate: true, class: 'stack' },
      username.field, password.field, actionsRow(submit),
      ctx.sandbox
        ? h('p', { class: 'muted small' }, 'Sandbox: the generated username and password are in ', h('code', {}, 'sandbox.json'), ' in the sandbox’s data folder (printed when it started).')
        : h('p', { class: 'muted small' }, 'Forgot the password? On the server, run ', h('code', {}, 'adebox admin set-password USER'), '.'));

    // The sentence alone says how long; the countdown next to the button only adds to it.
    const WHY = {
      locked_out: 'Too many failed sign-ins from this address',
      busy: 'Too many sign-ins are being checked right now',
    };
    const pause = (code, seconds) => {
      const box = showFormError(form, `${WHY[code]}, so signing in is paused for ${formatDuration(seconds)}.`);
      box.dataset.code = code;
      disableUntil(submit, Date.now() + seconds * 1000, {
        text: 'You can try again in',
        countdownId: 'login-countdown',
        signal: ctx.signal,
        onEnd: () => {
          showFormError(form, 'The pause is over: you can sign in again.').dataset.code = 'lockout_over';
        },
      });
    };

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      runSubmit(form, {
        button: submit,
        busyLabel: 'Signing in…',
        validate: () => [{ input: username.input, message: checkUser() }, { input: password.input, message: checkPass() }],
        submit: () => apiPost('/admin/login', { username: username.input.value, password: password.input.value }, { auth: false }),
        onError: (err) => {
          // A failed sign-in never leaves the password behind in the form.
          password.input.value = '';
          checkPass.reset();
          if (err.code in WHY) {
            pause(err.code, Math.max(1, err.retryAfterS ?? 60));
            return true;
          }
          if (err.code === 'bad_credentials') {
            showFormError(form, err.message || 'The username or password is wrong.').dataset.code = 'bad_credentials';
            password.input.value = '';
            checkPass.reset();
            password.input.focus();
            return true;
          }
          return false;
        },
        onSuccess: (session) => ctx.signedIn(session, { welcome: null }),
      });
    });

    container.append(form);
    username.input.focus();
  },
};
