/**
 * business/where-box.js — "Why isn't my device here?": when the devices page is searched
 * for a whole serial the inventory does not have, asks Apple Business where it is and says
 * so, with what to do: assigned to one of our servers (sync it), to another server (its
 * name), to none, unknown to the organisation, or the API account is not set up.
 *
 * Owns: `GET /api/v1/business/where/{serial}`; the box under the filters.
 * Exposes: `whereBox()` → `{element, ask(serial, signal), clear()}`.
 * Element ids for tests: #devices-where (the box, data-answer="<answer>" once answered),
 * #devices-where-message.
 * Must not use: anything but the API and the components.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet } from '../api.js';
import { adminHref } from '../router.js';
import { badge } from '../components/badge.js';

const WORDS = {
  ours: ['Assigned to this appliance', 'info'],
  elsewhere: ['Assigned to another MDM server', 'warning'],
  unassigned: ['Assigned to no MDM server', 'warning'],
  not_in_organisation: ['Not in your organisation', 'danger'],
  not_set_up: ['Apple Business API not set up', 'neutral'],
};

function link(answer) {
  if (answer.answer === 'ours' && answer.token) return h('a', { href: adminHref(`tokens/${answer.token}`) }, `Open the token “${answer.server_name}” to sync it`);
  if (answer.answer === 'not_set_up') return h('a', { href: adminHref('business') }, 'Set up the Apple Business API account');
  return h('a', { href: adminHref('business', { search: answer.serial }) }, 'See the organisation’s devices');
}

export function whereBox() {
  const element = h('div', { id: 'devices-where', class: 'callout', role: 'status', hidden: true });
  let asked = null;
  return {
    element,
    clear() {
      asked = null;
      element.hidden = true;
      delete element.dataset.answer;
      replaceChildren(element);
    },
    async ask(serial, signal) {
      if (asked === serial) return;
      asked = serial;
      element.hidden = false;
      delete element.dataset.answer;
      replaceChildren(element, h('p', { class: 'muted' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ` ${serial} is not in this inventory. Asking Apple Business where it is…`));
      try {
        const a = await apiGet(`/business/where/${encodeURIComponent(serial)}`, { signal });
        if (asked !== serial) return;
        const [title, tone] = WORDS[a.answer] ?? [a.answer, 'neutral'];
        element.dataset.answer = a.answer;
        replaceChildren(element,
          h('p', {}, h('strong', {}, 'Why isn’t ', h('span', { class: 'mono' }, serial), ' here?'), ' ', badge(title, tone)),
          h('p', { id: 'devices-where-message' }, a.message),
          h('p', {}, link(a)));
      } catch (err) {
        if (err.name === 'AbortError' || asked !== serial) return;
        element.dataset.answer = 'error';
        replaceChildren(element,
          h('p', {}, h('strong', {}, `${serial} is not in this inventory.`)),
          h('p', { id: 'devices-where-message', class: 'error-text' }, `Apple Business could not be asked where it is: ${err.message}`));
      }
    },
  };
}
