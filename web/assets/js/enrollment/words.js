/**
 * enrollment/words.js — the enrollment steps and refusal reasons in plain words, shared by the
 * Enrollment page and the device timeline (whose events are `enrollment_<step>`).
 *
 * Exposes: `STEP_WORDS`, `stepLabel(step)`, `stepTone(step)`, `REASON_WORDS`,
 * `reasonLabel(code)`, `enrollmentEventLabel(kind)` (null for other events).
 * Must not use: the API or the DOM.
 */

/** The API's steps (`GET /api/v1/enrollment/funnel`), in the order a device meets them. */
export const STEP_WORDS = [
  ['contacted', 'Contacted us', 'info'],
  ['refused', 'Refused', 'danger'],
  ['audited', 'Let through by audit-only mode', 'warning'],
  ['os_update_required', 'Asked to update its system', 'warning'],
  ['profile_served', 'Enrollment profile served', 'success'],
  ['certificate_issued', 'Device identity issued', 'success'],
];

const BY_STEP = new Map(STEP_WORDS.map(([key, label, tone]) => [key, { label, tone }]));

export function stepLabel(step) {
  return BY_STEP.get(step)?.label ?? String(step ?? 'Unknown step').replaceAll('_', ' ');
}

export function stepTone(step) {
  return BY_STEP.get(step)?.tone ?? 'neutral';
}

/** Short names of the gate's refusal codes; the event's `message` carries the full words. */
export const REASON_WORDS = {
  bad_machine_info: 'Not a genuine signed device request',
  unknown_device: 'Not in this appliance’s device list',
  removed_device: 'Removed from this MDM server by Apple',
  foreign_token: 'Belongs to a server token no longer held',
  no_profile: 'No enrollment profile at Apple',
  foreign_profile: 'Profile not made by this appliance',
  needs_scep: 'Too old for an attested identity',
  wrong_platform: 'Profile not for its platform',
  sign_in_required: 'Skipped the user sign-in (profile with user affinity)',
  acme_attestation_refused: 'Device attestation refused (ACME)',
  scep_challenge_unknown: 'SCEP challenge not issued here',
  scep_challenge_expired: 'SCEP challenge expired',
  scep_challenge_used: 'SCEP challenge already used',
  scep_wrong_device: 'SCEP challenge of another device',
  scep_bad_signature: 'SCEP request with a bad signature',
  scep_undecryptable: 'SCEP request not readable',
  scep_unsupported_algorithm: 'SCEP request with an unsupported algorithm',
  scep_bad_csr: 'SCEP request with an unusable CSR',
  scep_unsupported_message: 'SCEP message type not supported',
};

export function reasonLabel(code) {
  if (!code) return 'No reason recorded';
  return REASON_WORDS[code] ?? String(code).replaceAll('_', ' ');
}

const TIMELINE_WORDS = {
  contacted: 'Contacted the enrollment URL',
  refused: 'Enrollment refused',
  audited: 'Let through (audit-only)',
  os_update_required: 'Asked to update its system',
  profile_served: 'Enrollment profile served',
  certificate_issued: 'Device identity issued',
};

/** The device timeline's label for an `enrollment_<step>` event. */
export function enrollmentEventLabel(kind) {
  if (typeof kind !== 'string' || !kind.startsWith('enrollment_')) return null;
  const step = kind.slice('enrollment_'.length);
  const label = TIMELINE_WORDS[step];
  return label ? { label, tone: stepTone(step) } : null;
}
