/**
 * profiles/defaults.js — default profiles: per token, and optionally per device family. Every
 * synced device of that token (and family) with no profile, or whose profile was removed, gets
 * its default (docs/profiles.md).
 *
 * Owns: one block per token with a select for "All devices" and one per family ("Same as all
 * devices" unless set); choosing a profile first says how many devices without a profile it
 * reaches at once and asks (#default-confirm), then saves (`PUT /profiles/defaults`); the
 * select waits while it saves, and the admin hears what happened (or the select goes back and
 * says why).
 * Exposes: `defaultsEditor({tokens, profiles, defaults, idPrefix, onChanged})` → element.
 * Element ids for tests: #<idPrefix>-<token id>-<family or all> (the selects; data-token,
 * data-family), each block data-defaults-token="<id>".
 * Must not use: anything but the API (through data.js) and the callbacks it is given.
 */

import { h } from '../dom.js';
import { apiGet } from '../api.js';
import { formatNumber } from '../format.js';
import { adminHref } from '../router.js';
import { confirmDialog } from '../components/dialog.js';
import { showError, toast } from '../components/toast.js';
import { setDefault } from './data.js';
import { FAMILIES, familyWords } from './words.js';

/**
 * How many devices the default reaches at once: the token's (family's) devices without a
 * profile at Apple. A per-family default also takes over that family's devices from the
 * token-wide one only as they come without a profile, so the same count holds.
 */
async function reach(token, family) {
  const query = { token: token.id, lifecycle: 'not_contacted', limit: 1 };
  if (family) query.family = family;
  const page = await apiGet('/devices', { query });
  return Number(page?.total ?? 0);
}

/** Asks before a default reaches devices at once; resolves true to go on. */
async function confirmReach(token, family, profileName) {
  const n = await reach(token, family);
  if (n === 0) return true;
  const noun = n === 1 ? 'device' : 'devices';
  const many = family === null ? `${noun} of “${token.server_name}”` : `${familyWords(family)} ${noun} of “${token.server_name}”`;
  const answer = await confirmDialog({
    id: 'default-confirm',
    title: `Assign “${profileName}” to ${formatNumber(n)} ${n === 1 ? 'device' : 'devices'}?`,
    message: [
      `${formatNumber(n)} ${many} ${n === 1 ? 'has' : 'have'} no enrollment profile. As the default, “${profileName}” is assigned to ${n === 1 ? 'it' : 'them'} at Apple now, and to new devices as they arrive.`,
      'Devices of other platforms than the profile’s are left out.',
    ],
    confirmLabel: `Make it the default (${formatNumber(n)} ${n === 1 ? 'device' : 'devices'})`,
  });
  return Boolean(answer);
}

function currentProfile(defaults, tokenId, family) {
  return defaults.find((d) => d.token_id === tokenId && (d.family ?? null) === family)?.profile_id ?? null;
}

export function defaultsEditor({ tokens, profiles, defaults, idPrefix = 'defaults', onChanged }) {
  let current = [...defaults];
  const names = new Map(profiles.map((p) => [p.id, p.name]));
  const sorted = [...profiles].sort((a, b) => a.name.localeCompare(b.name));

  if (tokens.length === 0) {
    return h('p', { class: 'muted' }, 'Add a server token first: defaults are set per token. ', h('a', { href: adminHref('tokens') }, 'Open Tokens'), '.');
  }

  function select(token, family) {
    const id = `${idPrefix}-${token.id}-${family ?? 'all'}`;
    const none = family === null ? 'No default profile' : 'Same as all devices';
    const input = h('select', { id, dataset: { token: token.id, family: family ?? '' } },
      h('option', { value: '' }, none),
      sorted.map((p) => h('option', { value: p.id }, p.name)));
    let saved = currentProfile(current, token.id, family) ?? '';
    input.value = saved;
    input.addEventListener('change', async () => {
      const wanted = input.value || null;
      input.disabled = true;
      input.setAttribute('aria-busy', 'true');
      try {
        if (wanted && !(await confirmReach(token, family, names.get(wanted) ?? wanted))) {
          input.value = saved;
          toast('The default was not changed.', { variant: 'info' });
          return;
        }
        current = await setDefault({ token_id: token.id, family, profile_id: wanted });
        saved = input.value;
        const who = family === null ? `Devices of “${token.server_name}”` : `${familyWords(family)} devices of “${token.server_name}”`;
        let said = `${who} without a profile now get “${names.get(wanted) ?? wanted}”.`;
        if (!wanted) said = family === null ? `${who} no longer get a default profile.` : `${who} now follow the default for all devices.`;
        toast(said);
        onChanged?.(current);
      } catch (err) {
        input.value = saved;
        showError(err, 'The default was not changed');
      } finally {
        input.disabled = false;
        input.removeAttribute('aria-busy');
        input.focus();
      }
    });
    return h('div', { class: 'field' }, h('label', { for: id }, family === null ? 'All devices' : familyWords(family)), input);
  }

  return h('div', { class: 'stack defaults-editor' },
    sorted.length === 0 ? h('p', { class: 'muted' }, 'There is no profile yet. ', h('a', { href: adminHref('profiles/new') }, 'Create one'), ' to use it as a default.') : null,
    tokens.map((token) => h('fieldset', { class: 'fieldset', dataset: { defaultsToken: token.id } },
      h('legend', {}, token.server_name),
      select(token, null),
      h('details', { class: 'family-defaults', open: FAMILIES.some(([f]) => f && currentProfile(current, token.id, f)) },
        h('summary', {}, 'Per device family'),
        h('div', { class: 'grid-3' }, FAMILIES.filter(([f]) => f).map(([f]) => select(token, f)))))));
}
