/**
 * views/business.js — the Apple Business page: the API account that lets adebox see every
 * device the organisation owns, which of our server tokens is which Apple Business MDM
 * server, and the organisation's devices with the server each is assigned to.
 *
 * Owns: the page layout and its in-page links (the organisation devices' filters are the
 * page's URL query); the panels are their own files
 * (business/*.js). Organisation-wide (the navigation hides it from an admin limited to some
 * server tokens); every role reads it, Owners change the account (docs/roles.md).
 * Element ids for tests: those of the panels.
 * Must not use: anything but the API, the components, its panels and the ctx it is given.
 */

import { h } from '../dom.js';
import { accountPanel } from '../business/account-panel.js';
import { serversPanel } from '../business/servers-panel.js';
import { orgDevicesPanel } from '../business/orgdevices-panel.js';

export default {
  name: 'business',
  title: 'Apple Business',
  intro: 'The Apple Business API sees every device your organisation owns, also those assigned to another MDM server or to none, so adebox can say where a serial is when it never shows up here. The account is optional; everything else works without it.',

  mount(container, ctx) {
    const servers = serversPanel(ctx);
    const devices = orgDevicesPanel(ctx);
    container.append(
      h('nav', { class: 'on-this-page', 'aria-label': 'On this page' },
        h('span', { class: 'muted' }, 'On this page: '),
        h('a', { href: '#business-account' }, 'API account'), ' · ',
        h('a', { href: '#business-servers' }, 'MDM servers'), ' · ',
        h('a', { href: '#business-devices' }, 'Organisation devices')),
      accountPanel(ctx, { onChange: () => { servers.reload(); devices.reload(); } }),
      servers.element,
      devices.element);
    return { onQuery: (query) => devices.applyQuery(query) };
  },
};
