/**
 * profiles/rules.js — the profile rules the page can check by itself, as the admin types:
 * Apple's length limits and required fields (../shared/spec/dep-api.md §4), the flag
 * dependencies Apple answers with FLAGS_INVALID, URL, e-mail, language and region shapes,
 * Shared iPad numbers, the sign-in choice's groups and Mac account switches, certificate count, minimum OS versions, and the device name template
 * (known placeholders, at most 63 characters with the longest values).
 *
 * Everything else (skip keys per platform, certificates that parse, limits) is the server's:
 * the form asks `POST /profiles/validate` for it. A rule here never contradicts the server;
 * when they disagree the server's answer is shown.
 * Exposes: `checkProfile(profile)` → [{field, message}], `TEMPLATE_PLACEHOLDERS`,
 * `expandTemplate(template)` → {text, length, unknown}, `MAX_DEVICE_NAME`, `charCount`.
 * Must not use: the DOM or the API.
 */

import { GRACE_CHOICES } from './words.js';

export const MAX_DEVICE_NAME = 63;

/**
 * The placeholders of a device name template and the longest value each can take, so the
 * preview shows the worst case: serial numbers are 10 to 12 characters, a UDID is at most
 * 40 (the older 40-hex form; newer ones are 25), and model names run to about 30.
 */
export const TEMPLATE_PLACEHOLDERS = [
  { key: 'SERIAL', words: 'Serial number', longest: 'C02XK1ABJG5J', example: 'DMPXK1ABJG5J' },
  { key: 'DEVICETYPE', words: 'Device type', longest: 'AppleTV', example: 'iPad' },
  { key: 'MODEL', words: 'Model', longest: 'iPad Pro (12.9-inch) (6th gen)', example: 'iPad Air' },
  { key: 'UDID', words: 'UDID', longest: '0123456789abcdef0123456789abcdef01234567', example: '00008103-000A1B2C3D4E5F6G' },
];

/** Characters as a person counts them (code points, so “é” or an emoji is one). */
export function charCount(text) {
  return [...(text ?? '')].length;
}

/** The template with every placeholder at its longest; `unknown` lists `{{…}}` we do not know. */
export function expandTemplate(template, { use = 'longest' } = {}) {
  const unknown = [];
  const text = String(template ?? '').replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (whole, name) => {
    const found = TEMPLATE_PLACEHOLDERS.find((p) => p.key === name.toUpperCase());
    if (!found) {
      unknown.push(whole);
      return whole;
    }
    return found[use];
  });
  return { text, length: charCount(text), unknown };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const VERSION = /^\d{1,3}(\.\d{1,3}){0,2}$/;

function httpsUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '';
  } catch {
    return false;
  }
}

function isBlank(value) {
  return value === null || value === undefined || String(value).trim() === '';
}

/** Whole number within [min, max], or null/blank (not set). */
function intOutside(value, min, max = Infinity) {
  if (value === null || value === undefined || value === '') return false;
  return !Number.isInteger(value) || value < min || value > max;
}

/** Every local rule the profile breaks, each on the field (dotted path) at fault. */
export function checkProfile(p) {
  const out = [];
  const bad = (field, message) => out.push({ field, message });

  const name = (p.name ?? '').trim();
  if (name === '') bad('name', 'Give the profile a name: Apple requires one (1 to 125 characters).');
  else if (charCount(name) > 125) bad('name', `The name is ${charCount(name)} characters long; Apple accepts at most 125.`);
  if (charCount(p.description) > 1000) bad('description', `The description is ${charCount(p.description)} characters long; keep it to 1,000.`);
  if (!p.platforms?.length) bad('platforms', 'Choose at least one platform: the screens and checks follow from it.');

  if (p.locked_enrollment && !p.supervised) {
    bad('locked_enrollment', 'Locked enrollment needs Supervised: Apple refuses the profile otherwise (FLAGS_INVALID). Turn on Supervised, or turn this off.');
  }
  if (p.shared_ipad) {
    if (!p.supervised) bad('shared_ipad', 'Shared iPad needs Supervised. Turn on Supervised, or turn this off.');
    if (p.user_affinity === 'with_affinity') bad('shared_ipad', 'Shared iPad works without user affinity or in shared device mode, not with user affinity. Change the user affinity, or turn this off.');
    const s = p.shared_ipad_settings ?? {};
    if (intOutside(s.max_cached_users, 1, 32)) bad('shared_ipad_settings.max_cached_users', 'Between 1 and 32 users, or leave it empty for the device’s own choice.');
    if (s.passcode_lock_grace_s !== null && s.passcode_lock_grace_s !== undefined && !GRACE_CHOICES.includes(s.passcode_lock_grace_s)) {
      bad('shared_ipad_settings.passcode_lock_grace_s', 'Choose one of the offered times.');
    }
    if (intOutside(s.inactivity_logout_s, 30)) bad('shared_ipad_settings.inactivity_logout_s', 'At least 30 seconds (whole seconds), or leave it empty.');
    if (intOutside(s.temporary_session_inactivity_s, 30)) bad('shared_ipad_settings.temporary_session_inactivity_s', 'At least 30 seconds (whole seconds), or leave it empty.');
  }

  if (p.user_affinity === 'with_affinity' && p.sign_in) {
    const groups = p.sign_in.allowed_groups ?? [];
    if (groups.length > 50) bad('sign_in.allowed_groups', `List at most 50 groups; there are ${groups.length}.`);
    else if (groups.some((g) => g.length > 256)) bad('sign_in.allowed_groups', 'A group name has at most 256 characters.');
    if (p.sign_in.lock_macos_account && !p.sign_in.prefill_macos_account) {
      bad('sign_in.lock_macos_account', 'Only a pre-filled account can be locked: turn on “Pre-fill the Mac’s first account”, or turn this off.');
    }
  }

  const certs = p.supervising_host_certs ?? [];
  if (certs.length > 10) bad('supervising_host_certs', `Apple accepts at most 10 certificates; there are ${certs.length}. Remove ${certs.length - 10}.`);
  certs.forEach((pem, i) => {
    if (!/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(pem)) {
      bad(`supervising_host_certs.${i}`, 'This is not a PEM certificate (it starts with -----BEGIN CERTIFICATE-----). Export the Mac’s Apple Configurator certificate as PEM.');
    }
  });

  if (!isBlank(p.device_name_template)) {
    const { length, unknown } = expandTemplate(p.device_name_template);
    if (unknown.length) bad('device_name_template', `Unknown placeholder ${unknown[0]}. Use {{SERIAL}}, {{DEVICETYPE}}, {{MODEL}} or {{UDID}}.`);
    else if (length > MAX_DEVICE_NAME) bad('device_name_template', `With the longest values the name is ${length} characters; devices accept at most ${MAX_DEVICE_NAME}. Shorten the fixed text or use fewer placeholders.`);
  }
  if (!isBlank(p.cellular_data_plan_url) && !httpsUrl(p.cellular_data_plan_url)) {
    bad('cellular_data_plan_url', 'Enter a full https:// address, such as https://carrier.example/activate.');
  }

  if (charCount(p.department) > 125) bad('department', `${charCount(p.department)} characters; Apple accepts at most 125.`);
  if (charCount(p.support_phone_number) > 50) bad('support_phone_number', `${charCount(p.support_phone_number)} characters; Apple accepts at most 50.`);
  if (!isBlank(p.support_email_address)) {
    if (charCount(p.support_email_address) > 250) bad('support_email_address', 'Apple accepts at most 250 characters.');
    else if (!EMAIL.test(p.support_email_address)) bad('support_email_address', 'Enter an e-mail address, such as help@example.org.');
  }
  if (!isBlank(p.language) && !/^[a-z]{2,3}$/i.test(p.language)) bad('language', 'Use the 2- or 3-letter ISO 639 code, such as en, de or fr.');
  if (!isBlank(p.region) && !/^[a-z]{2}$/i.test(p.region)) bad('region', 'Use the 2-letter ISO 3166 code, such as US, DE or FR.');

  for (const field of ['minimum_os', 'pinned_os']) {
    for (const [platform, version] of Object.entries(p[field] ?? {})) {
      if (!VERSION.test(version)) bad(`${field}.${platform}`, 'Write a version such as 17 or 17.4 or 17.4.1.');
    }
  }
  return out;
}
