/**
 * views/profiles.js — the Profiles page: every enrollment profile (name, platforms, revision,
 * devices, the defaults that point at it, and its state at Apple per token with Apple's
 * refusal in plain words), the way to a new one, and the default profile of each token.
 *
 * Owns: loading the profiles (all of them; sorted and paged here), the tokens and the
 * defaults, and redrawing the list when a default changes.
 * Element ids for tests: #profiles (the list panel), #profile-list (table root; rows
 * data-key="<profile id>", name links data-profile="<id>"), #profiles-new, #profiles-defaults,
 * #profiles-assignments, plus those of profiles/defaults.js (idPrefix "defaults") and
 * profiles/assignments-table.js.
 * Must not use: anything but the API, the components and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { formatNumber } from '../format.js';
import { adminHref } from '../router.js';
import { dataTable } from '../components/table.js';
import { localSource } from '../components/local-source.js';
import { panel } from '../components/panel.js';
import { showError } from '../components/toast.js';
import { loadAllProfiles, loadDefaults, loadTokens } from '../profiles/data.js';
import { assignmentsTable } from '../profiles/assignments-table.js';
import { defaultsEditor } from '../profiles/defaults.js';
import { appleStates, defaultsWords, platformChips } from '../profiles/describe.js';

function columns(tokenName) {
  return [
    {
      key: 'name', label: 'Name', sortable: true, className: 'col-name',
      render: (p) => [h('a', { href: adminHref(`profiles/${p.id}`), class: 'strong-link', dataset: { profile: p.id } }, p.name),
        p.description ? h('p', { class: 'muted small' }, p.description) : null],
    },
    { key: 'platforms', label: 'Platforms', render: (p) => platformChips(p.platforms), csv: (p) => (p.platforms ?? []).join(' ') },
    { key: 'revision', label: 'Revision', sortable: true, className: 'col-num', render: (p) => formatNumber(p.revision) },
    {
      key: 'devices', label: 'Devices', sortable: true, firstDir: 'desc', className: 'col-num',
      render: (p) => h('span', { dataset: { devices: String(p.devices ?? 0) } }, formatNumber(p.devices ?? 0)),
    },
    { key: 'defaults', label: 'Default for', render: (p) => defaultsWords(p.defaults, tokenName), csv: (p) => (p.defaults ?? []).map((d) => `${tokenName(d.token_id)} ${d.family ?? 'all'}`).join('; ') },
    { key: 'tokens', label: 'At Apple', className: 'col-apple', render: (p) => appleStates(p.tokens, tokenName), csv: (p) => (p.tokens ?? []).map((t) => `${tokenName(t.token_id)}: ${t.state}`).join('; ') },
  ];
}

export default {
  name: 'profiles',
  title: 'Profiles',
  intro: 'Enrollment profiles decide what a device shows and does in Setup Assistant. Each is sent to Apple for every token and assigned to devices; a token’s default profile goes to its new devices by itself.',

  mount(container, ctx) {
    const { signal } = ctx;
    const listBody = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Loading the profiles…'));
    const defaultsBody = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the defaults…'));
    const assignmentsBody = h('div', { class: 'panel-body' });
    const newLink = h('a', { href: adminHref('profiles/new'), class: 'button button-primary', id: 'profiles-new' }, 'New profile');
    container.append(
      panel({ id: 'profiles', title: 'Profiles', intro: 'Apple keeps a copy per token; “At Apple” says whether each copy is in place. Changes to a profile go to Apple as a new revision.' },
        h('div', { class: 'actions' }, newLink), listBody),
      panel({ id: 'profiles-defaults', title: 'Default profiles', intro: 'Each token’s devices that have no profile (or whose profile was removed) get its default, optionally a different one per device family. A change applies to those devices at once and to new devices as they arrive.' }, defaultsBody),
      panel({ id: 'profiles-assignments', title: 'Assignments', intro: 'Where each device’s profile assignment stands at Apple. Failed attempts are retried by themselves (after an hour, then a day); when Apple asks to wait, the appliance waits as long as it says.' }, assignmentsBody));

    let profiles = [];
    let tokens = [];
    let table = null;
    let assignments = null;

    async function load() {
      try {
        let defaults;
        [profiles, tokens, defaults] = await Promise.all([loadAllProfiles(signal), loadTokens(signal), loadDefaults(signal)]);
        const names = new Map(tokens.map((t) => [t.id, t.server_name]));
        const tokenName = (id) => names.get(id) ?? id;
        if (!table) {
          table = dataTable({
            id: 'profile-list',
            caption: 'Enrollment profiles',
            noun: { one: 'profile', many: 'profiles' },
            rowKey: (p) => p.id,
            bindUrl: true,
            defaultSort: { key: 'name', dir: 'asc' },
            columns: columns(tokenName),
            fetchPage: localSource(async () => profiles),
            exportCsv: { fileBase: 'adebox-profiles' },
            empty: { title: 'No profile yet', text: 'Create one with “New profile”: name it, choose the screens to hide, and set it as a token’s default.' },
          });
          signal.addEventListener('abort', () => table.destroy());
          replaceChildren(listBody, table.element);
        } else {
          table.reload();
        }
        replaceChildren(defaultsBody, defaultsEditor({ tokens, profiles, defaults, idPrefix: 'defaults', onChanged: reloadList }));
        if (!assignments) {
          assignments = assignmentsTable({ profiles, tokens });
          signal.addEventListener('abort', () => assignments.destroy());
          replaceChildren(assignmentsBody, assignments.element);
        }
      } catch (err) {
        if (err.name === 'AbortError') return;
        replaceChildren(listBody, h('p', { class: 'error-text' }, `Could not load the profiles: ${err.message}`));
        showError(err);
      }
    }

    // After a default changes, only the list's "Default for" column changes; the editor keeps focus.
    async function reloadList() {
      try {
        profiles = await loadAllProfiles(signal);
        table?.reload();
      } catch (err) {
        if (err.name !== 'AbortError') showError(err, 'Could not reload the profiles');
      }
    }

    load();
    return {
      onQuery: (query) => {
        table?.applyQuery(query);
        assignments?.applyQuery(query);
      },
    };
  },
};
