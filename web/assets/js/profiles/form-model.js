/**
 * profiles/form-model.js — between the profile form's fields and the contract's Profile JSON
 * (docs/profiles.md): what a new profile starts as, reading the fields into a Profile,
 * filling the fields from one, and the server fields that are never sent back.
 *
 * Exposes: `NEW_PROFILE`, `collectProfile(slots)`, `fillProfile(slots, profile)`,
 * `editableProfile(profile)`.
 * Must not use: the DOM beyond the slots' own read/write, the API.
 */

/** A new profile: the choices most organisations make (await configuration on, as the contract says). */
export const NEW_PROFILE = {
  name: '',
  description: '',
  platforms: ['iOS', 'iPadOS'],
  user_affinity: 'none',
  sign_in: {
    source: 'local', allowed_groups: [], prefill_macos_account: false, lock_macos_account: false,
  },
  supervised: true,
  locked_enrollment: false,
  shared_ipad: false,
  shared_ipad_settings: {
    max_cached_users: null, passcode_lock_grace_s: null, inactivity_logout_s: null,
    temporary_session_only: false, temporary_session_inactivity_s: null,
  },
  sync_with_computers: 'deny_all',
  supervising_host_certs: [],
  await_device_configured: true,
  return_to_service: false,
  do_not_use_profile_from_backup: false,
  device_name_template: null,
  cellular_data_plan_url: null,
  department: '',
  support_phone_number: '',
  support_email_address: '',
  language: null,
  region: null,
  hidden_screens: [],
  minimum_os: null,
  pinned_os: null,
};

const SERVER_FIELDS = ['id', 'created_at', 'updated_at', 'revision', 'tokens', 'devices', 'defaults', 'apple_json'];

/** A profile from the API without the fields the server owns. */
export function editableProfile(profile) {
  const out = { ...NEW_PROFILE, ...profile };
  for (const key of SERVER_FIELDS) delete out[key];
  out.shared_ipad_settings = { ...NEW_PROFILE.shared_ipad_settings, ...(profile?.shared_ipad_settings ?? {}) };
  out.sign_in = { ...NEW_PROFILE.sign_in, ...(profile?.sign_in ?? {}) };
  return out;
}

/** The Profile the fields describe. */
export function collectProfile(slots) {
  const v = (name) => slots.get(name).read();
  const sync = v('sync_with_computers');
  return {
    name: v('name') ?? '',
    description: v('description') ?? '',
    platforms: v('platforms'),
    user_affinity: v('user_affinity'),
    sign_in: {
      source: v('sign_in.source') ?? 'local',
      allowed_groups: v('sign_in.allowed_groups'),
      prefill_macos_account: v('sign_in.prefill_macos_account'),
      lock_macos_account: v('sign_in.lock_macos_account'),
    },
    supervised: v('supervised'),
    locked_enrollment: v('locked_enrollment'),
    shared_ipad: v('shared_ipad'),
    shared_ipad_settings: {
      max_cached_users: v('shared_ipad_settings.max_cached_users'),
      passcode_lock_grace_s: v('shared_ipad_settings.passcode_lock_grace_s'),
      inactivity_logout_s: v('shared_ipad_settings.inactivity_logout_s'),
      temporary_session_only: v('shared_ipad_settings.temporary_session_only'),
      temporary_session_inactivity_s: v('shared_ipad_settings.temporary_session_inactivity_s'),
    },
    sync_with_computers: sync,
    // Kept in the form while another choice is made, but sent only where they apply.
    supervising_host_certs: sync === 'allow_certificates' ? v('supervising_host_certs') : [],
    await_device_configured: v('await_device_configured'),
    return_to_service: v('return_to_service'),
    do_not_use_profile_from_backup: v('do_not_use_profile_from_backup'),
    device_name_template: v('device_name_template'),
    cellular_data_plan_url: v('cellular_data_plan_url'),
    department: v('department') ?? '',
    support_phone_number: v('support_phone_number') ?? '',
    support_email_address: v('support_email_address') ?? '',
    language: v('language'),
    region: v('region'),
    hidden_screens: v('hidden_screens'),
    minimum_os: v('minimum_os'),
    pinned_os: v('pinned_os'),
  };
}

/** Puts a profile into the fields. */
export function fillProfile(slots, profile) {
  const p = editableProfile(profile);
  const put = (name, value) => slots.get(name)?.write(value);
  for (const [key, value] of Object.entries(p)) {
    if (key === 'shared_ipad_settings' || key === 'sign_in') {
      for (const [sub, subValue] of Object.entries(value)) put(`${key}.${sub}`, subValue);
    } else {
      put(key, value);
    }
  }
}
