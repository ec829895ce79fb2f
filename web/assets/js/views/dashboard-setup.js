/**
 * views/dashboard-setup.js — the Dashboard's first-steps checklist: push certificate → server
 * token → profile → default profile → devices reach the enrollment URL → first device
 * enrolled. Each line reflects real state (read from the same API the pages use), says what
 * to do and links to the page where it is done; the checklist hides itself once every step
 * is done.
 *
 * Exposes: `setupSteps({push, tokens, profiles, defaults, counts})` → [{key, label, done,
 * href, todo}] (pure), `setupChecklist(steps)` → a panel, or null when all are done.
 * Element ids for tests: #dash-setup, #dash-setup-list (items data-step, data-done).
 * Must not use: the API (the Dashboard loads the data).
 */

import { h } from '../dom.js';
import { adminHref } from '../router.js';
import { badge } from '../components/badge.js';
import { panel } from '../components/panel.js';

function reached(counts, step) {
  return (counts?.funnel ?? []).find((s) => s.step === step)?.devices ?? 0;
}

export function setupSteps({ push, tokens, profiles, defaults, counts }) {
  const pushOk = push?.state === 'ok' || push?.state === 'expiring';
  return [
    { key: 'push', label: 'Add the push certificate', done: pushOk, href: `${adminHref('enrollment')}#push-certificate`,
      todo: 'Devices cannot enroll without it: make a request on the Enrollment page and upload Apple’s certificate.' },
    { key: 'token', label: 'Add a server token', done: (tokens?.length ?? 0) > 0, href: adminHref('tokens'),
      todo: 'Connects this appliance to an MDM server in Apple Business Manager; its devices sync in.' },
    { key: 'profile', label: 'Make an enrollment profile', done: (profiles?.length ?? 0) > 0, href: adminHref('profiles/new'),
      todo: 'What Setup Assistant shows and how the devices are managed.' },
    { key: 'default', label: 'Choose a default profile', done: (defaults?.length ?? 0) > 0, href: `${adminHref('profiles')}#profiles-defaults`,
      todo: 'New devices of a token get it without anyone assigning it.' },
    { key: 'enrollment_url', label: 'Devices reach the enrollment URL', done: reached(counts, 'contacted') > 0, href: `${adminHref('enrollment')}#enroll-url-panel`,
      todo: 'The URL every profile sends to Apple must be reachable from the devices’ network; this step is done when the first device contacts it.' },
    { key: 'enrolled', label: 'First device enrolled', done: reached(counts, 'enrolled') > 0, href: adminHref('devices'),
      todo: 'Switch on a device assigned to this appliance and go through Setup Assistant.' },
  ];
}

export function setupChecklist(steps) {
  if (steps.every((s) => s.done)) return null;
  const left = steps.filter((s) => !s.done).length;
  const items = steps.map((s) => h('li', { dataset: { step: s.key, done: String(s.done) } },
    s.done ? badge('Done', 'success') : badge('To do', 'warning'), ' ',
    h('a', { href: s.href }, s.label),
    s.done ? null : h('p', { class: 'muted small' }, s.todo)));
  return panel({ id: 'dash-setup', title: 'First steps', intro: `${left} of ${steps.length} steps left to set this appliance up. This list disappears once every step is done.` },
    h('ol', { class: 'setup-list', id: 'dash-setup-list' }, items));
}
