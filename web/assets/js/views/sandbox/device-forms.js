/**
 * views/sandbox/device-forms.js — the Sandbox page's controls of the simulated Apple side:
 * add N generated devices to a server, move pasted (or filled-in) serials to another server,
 * schedule their MDM migration to a server with a deadline (apple-2026.md §1), release serials
 * from the organisation. Each answers with what changed at the simulated
 * Apple and says to press "Sync now" on the token, since the appliance only learns of it
 * through a sync.
 *
 * Exposes: `deviceForms({servers, tokens, onChanged})` → element.
 * Element ids for tests: #sandbox-add-form, #sandbox-add-server, #sandbox-add-count,
 * #sandbox-add-submit, #sandbox-move-form, #sandbox-move-serials, #sandbox-move-server,
 * #sandbox-move-submit, #sandbox-release-form, #sandbox-release-serials,
 * #sandbox-release-submit, #sandbox-migrate-form, #sandbox-migrate-serials,
 * #sandbox-migrate-server, #sandbox-migrate-days, #sandbox-migrate-submit,
 * #sandbox-fill-token-<move|migrate|release>, #sandbox-fill-<move|migrate|release>, and the
 * answers #sandbox-add-result, #sandbox-move-result, #sandbox-migrate-result,
 * #sandbox-release-result (refused serials with the reason, .sandbox-refused).
 * Must not use: anything but the API, the form helpers and the callbacks it is given.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiGet, apiPost } from '../../api.js';
import { formatNumber } from '../../format.js';
import { adminHref } from '../../router.js';
import { actionsRow, liveValidate, runSubmit, setBusy, textField } from '../../components/form.js';
import { showError, toast } from '../../components/toast.js';

const MAX_SERIALS = 5000;

export function parseSerials(text) {
  return [...new Set(text.split(/[\s,;]+/).map((s) => s.trim().toUpperCase()).filter(Boolean))];
}

function checkSerials(text) {
  const n = parseSerials(text).length;
  if (n === 0) return 'Paste serial numbers (one per line, or separated by spaces or commas), or fill them in from a token.';
  if (n > MAX_SERIALS) return `At most ${formatNumber(MAX_SERIALS)} serial numbers at a time; these are ${formatNumber(n)}.`;
  return null;
}

function serverSelect(id, label, servers) {
  const select = h('select', { id, name: 'server_uuid' }, servers.map((s) => h('option', { value: s.server_uuid }, s.server_name)));
  return { field: h('div', { class: 'field' }, h('label', { for: id }, label), select, h('p', { class: 'field-error', id: `${id}-error`, hidden: true })), select };
}

/** "Now press Sync now": links to the tokens that talk to the servers concerned. */
function syncHint(tokens, uuids) {
  const affected = tokens.filter((t) => uuids.includes(t.server_uuid));
  if (affected.length === 0) return h('p', {}, 'No token of this appliance talks to that server yet, so nothing changes here until you add one.');
  return h('p', {}, 'Now press ', h('strong', {}, 'Sync now'), ' on ',
    affected.map((t, i) => [i ? ', ' : '', h('a', { href: adminHref(`tokens/${t.id}`) }, t.server_name)]),
    ' to see the change here (when Apple’s budget says wait, the button counts down).');
}

function answer(slot, ...content) {
  replaceChildren(slot, h('div', { class: 'callout' }, content));
  slot.focus();
}

function fillFromToken(kind, tokens, target) {
  if (tokens.length === 0) return null;
  const selectId = `sandbox-fill-token-${kind}`;
  const select = h('select', { id: selectId }, tokens.map((t) => h('option', { value: t.id }, t.server_name)));
  const fill = h('button', { type: 'button', class: 'button button-small', id: `sandbox-fill-${kind}` }, 'Fill in its devices');
  fill.addEventListener('click', async () => {
    const restore = setBusy(fill, 'Reading…');
    try {
      const serials = [];
      for (let offset = 0; offset < MAX_SERIALS; offset += 500) {
        const page = await apiGet('/devices', { query: { token: select.value, limit: 500, offset } });
        serials.push(...(page.items ?? []).map((d) => d.serial));
        if ((page.items ?? []).length < 500) break;
      }
      target.value = serials.join('\n');
      target.dispatchEvent(new Event('input', { bubbles: true }));
      toast(`Filled in ${formatNumber(serials.length)} serial numbers.`, { variant: 'info' });
    } catch (err) {
      showError(err, 'Could not read the devices');
    } finally {
      restore();
    }
  });
  return h('div', { class: 'fill-row' }, h('label', { for: selectId }, 'Or take the serials this appliance has for'), select, fill);
}

function serialsField(kind, tokens) {
  const built = textField({ id: `sandbox-${kind}-serials`, name: 'serials', label: 'Serial numbers', multiline: true, rows: 4, hint: 'One per line, or separated by spaces or commas.', attrs: { class: 'mono', autocomplete: 'off' } });
  built.field.append(fillFromToken(kind, tokens, built.input) ?? '');
  return { ...built, validate: liveValidate(built.input, checkSerials) };
}

function resultSlot(id) {
  return h('div', { id, class: 'sandbox-result', tabindex: '-1', role: 'status' });
}

export function deviceForms({ servers, tokens, onChanged }) {
  // Add devices
  const addServer = serverSelect('sandbox-add-server', 'To the server', servers);
  const count = textField({ id: 'sandbox-add-count', name: 'count', label: 'How many devices', type: 'number', value: '10', attrs: { min: '1', max: '5000', class: 'input-number', inputmode: 'numeric' } });
  const checkCount = liveValidate(count.input, (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= 5000 ? null : 'Add 1 to 5,000 devices at a time.'));
  const addSubmit = h('button', { type: 'submit', id: 'sandbox-add-submit', class: 'button button-primary' }, 'Add devices');
  const addResult = resultSlot('sandbox-add-result');
  const addForm = h('form', { id: 'sandbox-add-form', class: 'stack', novalidate: true },
    h('h3', { class: 'subtitle' }, 'Add devices'),
    h('p', { class: 'muted' }, 'As if your organisation bought devices and assigned them to this server in Apple Business Manager.'),
    h('div', { class: 'grid-2' }, addServer.field, count.field), actionsRow(addSubmit), addResult);
  addForm.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(addForm, {
      button: addSubmit, busyLabel: 'Adding…',
      validate: () => [{ input: count.input, message: checkCount() }],
      submit: () => apiPost('/sandbox/devices', { server_uuid: addServer.select.value, count: Number(count.input.value) }),
      onSuccess: (r) => {
        const name = servers.find((s) => s.server_uuid === addServer.select.value)?.server_name;
        const serials = r?.serials ?? [];
        answer(addResult, h('p', {}, `Added ${formatNumber(serials.length)} devices to “${name}” at the simulated Apple: `, h('span', { class: 'mono' }, serials.slice(0, 5).join(', ')), serials.length > 5 ? ' …' : '', '.'), syncHint(tokens, [addServer.select.value]));
        toast(`Added ${formatNumber(serials.length)} devices at the simulated Apple. Now press Sync now.`);
        onChanged?.();
      },
    });
  });

  // Move and release share the serials field and the answer.
  const changeForm = (kind, title, intro, extra, submitLabel, send, extraChecks = () => []) => {
    const serials = serialsField(kind, tokens);
    const submit = h('button', { type: 'submit', id: `sandbox-${kind}-submit`, class: 'button button-primary' }, submitLabel);
    const result = resultSlot(`sandbox-${kind}-result`);
    const form = h('form', { id: `sandbox-${kind}-form`, class: 'stack', novalidate: true },
      h('h3', { class: 'subtitle' }, title), h('p', { class: 'muted' }, intro), serials.field, extra, actionsRow(submit), result);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      runSubmit(form, {
        button: submit, busyLabel: 'Sending…',
        validate: () => [{ input: serials.input, message: serials.validate() }, ...extraChecks()],
        submit: () => send(parseSerials(serials.input.value)),
        onSuccess: (r) => {
          const changed = r?.changed ?? [];
          const unknown = r?.unknown ?? [];
          const refused = r?.refused ?? [];
          answer(result,
            h('p', {}, `${formatNumber(changed.length)} device${changed.length === 1 ? '' : 's'} changed at the simulated Apple.`),
            unknown.length ? h('p', {}, `Not known there: `, h('span', { class: 'mono' }, unknown.slice(0, 10).join(', ')), unknown.length > 10 ? ' …' : '') : null,
            refused.length ? h('ul', { class: 'plain-list sandbox-refused' }, refused.slice(0, 10).map((x) => h('li', {}, h('span', { class: 'mono' }, x.serial_number), `: ${x.reason}`))) : null,
            syncHint(tokens, servers.map((s) => s.server_uuid)));
          toast(`${formatNumber(changed.length)} devices changed at the simulated Apple. Now press Sync now.`);
          onChanged?.();
        },
      });
    });
    return form;
  };

  const moveServer = serverSelect('sandbox-move-server', 'To the server', servers);
  const moveForm = changeForm('move', 'Move devices to another server', 'As if someone reassigned them in Apple Business Manager: the old server’s next sync reports them gone, the new one’s reports them.',
    moveServer.field, 'Move devices', (list) => apiPost('/sandbox/devices/move', { serials: list, server_uuid: moveServer.select.value }));
  const migrateServer = serverSelect('sandbox-migrate-server', 'To the server', servers);
  const days = textField({ id: 'sandbox-migrate-days', name: 'deadline_days', label: 'Deadline in days', type: 'number', value: '14', hint: 'Apple allows 1 to 90 days.', attrs: { min: '1', max: '90', class: 'input-number', inputmode: 'numeric' } });
  const checkDays = liveValidate(days.input, (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= 90 ? null : 'Pick a deadline 1 to 90 days from now.'));
  const migrateForm = changeForm('migrate', 'Migrate devices from another MDM server', 'As if an admin moved devices another server manages to this one in Apple Business, with a deadline: the new server’s next sync shows them with the deadline; at enrollment they re-enroll without an erase.',
    h('div', { class: 'grid-2' }, migrateServer.field, days.field), 'Schedule migration',
    (list) => apiPost('/sandbox/devices/migrate', { serials: list, server_uuid: migrateServer.select.value, deadline_days: Number(days.input.value) }),
    () => [{ input: days.input, message: checkDays() }]);
  const releaseForm = changeForm('release', 'Release devices', 'As if they were released from your organisation in Apple Business Manager: they leave every server. Devices must be released before their token can be deleted.',
    null, 'Release devices', (list) => apiPost('/sandbox/devices/release', { serials: list }));

  return h('div', { class: 'stack' }, addForm, h('hr', { class: 'divider' }), h('div', { class: 'grid-2' }, moveForm, releaseForm), h('hr', { class: 'divider' }), migrateForm);
}
