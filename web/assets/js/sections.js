/**
 * sections.js — the admin page's sections: navigation order, labels and routes.
 *
 * Exposes: `SECTIONS` (what the left navigation shows; Sandbox only in sandbox mode, the
 * organisation-wide ones not to an admin limited to some server tokens, a section with
 * `needs` only to a role holding that permission) and
 * `sectionHref(name)`.
 * Must not use: anything else; views register themselves in views/index.js.
 */

import { adminHref } from './router.js';

export const SECTIONS = [
  { name: 'dashboard', label: 'Dashboard' },
  { name: 'tokens', label: 'Tokens' },
  { name: 'devices', label: 'Devices' },
  { name: 'profiles', label: 'Profiles' },
  { name: 'enrollment', label: 'Enrollment', orgWide: true },
  { name: 'signin', label: 'Sign-in', orgWide: true },
  { name: 'business', label: 'Apple Business', orgWide: true },
  { name: 'settings', label: 'Settings' },
  { name: 'integrations', label: 'Integrations', needs: 'secrets', orgWide: true },
  { name: 'audit', label: 'Audit log', orgWide: true },
  { name: 'sandbox', label: 'Sandbox', sandboxOnly: true },
].map((section) => ({ ...section, href: adminHref(section.name) }));

export function sectionHref(name) {
  return adminHref(name);
}
