/**
 * roles.js — the signed-in admin's role and permissions, and the role names the page shows.
 *
 * Owns: the list of roles for pickers. The role and its permission codes (docs/roles.md) come
 * with the session (login, setup, `GET /api/v1/admin/session`; scripts ask `GET /api/v1/me`).
 * Exposes: `can(permission)`, `myRole()`, `scoped()`, `rolesWithinMine()`, `ROLES`,
 * `roleTitle(code)`, `roleSelect({id, name, value, allowed})`.
 * Must not use: the API (session.js holds the session).
 *
 * Hiding is a courtesy: the server refuses what a role lacks whatever the page shows.
 */

import { h } from './dom.js';
import { getSession } from './session.js';

export const ROLES = [
  { code: 'owner', title: 'Owner', hint: 'everything, including admins, secrets and erase' },
  { code: 'operator', title: 'Operator', hint: 'tokens, sync, profiles, assignment, device actions' },
  { code: 'help_desk', title: 'Help desk', hint: 'read; refresh, rename and release devices' },
  { code: 'auditor', title: 'Auditor', hint: 'read-only, including the audit log' },
];

/** Whether the signed-in admin's role holds `permission` (false when signed out). */
export function can(permission) {
  return Boolean(getSession()?.permissions?.includes(permission));
}

/**
 * Whether the signed-in admin is limited to some server tokens (docs/roles.md, Scope): the
 * page then hides organisation-wide data, which the server refuses them anyway.
 */
export function scoped() {
  return Array.isArray(getSession()?.scope);
}

export function myRole() {
  return getSession()?.role ?? null;
}

export function roleTitle(code) {
  return ROLES.find((r) => r.code === code)?.title ?? code;
}

/** The roles a token or admin made by the signed-in admin may get (docs/roles.md: never wider). */
export function rolesWithinMine() {
  const within = {
    owner: ['owner', 'operator', 'help_desk', 'auditor'],
    operator: ['operator', 'help_desk'],
    help_desk: ['help_desk'],
    auditor: ['auditor'],
  };
  return within[myRole()] ?? [];
}

/** A labelled role picker; `allowed` limits the choices (default: all). */
export function roleSelect({ id, name = 'role', value = 'help_desk', allowed = null, label = 'Role' }) {
  const choices = ROLES.filter((r) => !allowed || allowed.includes(r.code));
  const input = h('select', { id, name }, choices.map((r) => h('option', { value: r.code }, `${r.title} — ${r.hint}`)));
  input.value = choices.some((r) => r.code === value) ? value : choices[0]?.code;
  const field = h('div', { class: 'field', dataset: { field: name } },
    h('label', { for: id }, label), input, h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
  return { field, input };
}
