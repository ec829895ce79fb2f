/**
 * profiles/setup-steps.js — an enrollment profile's setup steps (docs/setup-steps.md): the
 * ordered list delivered while Setup Assistant waits, each with "on error: block / skip";
 * add, reorder, remove, save; upload a configuration profile (.mobileconfig) for an
 * "Install a configuration profile" step. Editing needs the `profiles` permission; devices
 * already waiting keep the steps they started with.
 * Exposes: `setupStepsPanel({profile})`. Element ids for tests: #profile-setup-steps,
 * #setup-steps-list, #setup-step-add-kind, #setup-step-add, #setup-steps-save,
 * #setup-profile-file, #setup-profiles.
 * Uses /api/v1/profiles/{id}/setup-steps and /api/v1/setup/profiles.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet, apiPut, apiPostText } from '../api.js';
import { panel } from '../components/panel.js';
import { toast, showError } from '../components/toast.js';
import { can } from '../roles.js';

const KINDS = {
  install_profile: 'Install a configuration profile',
  device_name: 'Set the device name (from the template)',
  account_configuration: 'Pre-fill the Mac’s account (macOS)',
  command: 'Send another command (plist)',
};

function blank(kind, profiles) {
  switch (kind) {
    case 'install_profile': return { kind, profile_id: profiles[0]?.id ?? '' };
    case 'account_configuration': return { kind, short_name: '', full_name: '', lock: false };
    case 'command': return { kind, command: '<plist version="1.0"><dict><key>RequestType</key><string>Settings</string><key>Settings</key><array/></dict></plist>' };
    default: return { kind };
  }
}

function field(label, input) {
  return h('label', { class: 'field' }, h('span', {}, label), input);
}

/** The inputs of one step's action, writing into `step.action`. */
function actionInputs(step, profiles, editable) {
  const a = step.action;
  const bind = (key, el, read = (e) => e.value) => {
    el.disabled = !editable;
    el.addEventListener('input', () => { a[key] = read(el); });
    return el;
  };
  switch (a.kind) {
    case 'install_profile':
      return field('Configuration profile', bind('profile_id', h('select', {},
        profiles.map((p) => h('option', { value: p.id, selected: p.id === a.profile_id }, `${p.name} (${p.payload_types.length} payloads)`)))));
    case 'account_configuration':
      return h('div', {},
        field('Short name if no user signed in', bind('short_name', h('input', { type: 'text', value: a.short_name ?? '' }))),
        field('Full name if no user signed in', bind('full_name', h('input', { type: 'text', value: a.full_name ?? '' }))),
        field('Lock the pre-filled account', bind('lock', h('input', { type: 'checkbox', checked: Boolean(a.lock) }), (e) => e.checked)));
    case 'command':
      return field('Command dictionary (XML plist with its RequestType)', bind('command', h('textarea', { rows: 4 }, a.command ?? '')));
    default:
      return null;
  }
}

export function setupStepsPanel({ profile }) {
  const editable = can('profiles');
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const path = `/profiles/${encodeURIComponent(profile.id)}/setup-steps`;
  let steps = [];
  let profiles = [];

  function render() {
    const list = h('ol', { id: 'setup-steps-list', class: 'event-list' }, steps.map((st, i) => h('li', {},
      h('strong', {}, KINDS[st.action.kind] ?? st.action.kind),
      actionInputs(st, profiles, editable),
      field('If it fails', (() => {
        const sel = h('select', { disabled: !editable },
          h('option', { value: 'block', selected: st.on_error === 'block' }, 'Block the release (retry or release anyway)'),
          h('option', { value: 'skip', selected: st.on_error === 'skip' }, 'Skip it and go on'));
        sel.addEventListener('change', () => { st.on_error = sel.value; });
        return sel;
      })()),
      editable ? h('div', { class: 'actions' },
        h('button', { type: 'button', disabled: i === 0, 'aria-label': `Move step ${i + 1} up`, on: { click: () => { [steps[i - 1], steps[i]] = [steps[i], steps[i - 1]]; render(); } } }, 'Up'),
        h('button', { type: 'button', disabled: i === steps.length - 1, 'aria-label': `Move step ${i + 1} down`, on: { click: () => { [steps[i + 1], steps[i]] = [steps[i], steps[i + 1]]; render(); } } }, 'Down'),
        h('button', { type: 'button', 'aria-label': `Remove step ${i + 1}`, on: { click: () => { steps.splice(i, 1); render(); } } }, 'Remove')) : null)));
    const kind = h('select', { id: 'setup-step-add-kind', 'aria-label': 'Kind of step to add' },
      Object.entries(KINDS).map(([k, words]) => h('option', { value: k }, words)));
    const file = h('input', { type: 'file', id: 'setup-profile-file', accept: '.mobileconfig,application/x-apple-aspen-config' });
    file.addEventListener('change', () => {
      const f = file.files?.[0];
      if (!f) return;
      apiPostText('/setup/profiles', f, 'application/x-apple-aspen-config')
        .then((p) => { toast(`Configuration profile “${p.name}” uploaded.`); return load(); })
        .catch((err) => showError(err, 'Upload refused'));
    });
    replaceChildren(body,
      steps.length ? list : h('p', { class: 'muted' }, 'No steps: devices are released as soon as they wait.'),
      editable ? h('div', { class: 'actions' }, kind,
        h('button', { type: 'button', id: 'setup-step-add', on: { click: () => { steps.push({ action: blank(kind.value, profiles), on_error: 'block' }); render(); } } }, 'Add the step'),
        h('button', { type: 'button', id: 'setup-steps-save', class: 'button-primary', on: { click: save } }, 'Save the steps')) : null,
      h('h3', {}, 'Configuration profiles'),
      h('ul', { id: 'setup-profiles' }, profiles.map((p) => h('li', {}, h('strong', {}, p.name), ` — ${p.identifier}; ${p.payload_types.join(', ')}`,
        p.signed_by ? h('span', { class: 'muted' }, ` (signed by ${p.signed_by})`) : null))),
      editable ? field('Upload a .mobileconfig (signed or not, at most 512 KiB)', file) : null);
  }

  function save() {
    apiPut(path, { steps })
      .then((saved) => { steps = saved.steps; toast('Setup steps saved; devices already waiting keep theirs.'); render(); })
      .catch((err) => showError(err, 'The steps were not saved'));
  }

  function load() {
    return Promise.all([apiGet(path), apiGet('/setup/profiles')]).then(([s, p]) => {
      steps = s.steps;
      profiles = p.items;
      render();
    }).catch((err) => replaceChildren(body, h('p', { class: 'muted' }, `Could not load the setup steps: ${err.message}`)));
  }

  load();
  return panel({ id: 'profile-setup-steps', title: 'Setup steps', intro: 'Delivered one at a time while Setup Assistant waits, before the device is released.' }, body);
}
