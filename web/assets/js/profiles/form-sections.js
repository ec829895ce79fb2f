/**
 * profiles/form-sections.js — the titled sections of the profile form, as Intune's ADE
 * profile has them: General; User affinity; Management; Device name; Department and support;
 * Language and region; Setup Assistant screens; Minimum OS.
 *
 * Owns: building every field of the contract (docs/profiles.md) and the parts that
 * appear only when they apply (Shared iPad settings, the certificate list, minimum versions of
 * the chosen platforms and the pinned update versions, the sign-in choice of a profile with
 * user affinity).
 * Exposes: `buildSections({catalog})` → `{sections: [{id, title, intro, element}], slots,
 * refresh()}`; `slots` is a Map from the contract's dotted field name to its slot.
 * Element ids for tests: #profile-<section> for each section; the inputs carry
 * name="<contract field>" (radios and platform checkboxes name="<field>[]" / "<field>").
 * Must not use: the API.
 */

import { h } from '../dom.js';
import { certsSlot } from './certs.js';
import { checkSlot, numberSlot, radioSlot, selectSlot, slot, textSlot } from './field-kit.js';
import { nameTemplateSlot } from './name-template.js';
import { signInFields } from './sign-in-fields.js';
import { skipTable } from './skip-table.js';
import { AFFINITY, GRACE_CHOICES, PLATFORMS, SYNC_MODES, graceWords } from './words.js';

const LANGUAGES = ['en', 'de', 'fr', 'es', 'it', 'nl', 'pt', 'sv', 'da', 'nb', 'fi', 'pl', 'cs', 'ja', 'zh', 'ko'];
const REGIONS = ['US', 'GB', 'DE', 'AT', 'CH', 'FR', 'ES', 'IT', 'NL', 'BE', 'SE', 'DK', 'NO', 'FI', 'PL', 'CA', 'AU', 'JP'];

function datalist(id, values) {
  return h('datalist', { id }, values.map((v) => h('option', { value: v })));
}

/**
 * OS versions per platform: one version box per chosen platform; empty means none. Used for the
 * minimum (`minimum_os`) and the version devices are sent to when they must update (`pinned_os`).
 */
function osVersionsSlot({ field, id, label, placeholder }) {
  const boxes = new Map(PLATFORMS.map(([value, words]) => [value, textSlot({
    name: `${field}.${value}`, label: label(words), attrs: { placeholder, inputmode: 'decimal', class: 'input-version', spellcheck: 'false' },
  })]));
  const element = h('div', { class: 'grid-3', id }, [...boxes.values()].map((b) => b.element));
  return {
    boxes,
    slot: slot({
      name: field, element, anchor: element,
      read: () => {
        const out = {};
        for (const [platform, box] of boxes) {
          const v = box.read();
          if (!box.element.hidden && v) out[platform] = v;
        }
        return Object.keys(out).length ? out : null;
      },
      write: (value) => { for (const [platform, box] of boxes) box.write(value?.[platform] ?? ''); },
    }),
    show(platforms) {
      for (const [platform, box] of boxes) box.element.hidden = !platforms.includes(platform);
    },
  };
}

export function buildSections({ catalog }) {
  const s = new Map();
  const add = (x) => { s.set(x.name, x); return x; };

  // General
  const name = add(textSlot({ name: 'name', label: 'Name', required: true, hint: 'Shown in Setup Assistant and in this list. 1 to 125 characters.', attrs: { maxlength: '200' } }));
  const description = add(textSlot({ name: 'description', label: 'Description', multiline: true, rows: 2, hint: 'For the admins only; Apple never sees it.' }));
  const platforms = add(radioSlot({
    name: 'platforms', legend: 'Platforms', multiple: true, inline: true,
    hint: 'What the profile is for. The Setup Assistant screens and their checks follow from it.',
    options: PLATFORMS.map(([value, words, devices]) => [value, `${words} (${devices})`]),
  }));

  // User affinity
  const affinity = add(radioSlot({ name: 'user_affinity', legend: 'User affinity', options: AFFINITY }));
  const signIn = signInFields();
  for (const x of signIn.slots) add(x);

  // Management
  const supervised = add(checkSlot({ name: 'supervised', label: 'Supervised', hint: 'Gives the organisation more control over the device. iOS 13 and later supervise every automated enrollment anyway.' }));
  const locked = add(checkSlot({ name: 'locked_enrollment', label: 'Locked enrollment', hint: 'The user cannot remove the management profile in Settings. Needs Supervised.' }));
  const shared = add(checkSlot({ name: 'shared_ipad', label: 'Shared iPad', hint: 'Several students or staff use one iPad, each with their own account. Needs Supervised and no user affinity (or shared device mode).' }));
  const maxUsers = add(numberSlot({ name: 'shared_ipad_settings.max_cached_users', label: 'Maximum cached users', hint: '1 to 32 accounts kept on the iPad. Empty: the iPad decides.', min: '1', max: '32', unit: 'users' }));
  const grace = add(selectSlot({
    name: 'shared_ipad_settings.passcode_lock_grace_s', label: 'Password needed after the screen locks',
    options: [[null, graceWords(null)], ...GRACE_CHOICES.map((sec) => [sec, graceWords(sec)])],
  }));
  const logout = add(numberSlot({ name: 'shared_ipad_settings.inactivity_logout_s', label: 'Log out after inactivity', hint: 'At least 30 seconds. Empty: never.', min: '30', unit: 'seconds' }));
  const tempOnly = add(checkSlot({ name: 'shared_ipad_settings.temporary_session_only', label: 'Temporary sessions only', hint: 'Guests only: nothing is kept after they log out.' }));
  const tempLogout = add(numberSlot({ name: 'shared_ipad_settings.temporary_session_inactivity_s', label: 'End a temporary session after inactivity', hint: 'At least 30 seconds. Empty: never.', min: '30', unit: 'seconds' }));
  const sharedBox = h('fieldset', { class: 'fieldset nested', id: 'shared-ipad-settings' },
    h('legend', {}, 'Shared iPad settings'),
    h('p', { class: 'hint' }, 'Kept with the profile and sent to the iPad after it enrolls (Apple’s profile has no place for them).'),
    h('div', { class: 'grid-2' }, maxUsers.element, grace.element, logout.element, tempLogout.element), tempOnly.element);
  const sync = add(radioSlot({ name: 'sync_with_computers', legend: 'Sync with computers', options: SYNC_MODES }));
  const certs = add(certsSlot());
  const certBox = h('div', { class: 'nested', id: 'certs-box' }, h('h4', { class: 'subtitle' }, 'Macs allowed to pair'), certs.element);
  const awaitConfigured = add(checkSlot({ name: 'await_device_configured', label: 'Await final configuration', hint: 'Setup Assistant waits until the appliance has finished configuring the device before the user reaches the home screen.' }));
  const returnToService = add(checkSlot({ name: 'return_to_service', label: 'Return to Service keeps managed apps', hint: 'iOS, iPadOS and visionOS 26 and later: after a Return to Service erase the device keeps its managed apps and always waits for final configuration. Such devices cannot be moved to another MDM by Apple Business. Other systems ignore it. (Apple key: is_return_to_service)' }));
  const noBackupProfile = add(checkSlot({ name: 'do_not_use_profile_from_backup', label: 'Do not restore enrollment from backups', hint: 'iOS, iPadOS and visionOS 26 and later: a device restored from a backup reads its enrollment from Apple instead of the backup; from 26.4 it also drops every configuration profile the backup holds. From 27 backups carry no management at all. (Apple key: do_not_use_profile_from_backup)' }));
  const cellular = add(textSlot({ name: 'cellular_data_plan_url', label: 'Cellular data plan activation URL', hint: 'Your carrier’s https:// address for activating a data plan, if it gave you one.', type: 'url', attrs: { spellcheck: 'false', placeholder: 'https://' } }));

  // Device name
  const template = add(nameTemplateSlot());

  // Department and support
  const department = add(textSlot({ name: 'department', label: 'Department', hint: 'Shown under “About configuration” in Setup Assistant. Up to 125 characters.' }));
  const phone = add(textSlot({ name: 'support_phone_number', label: 'Department phone', hint: 'Up to 50 characters.', type: 'tel' }));
  const email = add(textSlot({ name: 'support_email_address', label: 'Support e-mail address', type: 'email', attrs: { spellcheck: 'false' } }));

  // Language and region
  const language = add(textSlot({ name: 'language', label: 'Language', hint: 'ISO 639 code such as en or de. Setup Assistant then skips asking (tvOS, macOS 11 and later).', transform: (v) => v.toLowerCase(), attrs: { list: 'profile-languages', class: 'input-code', spellcheck: 'false' } }));
  const region = add(textSlot({ name: 'region', label: 'Region', hint: 'ISO 3166 code such as US or DE (tvOS, macOS 11 and later).', transform: (v) => v.toUpperCase(), attrs: { list: 'profile-regions', class: 'input-code', spellcheck: 'false' } }));

  // Screens and minimum OS
  const screens = add(skipTable({ catalog }));
  const minimum = osVersionsSlot({ field: 'minimum_os', id: 'minimum-os', label: (w) => `Lowest ${w} version`, placeholder: 'e.g. 17.0' });
  const pinned = osVersionsSlot({ field: 'pinned_os', id: 'pinned-os', label: (w) => `Update ${w} to`, placeholder: 'e.g. 26.2' });
  for (const versions of [minimum, pinned]) {
    add(versions.slot);
    for (const box of versions.boxes.values()) s.set(box.name, box);
  }
  const pinnedNote = h('p', { class: 'muted small' }, 'Optional: the version a device that must update is sent to, instead of the lowest version. A Mac on macOS 26.1 or later that is about to make a required update during setup is sent to it too, instead of choosing a version itself.');

  /** Shows what applies to the current choices. */
  function refresh() {
    const chosen = platforms.read();
    signIn.show({ affinity: affinity.read(), platforms: chosen });
    sharedBox.hidden = !shared.read();
    certBox.hidden = sync.read() !== 'allow_certificates';
    screens.setPlatforms(chosen);
    minimum.show(chosen);
    pinned.show(chosen);
  }

  const sections = [
    { id: 'profile-general', title: 'General', element: [name.element, description.element, platforms.element] },
    { id: 'profile-affinity', title: 'User affinity', intro: 'Whether a device belongs to one person.', element: [affinity.element, signIn.element] },
    {
      id: 'profile-management', title: 'Management', intro: 'How firmly the organisation manages the device.',
      element: [supervised.element, locked.element, shared.element, sharedBox, sync.element, certBox, awaitConfigured.element, returnToService.element, noBackupProfile.element, cellular.element],
    },
    { id: 'profile-naming', title: 'Device name', element: [template.element] },
    { id: 'profile-support', title: 'Department and support', intro: 'Who the user can turn to; shown in Setup Assistant.', element: h('div', { class: 'grid-3' }, department.element, phone.element, email.element) },
    {
      id: 'profile-locale', title: 'Language and region', intro: 'Optional. Leave empty to let the user choose.',
      element: [h('div', { class: 'grid-3' }, language.element, region.element), datalist('profile-languages', LANGUAGES), datalist('profile-regions', REGIONS)],
    },
    {
      id: 'profile-screens', title: 'Setup Assistant screens',
      intro: 'Hide the screens users do not need to see. Only the screens of the chosen platforms are listed, with the versions that have them.',
      element: screens.element,
    },
    {
      id: 'profile-min-os', title: 'Minimum OS version', intro: 'Optional. Devices with an older system are asked to update before they enroll (devices that cannot be asked to update enroll as they are).',
      element: [minimum.slot.element, pinnedNote, pinned.slot.element],
    },
  ];
  return { sections, slots: s, refresh };
}
