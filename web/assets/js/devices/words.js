/**
 * devices/words.js — a device in the admin's words: lifecycle states (with the badge colour
 * that goes with each), why a device was removed, profile status, and the labels of every
 * field Apple sends about a device (protocol 10).
 *
 * Exposes: `LIFECYCLES` ([key, words] in funnel order), `lifecycleBadge(device)`,
 * `removalWords(reason)`, `profileStatusWords(status)`, `APPLE_FIELDS` ([key, label]).
 * Must not use: the API. Contract: docs/tokens-and-devices.md (Devices).
 */

import { badge } from '../components/badge.js';

export const LIFECYCLES = [
  ['not_contacted', 'Not contacted'],
  ['profile_assigned', 'Profile assigned'],
  ['profile_pushed', 'Profile pushed'],
  ['enrolled', 'Enrolled'],
  ['checked_out', 'Checked out'],
  ['removed', 'Removed from Apple'],
];
const LIFECYCLE_VARIANT = {
  not_contacted: 'neutral', profile_assigned: 'info', profile_pushed: 'info', enrolled: 'success', checked_out: 'warning', removed: 'warning',
};

export function lifecycleBadge(device) {
  const words = device.lifecycle_words || Object.fromEntries(LIFECYCLES)[device.lifecycle] || device.lifecycle;
  return badge(words ?? 'Unknown', LIFECYCLE_VARIANT[device.lifecycle] ?? 'neutral');
}

const REMOVAL = {
  deleted_by_apple: 'Apple reported it as removed from this MDM server (released, or moved to another server).',
  released_by_replacement: 'Apple released it because it was replaced (for example by AppleCare).',
  missing_from_full_sync: 'It was no longer in Apple’s full list of this MDM server’s devices.',
};

export function removalWords(reason) {
  return REMOVAL[reason] ?? reason ?? 'No reason recorded.';
}

const PROFILE_STATUS = {
  empty: 'No profile', assigned: 'Assigned', pushed: 'Pushed to the device', removed: 'Removed',
};

export function profileStatusWords(status) {
  return PROFILE_STATUS[status] ?? status ?? '—';
}

export const APPLE_FIELDS = [
  ['serial_number', 'Serial number'],
  ['model', 'Model'],
  ['description', 'Description'],
  ['color', 'Colour'],
  ['device_family', 'Device family'],
  ['os', 'Operating system'],
  ['asset_tag', 'Asset tag'],
  ['profile_status', 'Profile status'],
  ['profile_uuid', 'Profile UUID'],
  ['profile_assign_time', 'Profile assigned at'],
  ['profile_push_time', 'Profile pushed at'],
  ['device_assigned_date', 'Assigned to this server at'],
  ['device_assigned_by', 'Assigned by'],
  ['mdm_migration_deadline', 'MDM migration deadline'],
  ['is_replacement_device', 'Replacement device'],
  ['imei', 'IMEI'],
  ['meid', 'MEID'],
  ['eid', 'EID'],
  ['wifi_mac_address', 'Wi-Fi MAC address'],
  ['ethernet_mac_address', 'Ethernet MAC address'],
  ['bluetooth_mac_address', 'Bluetooth MAC address'],
];

export const TIME_FIELDS = new Set(['profile_assign_time', 'profile_push_time', 'device_assigned_date', 'mdm_migration_deadline']);
