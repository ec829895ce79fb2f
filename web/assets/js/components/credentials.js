/**
 * credentials.js — the username and password fields shared by first-run setup, "Add
 * administrator" and "Change my password", with the rules checked as the admin types.
 *
 * Rules (api-foundation.md, setup): username 1–64 characters of letters, digits and . _ @ -;
 * password at least 12 characters. The server checks them again; these only answer sooner.
 * Exposes: `checkUsername`, `checkPassword`, `credentialFields({idPrefix, …})`.
 * Must not use: the API.
 */

import { formatNumber } from '../format.js';
import { clearFieldError, liveValidate, textField } from './form.js';

export const PASSWORD_MIN = 12;
const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;

export function checkUsername(value) {
  if (value === '') return 'Enter a username.';
  if (value.length > 64) return `A username has at most 64 characters; this one has ${formatNumber(value.length)}.`;
  if (!USERNAME.test(value)) {
    const bad = [...new Set([...value].filter((c) => !/[A-Za-z0-9._@-]/.test(c)))];
    const shown = bad.map((c) => (c === ' ' ? 'space' : `“${c}”`)).join(', ');
    return `Use only letters, digits and . _ @ - (not ${shown}).`;
  }
  return null;
}

export function checkPassword(value) {
  if (value.length === 0) return 'Enter a password.';
  if ([...value].length < PASSWORD_MIN) return `Use at least ${PASSWORD_MIN} characters; ${PASSWORD_MIN - [...value].length} more needed.`;
  return null;
}

function passwordHint(value) {
  const count = [...value].length;
  if (count === 0) return `At least ${PASSWORD_MIN} characters. A few unrelated words make a good one.`;
  if (count < PASSWORD_MIN) return `${count} of ${PASSWORD_MIN} characters: ${PASSWORD_MIN - count} more needed.`;
  return `${formatNumber(count)} characters: long enough.`;
}

/**
 * Builds the fields. `username: false` leaves out the username (change password);
 * `names` maps the API's field names (so server errors land on the right input).
 * Returns `{fields, username, password, confirm, validate(), reset()}`; `validate()` returns
 * the problems in the form `runSubmit` expects; `reset()` empties the fields after a success.
 */
export function credentialFields({
  idPrefix, username = true, usernameLabel = 'Username', passwordLabel = 'Password',
  names = { username: 'username', password: 'password' }, autocomplete = 'new-password',
}) {
  const fields = [];
  let user = null;
  let checkUser = () => null;
  if (username) {
    const built = textField({
      id: `${idPrefix}-username`, name: names.username, label: usernameLabel, autocomplete: 'username',
      hint: 'Letters, digits and . _ @ - (up to 64), e.g. alice or it.admin@example.org.',
      attrs: { maxlength: '64', autocapitalize: 'off', spellcheck: 'false' },
    });
    user = built.input;
    checkUser = liveValidate(user, checkUsername);
    fields.push(built.field);
  }

  const pass = textField({
    id: `${idPrefix}-password`, name: names.password, label: passwordLabel, type: 'password',
    autocomplete, hint: passwordHint(''),
  });
  const hint = pass.field.querySelector('.hint');
  pass.input.addEventListener('input', () => { hint.textContent = passwordHint(pass.input.value); });
  const checkPass = liveValidate(pass.input, checkPassword);

  const confirm = textField({
    id: `${idPrefix}-password-confirm`, name: `${names.password}_confirm`, label: `Repeat the ${passwordLabel.toLowerCase()}`,
    type: 'password', autocomplete,
  });
  const sameAsPassword = (value) => {
    if (value === '') return 'Repeat the password.';
    return value === pass.input.value ? null : 'The two passwords differ. Type the same password twice.';
  };
  const checkConfirm = liveValidate(confirm.input, sameAsPassword);
  // Changing the first password re-checks the repetition once the admin has typed one.
  pass.input.addEventListener('input', () => {
    if (confirm.input.value !== '') checkConfirm();
  });
  fields.push(pass.field, confirm.field);

  return {
    fields,
    username: user,
    password: pass.input,
    confirm: confirm.input,
    validate: () => [
      user ? { input: user, message: checkUser() } : null,
      { input: pass.input, message: checkPass() },
      { input: confirm.input, message: checkConfirm() },
    ],
    reset: () => {
      for (const input of [user, pass.input, confirm.input]) {
        if (!input) continue;
        input.value = '';
        clearFieldError(input);
      }
      hint.textContent = passwordHint('');
    },
  };
}
