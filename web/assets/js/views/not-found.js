/**
 * views/not-found.js — an `/admin/…` address that names no page.
 * Element ids for tests: #not-found.
 */

import { h } from '../dom.js';
import { adminHref } from '../router.js';

export default {
  name: 'not-found',
  title: 'Page not found',
  intro: 'This address is not a page of the admin interface.',
  mount(container) {
    container.append(h('section', { class: 'panel', id: 'not-found' },
      h('p', {}, 'The link may be old or mistyped. Use the navigation, or go to the ', h('a', { href: adminHref('dashboard') }, 'Dashboard'), '.')));
  },
};
