/**
 * views/placeholder.js — the sections later work fills in (Tokens, Devices, Profiles,
 * Enrollment, Sandbox). Each page says in a sentence or two what will appear there, so the
 * navigation is complete and nobody wonders whether a page is broken.
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

export const tokensView = placeholderView({
  name: 'tokens',
  title: 'Tokens',
  intro: 'Apple server tokens, which let this appliance see and manage the devices your organization bought.',
  body: [
    'Apple server tokens: add one by downloading this appliance’s public key, uploading it in Apple Business Manager and uploading the .p7m token you get back; expiry and renewal are tracked here.',
    'Each token will show when it expires, when it last synced and how many devices it brought in.',
  ],
});

export const devicesView = placeholderView({
  name: 'devices',
  title: 'Devices',
  intro: 'The devices Apple assigned to this appliance.',
  body: [
    'Every device Apple assigned to this appliance will be listed here once a token is added and synced: serial number, model, profile, and where it is on the way to enrolment.',
    'A device’s page will show its timeline, newest event first.',
  ],
});

export const profilesView = placeholderView({
  name: 'profiles',
  title: 'Profiles',
  intro: 'Enrollment profiles: what a device shows and does in Setup Assistant.',
  body: [
    'Enrollment profiles will be defined here: which Setup Assistant screens to show or skip, whether enrolment is mandatory, and which devices get which profile.',
    'A profile is sent to Apple and assigned to devices; this page will show where each assignment stands.',
  ],
});

export const enrollmentView = placeholderView({
  name: 'enrollment',
  title: 'Enrollment',
  intro: 'How devices enrol with this appliance after Setup Assistant.',
  body: [
    'The enrolment service will be configured and watched here: the devices that contacted the appliance, proved who they are and enrolled, and any that were refused and why.',
  ],
});

export const sandboxView = placeholderView({
  name: 'sandbox',
  title: 'Sandbox',
  intro: 'This appliance runs in sandbox mode: Apple’s services are simulated on this machine.',
  body: [
    'The simulated Apple services will be controlled here: issue a server token from the stand-in Apple Business Manager, add simulated devices, and watch them enrol, with no Apple account and no real device.',
  ],
});
