/**
 * views/profile-edit.js — creating a profile (`/admin/profiles/new`) or editing one
 * (`/admin/profiles/<id>/edit`): loads Apple's screen catalog (and the profile), shows the
 * form, and after saving goes to the profile's page.
 *
 * Element ids for tests: #profile-edit (data-profile when editing), plus those of
 * profiles/profile-form.js.
 * Must not use: anything but the API, its parts and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet } from '../api.js';
import { adminHref } from '../router.js';
import { panel } from '../components/panel.js';
import { toast } from '../components/toast.js';
import { loadSkipKeys } from '../profiles/data.js';
import { profileForm } from '../profiles/profile-form.js';

export default {
  name: 'profiles',
  title: 'New profile',
  intro: 'Everything Setup Assistant needs to know. Problems show next to their field as you type; nothing reaches Apple until you save.',

  mount(container, ctx) {
    const id = ctx.param;
    const root = h('div', { id: 'profile-edit', class: 'page-content', dataset: { profile: id ?? undefined } },
      h('p', { class: 'muted' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Loading…'));
    container.append(root);
    const back = id ? adminHref(`profiles/${id}`) : adminHref('profiles');

    Promise.all([
      loadSkipKeys(ctx.signal),
      id ? apiGet(`/profiles/${encodeURIComponent(id)}`, { signal: ctx.signal }) : null,
    ]).then(([catalog, profile]) => {
      if (profile) ctx.setTitle(`Edit “${profile.name}”`, `Revision ${profile.revision}. Saving defines a new revision at Apple and re-assigns the devices that have this profile.`);
      replaceChildren(root,
        h('p', { class: 'back-link' }, h('a', { href: back }, id ? '← Back to the profile' : '← All profiles')),
        profileForm({
          catalog,
          profile,
          cancelHref: back,
          onSaved: (saved) => {
            toast(profile
              ? `“${saved.name}” saved as revision ${saved.revision}; Apple gets it for every token.`
              : `Profile “${saved.name}” created; Apple gets it for every token.`);
            ctx.navigate(adminHref(`profiles/${saved.id}`));
          },
        }));
      // The section asked for in the address (a link to “Setup Assistant screens”, say).
      const target = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
      target?.scrollIntoView();
    }).catch((err) => {
      if (err.name === 'AbortError') return;
      ctx.setTitle(err.status === 404 ? 'Profile not found' : 'Could not open the form');
      replaceChildren(root, panel({ id: 'profile-missing', title: err.status === 404 ? 'No such profile' : 'Could not open the form' },
        h('p', {}, err.status === 404 ? 'It may have been deleted. ' : `${err.message} `, h('a', { href: adminHref('profiles') }, 'Back to the profiles'), '.')));
    });
  },
};
