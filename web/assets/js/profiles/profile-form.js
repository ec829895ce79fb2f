/**
 * profiles/profile-form.js — the profile form: create or edit, split into titled sections,
 * checked as the admin types, saved only after the admin has seen what an edit will do.
 *
 * Owns: validation as you type (the local rules of rules.js at once, the server's rules
 * through `POST /profiles/validate` after a short pause, its warnings too), every error next
 * to its field (the server's dotted `field`, or each entry of `fields`), a status line with the
 * number of problems and a way to the first, keeping everything typed when saving fails, and
 * before an edit is saved `GET /profiles/{id}/edit-impact` in a confirmation ("N devices will
 * be re-assigned; devices already set up keep the old settings until they are erased").
 * Exposes: `profileForm({catalog, profile, cancelHref, onSaved})` → element.
 * Element ids for tests: #profile-form, #profile-save, #profile-cancel, #profile-check
 * (status line, data-state="checking|ok|problems"), #profile-edit-dialog (confirm
 * #profile-edit-dialog-confirm), plus those of form-sections.js and its parts.
 * Must not use: anything but the API, the components and the callbacks it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet, apiPost, apiPut } from '../api.js';
import { formatNumber } from '../format.js';
import { confirmDialog } from '../components/dialog.js';
import { setBusy, showFormError } from '../components/form.js';
import { panel } from '../components/panel.js';
import { showError } from '../components/toast.js';
import { NEW_PROFILE, collectProfile, fillProfile } from './form-model.js';
import { buildSections } from './form-sections.js';
import { checkProfile } from './rules.js';

const SERVER_CHECK_PAUSE_MS = 600;

/** The slot a dotted path belongs to, and the label of the item it names (if any). */
function slotFor(slots, path) {
  const parts = String(path ?? '').split('.');
  for (let n = parts.length; n > 0; n -= 1) {
    const found = slots.get(parts.slice(0, n).join('.'));
    if (found) {
      const rest = parts.slice(n).join('.');
      return { slot: found, prefix: rest && found.itemLabel ? `${found.itemLabel(rest)}: ` : '' };
    }
  }
  return null;
}

function plural(n, one, many) {
  return `${formatNumber(n)} ${n === 1 ? one : many}`;
}

export function profileForm({ catalog, profile = null, cancelHref, onSaved }) {
  const editing = Boolean(profile?.id);
  const { sections, slots, refresh } = buildSections({ catalog });
  for (const s of slots.values()) if (!s.element.dataset.field) s.element.dataset.field = s.name;

  const save = h('button', { type: 'submit', id: 'profile-save', class: 'button button-primary' }, editing ? 'Save changes…' : 'Create profile');
  const cancel = h('a', { href: cancelHref, class: 'button', id: 'profile-cancel' }, 'Cancel');
  const check = h('p', { id: 'profile-check', class: 'profile-check', 'aria-live': 'polite' });
  const toc = h('nav', { class: 'on-this-page', 'aria-label': 'Sections of the profile' },
    h('span', { class: 'muted' }, 'Sections: '),
    sections.map((s, i) => [i ? ' · ' : '', h('a', { href: `#${s.id}` }, s.title)]));
  const form = h('form', { id: 'profile-form', class: 'profile-form page-content', novalidate: true },
    toc,
    sections.map((s) => panel({ id: s.id, title: s.title, intro: s.intro }, h('div', { class: 'stack' }, s.element))),
    h('div', { class: 'form-bar' }, check, h('div', { class: 'actions' }, cancel, save)));

  const touched = new Set();
  const dirty = new Set();
  let submitted = false;
  let local = [];
  let server = [];
  let warnings = [];
  let checking = false;
  let checkTimer = null;
  let checkController = null;

  /** The slot names an event concerns: the innermost field around the target. */
  const fieldOf = (target) => target instanceof Element ? target.closest('[data-field]')?.dataset.field : null;

  function shown(list) {
    return list.filter((e) => {
      const found = slotFor(slots, e.field);
      return submitted || !found || touched.has(found.slot.name) || touched.has(e.field);
    });
  }

  function render() {
    const byslot = new Map();
    const orphans = [];
    const put = (map, e) => {
      const found = slotFor(slots, e.field);
      if (!found) { orphans.push(e.message); return; }
      const list = map.get(found.slot) ?? [];
      if (!list.includes(found.prefix + e.message)) list.push(found.prefix + e.message);
      map.set(found.slot, list);
    };
    const visibleLocal = shown(local);
    for (const e of visibleLocal) put(byslot, e);
    // The server's word counts where the page has nothing to say about a field.
    const localSlots = new Set(byslot.keys());
    const visibleServer = shown(server).filter((e) => !localSlots.has(slotFor(slots, e.field)?.slot));
    for (const e of visibleServer) put(byslot, e);
    const warnBy = new Map();
    for (const w of warnings) put(warnBy, w);
    for (const s of slots.values()) {
      s.setError(byslot.get(s)?.join(' ') || null);
      s.setWarning(warnBy.get(s)?.join(' ') || null);
    }
    const problems = byslot.size + orphans.length;
    if (problems) {
      const first = h('button', { type: 'button', class: 'link-button', id: 'profile-check-first' }, 'Go to the first');
      first.addEventListener('click', () => focusFirstError());
      replaceChildren(check, h('strong', {}, `${plural(problems, 'problem', 'problems')} to fix. `), orphans.length ? `${orphans.join(' ')} ` : '', first);
      check.dataset.state = 'problems';
    } else if (checking) {
      replaceChildren(check, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Checking…');
      check.dataset.state = 'checking';
    } else {
      const notes = warnings.length ? ` ${plural(warnings.length, 'note', 'notes')} below (not errors).` : '';
      check.textContent = local.length || server.length ? 'Fill in the fields; problems show as you go.' : `No problems found.${notes}`;
      check.dataset.state = local.length || server.length ? 'pending' : 'ok';
    }
  }

  function focusFirstError() {
    const first = [...slots.values()].find((s) => s.element.classList.contains('has-error') && !s.element.closest('[hidden]'));
    if (!first) return false;
    first.element.scrollIntoView({ block: 'center' });
    first.focus();
    return true;
  }

  function runLocal() {
    local = checkProfile(collectProfile(slots));
  }

  function scheduleServerCheck() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(serverCheck, SERVER_CHECK_PAUSE_MS);
  }

  async function serverCheck() {
    checkController?.abort();
    checkController = new AbortController();
    checking = true;
    render();
    try {
      const answer = await apiPost('/profiles/validate', collectProfile(slots), { signal: checkController.signal });
      server = [];
      warnings = answer?.warnings ?? [];
    } catch (err) {
      if (err.name === 'AbortError') return;
      if (err.code === 'validation') {
        server = err.body?.fields?.length ? err.body.fields : [{ field: err.field, message: err.message }];
        warnings = err.body?.warnings ?? [];
      }
      // Any other failure (network): the local rules still stand; saving will tell.
    }
    checking = false;
    render();
  }

  function changed(target, { commit }) {
    const name = fieldOf(target);
    if (name) {
      dirty.add(name);
      if (commit) touched.add(name);
      // A server message about a field the admin is changing is stale now.
      server = server.filter((e) => slotFor(slots, e.field)?.slot.name !== slotFor(slots, name)?.slot.name);
    }
    refresh();
    runLocal();
    render();
    scheduleServerCheck();
  }
  form.addEventListener('input', (event) => changed(event.target, { commit: event.target.type === 'checkbox' || event.target.type === 'radio' || event.target.id === 'skip-table' || event.target.id === 'certs' }));
  form.addEventListener('change', (event) => changed(event.target, { commit: true }));
  form.addEventListener('focusout', (event) => {
    const name = fieldOf(event.target);
    if (name && dirty.has(name) && !touched.has(name)) {
      touched.add(name);
      render();
    }
  });

  async function send(body) {
    if (!editing) return apiPost('/profiles', body);
    const impact = await apiGet(`/profiles/${encodeURIComponent(profile.id)}/edit-impact`);
    const n = impact?.devices_to_reassign ?? 0;
    const enrolled = impact?.enrolled ?? 0;
    const outcome = await confirmDialog({
      id: 'profile-edit-dialog',
      title: `Save the changes to “${body.name}”?`,
      message: [
        'Apple never changes a profile: saving defines a new revision at Apple for every token.',
        h('p', { id: 'profile-edit-impact' }, n
          ? h('strong', {}, `${plural(n, 'device', 'devices')} will be re-assigned to the new revision.`)
          : 'No device has this profile yet, so nothing is re-assigned.'),
        n ? `Devices already set up${enrolled ? ` (${formatNumber(enrolled)} enrolled)` : ''} keep the old settings until they are erased; the others get the new ones in Setup Assistant.` : null,
      ].filter(Boolean),
      confirmLabel: 'Save and re-assign',
      busyLabel: 'Saving…',
      action: () => apiPut(`/profiles/${encodeURIComponent(profile.id)}`, body).catch((err) => {
        // Field errors belong next to the fields, not in the dialog.
        if (err.code === 'validation') return { invalid: err };
        throw err;
      }),
    });
    if (outcome === null) return { cancelled: true };
    if (outcome.invalid) throw outcome.invalid;
    return outcome;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (form.dataset.busy === 'true') return;
    submitted = true;
    clearTimeout(checkTimer);
    runLocal();
    render();
    if (local.length) {
      focusFirstError();
      return;
    }
    form.dataset.busy = 'true';
    const restore = setBusy(save, editing ? 'Checking what changes…' : 'Creating…');
    const formError = form.querySelector(':scope > .form-error');
    if (formError) formError.hidden = true;
    try {
      // The server's rules first: a profile it already refused is not sent (nor is the
      // admin asked to confirm an edit that cannot be saved).
      await serverCheck();
      if (server.length) {
        focusFirstError();
        return;
      }
      const saved = await send(collectProfile(slots));
      if (saved?.cancelled) return;
      onSaved?.(saved);
    } catch (err) {
      if (err.name === 'AbortError' || err.code === 'unauthenticated') return;
      if (err.code === 'validation' || err.code === 'limit') {
        server = err.body?.fields?.length ? err.body.fields : [{ field: err.field, message: err.message }];
        render();
        if (!focusFirstError()) showFormError(form, err.message).focus();
      } else {
        showFormError(form, err.message || String(err)).focus();
        showError(err, 'The profile was not saved');
      }
    } finally {
      form.dataset.busy = 'false';
      restore();
    }
  });

  fillProfile(slots, profile ?? NEW_PROFILE);
  refresh();
  runLocal();
  render();
  if (editing) scheduleServerCheck();
  return form;
}
