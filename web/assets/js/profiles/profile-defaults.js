/**
 * profiles/profile-defaults.js — on a profile's page, where it is the default: the tokens (and
 * device families) whose devices get it when they have no profile, a button to stop each, and
 * a short form to make it the default somewhere else (saying which default it replaces).
 *
 * Exposes: `profileDefaults({profile, profiles, tokens, defaults, onChanged})` → element.
 * Element ids for tests: #profile-defaults-list (items data-token, data-family),
 * #profile-default-token, #profile-default-family, #profile-default-set,
 * #profile-default-replaces.
 * Must not use: anything but the API (through data.js) and the callbacks it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { setBusy } from '../components/form.js';
import { showError, toast } from '../components/toast.js';
import { setDefault } from './data.js';
import { FAMILIES, familyWords } from './words.js';

export function profileDefaults({ profile, profiles, tokens, defaults, onChanged }) {
  const names = new Map(profiles.map((p) => [p.id, p.name]));
  const tokenName = (id) => tokens.find((t) => t.id === id)?.server_name ?? id;
  const root = h('div', { class: 'stack' });

  function draw(current) {
    const mine = current.filter((d) => d.profile_id === profile.id);
    const list = mine.length
      ? h('ul', { class: 'plain-list defaults-list', id: 'profile-defaults-list' }, mine.map((d) => {
        const stop = h('button', { type: 'button', class: 'button button-small' }, 'Stop', h('span', { class: 'sr-only' }, ` being the default of ${tokenName(d.token_id)}, ${familyWords(d.family)}`));
        stop.addEventListener('click', () => change(stop, { token_id: d.token_id, family: d.family ?? null, profile_id: null }, `“${profile.name}” is no longer the default of ${tokenName(d.token_id)} (${familyWords(d.family).toLowerCase()}).`));
        return h('li', { dataset: { token: d.token_id, family: d.family ?? '' } }, h('strong', {}, tokenName(d.token_id)), ` · ${familyWords(d.family)} `, stop);
      }))
      : h('p', { class: 'muted', id: 'profile-defaults-list' }, 'It is not a default: devices get it only when it is assigned to them.');

    if (tokens.length === 0) {
      replaceChildren(root, list, h('p', { class: 'muted' }, 'Add a server token to use the profile as a default.'));
      return;
    }
    const token = h('select', { id: 'profile-default-token' }, tokens.map((t) => h('option', { value: t.id }, t.server_name)));
    const family = h('select', { id: 'profile-default-family' }, FAMILIES.map(([value, words]) => h('option', { value: value ?? '' }, words)));
    const replaces = h('p', { class: 'muted small', id: 'profile-default-replaces', 'aria-live': 'polite' });
    const set = h('button', { type: 'button', class: 'button', id: 'profile-default-set' }, 'Make it the default');
    const refresh = () => {
      const other = current.find((d) => d.token_id === token.value && (d.family ?? '') === family.value);
      if (other?.profile_id === profile.id) replaces.textContent = 'It already is the default there.';
      else replaces.textContent = other ? `Replaces “${names.get(other.profile_id) ?? other.profile_id}” there.` : '';
      set.disabled = other?.profile_id === profile.id;
    };
    token.addEventListener('change', refresh);
    family.addEventListener('change', refresh);
    set.addEventListener('click', () => change(set, { token_id: token.value, family: family.value || null, profile_id: profile.id },
      `“${profile.name}” is now the default of ${tokenName(token.value)} (${familyWords(family.value || null).toLowerCase()}).`));
    refresh();
    replaceChildren(root, list,
      h('div', { class: 'default-form' },
        h('div', { class: 'field' }, h('label', { for: 'profile-default-token' }, 'Token'), token),
        h('div', { class: 'field' }, h('label', { for: 'profile-default-family' }, 'Devices'), family),
        set),
      replaces);
  }

  async function change(button, body, said) {
    const restore = setBusy(button, 'Saving…');
    try {
      const next = await setDefault(body);
      toast(said);
      draw(next);
      onChanged?.(next);
      root.querySelector('#profile-default-set, button')?.focus();
    } catch (err) {
      restore();
      showError(err, 'The default was not changed');
    }
  }

  draw(defaults);
  return root;
}
