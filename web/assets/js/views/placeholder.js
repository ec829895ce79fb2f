/**
 * views/placeholder.js — the sections later work fills in (Profiles, Enrollment). Each page
 * says in a sentence or two what will appear there, so the navigation is complete and nobody
 * wonders whether a page is broken.
 * Exposes: `placeholderView({name, title, intro, body})` → a view.
 * Element ids for tests: #placeholder (data-section="<name>").
 */

import { h } from '../dom.js';
import { panel } from '../components/panel.js';

export function placeholderView({ name, title, intro, body }) {
  return {
    name,
    title,
    intro,
    mount(container) {
      const section = panel({ id: 'placeholder', title: 'Coming to this page', className: 'placeholder' },
        body.map((text) => h('p', {}, text)));
      section.dataset.section = name;
      container.append(section);
    },
  };
}

export const enrollmentView = placeholderView({
  name: 'enrollment',
  title: 'Enrollment',
  intro: 'How devices enrol with this appliance after Setup Assistant.',
  body: [
    'The enrolment service will be configured and watched here: the devices that contacted the appliance, proved who they are and enrolled, and any that were refused and why.',
  ],
});
