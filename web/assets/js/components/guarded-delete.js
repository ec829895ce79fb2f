/**
 * guarded-delete.js — the "Delete" panel of a detail page for things the appliance may refuse
 * to delete while they are in use (a token with devices, a profile that is a default): says
 * what will happen, asks for the name typed out, and when the API answers with `blockers`
 * lists each with where to fix it.
 * Exposes: `guardedDeletePanel({id, intro, buttonLabel, dialog: {title, message, typed,
 * confirmLabel}, request, refusedCode, refusedText, fixFor(kind), onDeleted})` → element.
 * Element ids: #<id> (panel), #<id>-button, #<id>-dialog (typed #<id>-dialog-typed, confirm
 * #<id>-dialog-confirm), #<id>-blockers (items data-blocker="<kind>").
 * Must not use: the API directly (the caller passes `request`).
 */

import { h, replaceChildren } from '../dom.js';
import { confirmDialog } from './dialog.js';
import { panel } from './panel.js';

export function guardedDeletePanel({ id, intro, buttonLabel, dialog, request, refusedCode, refusedText, fixFor, onDeleted }) {
  const blockers = h('div', { id: `${id}-blockers`, role: 'alert', hidden: true });
  const button = h('button', { type: 'button', id: `${id}-button`, class: 'button button-danger' }, buttonLabel);

  button.addEventListener('click', async () => {
    const outcome = await confirmDialog({
      id: `${id}-dialog`,
      danger: true,
      busyLabel: 'Deleting…',
      ...dialog,
      action: () => request().then(() => ({ deleted: true })).catch((err) => {
        if (err.code === refusedCode) return { refused: err };
        throw err;
      }),
    });
    if (!outcome) return;
    if (outcome.deleted) {
      onDeleted?.();
      return;
    }
    const list = outcome.refused.body?.blockers ?? [];
    replaceChildren(blockers, h('div', { class: 'form-error', tabindex: '-1' },
      h('p', {}, list.length ? refusedText : outcome.refused.message),
      h('ul', { class: 'blockers' }, list.map((b) => {
        const fix = fixFor?.(b.kind);
        return h('li', { dataset: { blocker: b.kind } }, h('strong', {}, b.message), fix ? [' — ', fix] : null);
      }))));
    blockers.hidden = false;
    blockers.firstChild?.focus();
  });

  return panel({ id, title: 'Delete', intro }, h('div', { class: 'stack' }, h('div', { class: 'actions' }, button), blockers));
}
