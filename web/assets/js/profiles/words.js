/**
 * profiles/words.js — enrollment profiles and assignments in the admin's words: platforms,
 * device families, user affinity, sync with computers, a profile's state at Apple per token,
 * a device's assignment state and Apple's last answer, and the outcomes of a (dry-run)
 * assignment, each with the badge colour that goes with it.
 *
 * Exposes: `PLATFORMS`, `SKIP_PLATFORM`, `FAMILIES`, `familyWords`, `AFFINITY`,
 * `affinityWords`, `SYNC_MODES`, `syncWords`, `GRACE_CHOICES`, `graceWords`,
 * `appleStateBadge`, `assignmentBadge`, `lastResultWords`, `OUTCOMES`, `outcomeBadge`.
 * Must not use: the API. Contract: docs/profiles.md.
 */

import { badge } from '../components/badge.js';
import { formatDuration } from '../format.js';

/** What a profile is meant for, in the contract's order: [value, words]. */
export const PLATFORMS = [
  ['iOS', 'iOS', 'iPhone'],
  ['iPadOS', 'iPadOS', 'iPad'],
  ['macOS', 'macOS', 'Mac'],
  ['tvOS', 'tvOS', 'Apple TV'],
  ['visionOS', 'visionOS', 'Apple Vision Pro'],
];

/** Apple's skip-key list knows iOS, macOS, tvOS and visionOS; iPadOS follows iOS (spec §4.1). */
export const SKIP_PLATFORM = { iOS: 'iOS', iPadOS: 'iOS', macOS: 'macOS', tvOS: 'tvOS', visionOS: 'visionOS' };

/** Device families a default can be narrowed to; `null` is every device of the token. */
export const FAMILIES = [
  [null, 'All devices'],
  ['iPhone', 'iPhone'],
  ['iPad', 'iPad'],
  ['Mac', 'Mac'],
  ['AppleTV', 'Apple TV'],
  ['Vision', 'Apple Vision Pro'],
];

export function familyWords(family) {
  return FAMILIES.find(([value]) => value === (family ?? null))?.[1] ?? family;
}

export const AFFINITY = [
  ['none', 'Enroll without user affinity', 'For devices that are not tied to one person: kiosks, carts, shared devices. Nobody signs in during Setup Assistant.'],
  ['with_affinity', 'Enroll with user affinity', 'The device belongs to the person who sets it up; they sign in during Setup Assistant.'],
  ['shared_device', 'Shared device mode', 'Several people use the device in turn; each signs in to their own session.'],
];

export function affinityWords(value) {
  return AFFINITY.find(([v]) => v === value)?.[1] ?? value;
}

export const SYNC_MODES = [
  ['allow_all', 'Allow all', 'The device can pair with any computer (Finder, Apple Configurator).'],
  ['deny_all', 'Deny all', 'The device pairs with no computer.'],
  ['allow_certificates', 'Allow Apple Configurator by certificate', 'Only the Macs whose certificates are listed here can pair (up to 10).'],
];

export function syncWords(value) {
  return SYNC_MODES.find(([v]) => v === value)?.[1] ?? value;
}

/** Shared iPad: seconds after the screen locks before the password is needed. */
export const GRACE_CHOICES = [0, 60, 300, 900, 3600, 14400];

export function graceWords(seconds) {
  if (seconds === null || seconds === undefined) return 'Not set (the device’s own default)';
  return seconds === 0 ? 'Immediately' : `After ${formatDuration(seconds)}`;
}

const APPLE_STATE = {
  defined: ['Defined at Apple', 'success'],
  pending: ['Sending to Apple…', 'progress'],
  failed: ['Refused by Apple', 'danger'],
};

/** One token's copy of a profile at Apple. */
export function appleStateBadge(state) {
  const [text, variant] = APPLE_STATE[state] ?? [state ?? 'Unknown', 'neutral'];
  return badge(text, variant);
}

const ASSIGNMENT = {
  idle: ['No assignment pending', 'neutral'],
  queued: ['Queued', 'info'],
  assigning: ['Sending to Apple…', 'progress'],
  assigned: ['Profile assigned', 'success'],
  cooldown: ['Waiting to retry', 'warning'],
  throttled: ['Apple asked to wait', 'warning'],
  not_accessible: ['Not on this MDM server', 'danger'],
  failed: ['Failed', 'danger'],
};

export const ASSIGNMENT_STATES = Object.entries(ASSIGNMENT).map(([value, [words]]) => [value, words]);

export function assignmentBadge(state) {
  const [text, variant] = ASSIGNMENT[state] ?? [state ?? 'Unknown', 'neutral'];
  return badge(text, variant);
}

const LAST_RESULT = {
  SUCCESS: 'Apple assigned the profile (SUCCESS).',
  NOT_ACCESSIBLE: 'Apple says the device is not assigned to this MDM server (NOT_ACCESSIBLE). Check Apple Business Manager.',
  FAILED: 'Apple could not assign it this time (FAILED). The appliance retries after a cooldown.',
  THROTTLED: 'Apple asked to wait before trying again (THROTTLED).',
};

export function lastResultWords(result) {
  if (!result) return 'Apple has not answered for this device yet.';
  return LAST_RESULT[result] ?? result;
}

/** Outcomes of `POST /assignments` per serial: [value, words, badge variant], in display order. */
export const OUTCOMES = [
  ['will_assign', 'Will be assigned', 'info'],
  ['queued', 'Queued for Apple', 'success'],
  ['already_assigned', 'Already has it', 'neutral'],
  ['unknown_serial', 'Unknown serial', 'warning'],
  ['other_token', 'Not possible through its token', 'warning'],
  ['removed', 'Removed from Apple', 'warning'],
  ['duplicate', 'Listed twice', 'neutral'],
  ['invalid', 'Not a serial number', 'danger'],
  ['wrong_platform', 'Profile not for its platform', 'danger'],
];

export function outcomeBadge(outcome) {
  const found = OUTCOMES.find(([value]) => value === outcome);
  return badge(found?.[1] ?? outcome, found?.[2] ?? 'neutral');
}
