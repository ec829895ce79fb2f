/**
 * views/login.js — sign in (`POST /api/v1/admin/login`).
 *
 * Precise errors: wrong credentials at the top of the form (the password is selected to
 * retype); a lockout shows a countdown from `retry_after_s` and keeps the button disabled,
 * saying why, until it ends. After signing in the admin returns to the URL that sent them
 * here (`?next=`).
 * Element ids for tests: #login-form, #login-username, #login-password, #login-submit,
 * #login-form-error (with #login-countdown during a lockout).
 * Must not use: anything but the API, form helpers and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiPost } from '../api.js';
import { formatCountdown } from '../format.js';
import { actionsRow, liveValidate, runSubmit, setDisabledReason, showFormError, textField } from '../components/form.js';

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
      h('p', { class: 'muted small' }, 'Forgot the password? On the server, run ', h('code', {}, 'adebox admin set-password USER'), '.'));

    let timer = null;
    ctx.signal.addEventListener('abort', () => clearInterval(timer));

    const lockOut = (seconds) => {
      clearInterval(timer);
      const until = Date.now() + seconds * 1000;
      const countdown = h('span', { id: 'login-countdown', 'aria-live': 'off' }, formatCountdown(seconds));
      const box = showFormError(form, '');
      replaceChildren(box, 'Too many failed sign-ins from this address, so signing in is paused. Try again in ', countdown, '.');
      box.dataset.code = 'locked_out';
      setDisabledReason(submit, 'Signing in is paused until the countdown ends.');
      timer = setInterval(() => {
        const left = (until - Date.now()) / 1000;
        countdown.textContent = formatCountdown(left);
        if (left <= 0) {
          clearInterval(timer);
          setDisabledReason(submit, null);
          showFormError(form, 'The pause is over: you can sign in again.').dataset.code = 'lockout_over';
        }
      }, 1000);
    };

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      runSubmit(form, {
        button: submit,
        busyLabel: 'Signing in…',
        validate: () => [{ input: username.input, message: checkUser() }, { input: password.input, message: checkPass() }],
        submit: () => apiPost('/admin/login', { username: username.input.value, password: password.input.value }, { auth: false }),
        onError: (err) => {
          if (err.code === 'locked_out') {
            lockOut(err.retryAfterS ?? 60);
            return true;
          }
          if (err.code === 'bad_credentials') {
            showFormError(form, err.message || 'The username or password is wrong.').dataset.code = 'bad_credentials';
            password.input.focus();
            password.input.select();
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
