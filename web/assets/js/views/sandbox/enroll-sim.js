/**
 * views/sandbox/enroll-sim.js — the Sandbox page's "Simulate N devices enrolling" control:
 * simulated iPhones and iPads with synced serials post their MachineInfo, get the signed
 * profile and their identity certificate over ACME, against this appliance. Shows the run's
 * progress while it goes and its report (enrolled, failed with reasons, latency) after.
 *
 * Owns: `POST /api/v1/sandbox/enroll` and polling `GET /api/v1/sandbox/enroll` while a run
 * is under way (stops when the page's signal aborts).
 * Exposes: `enrollSimulation({signal})` → element.
 * Element ids for tests: #sandbox-enroll-form, #sandbox-enroll-count, #sandbox-enroll-submit,
 * #sandbox-enroll-progress, #sandbox-enroll-report (data-enrolled, data-failed on it).
 * Must not use: anything but the API and the components.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiGet, apiPost } from '../../api.js';
import { formatNumber, timeElement } from '../../format.js';
import { adminHref } from '../../router.js';
import { badge } from '../../components/badge.js';
import { actionsRow, liveValidate, runSubmit, textField } from '../../components/form.js';
import { progressBar } from '../../components/progress.js';
import { toast } from '../../components/toast.js';

const MAX = 1000;

function checkCount(v) {
  return /^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= MAX ? null : `Simulate 1 to ${formatNumber(MAX)} devices at a time.`;
}

/** "profile_refused:adebox.enrollment.unknown_device" → words an admin reads. */
function reasonWords(reason) {
  const [what, detail] = reason.split(':');
  const words = {
    profile_refused: 'The profile URL refused the device',
    attestation_refused: 'ACME refused the attestation',
    finalize_refused: 'ACME refused the certificate request',
    order_refused: 'ACME refused the order',
    account_refused: 'ACME refused the account',
    connection_failed: 'Could not connect to this appliance',
    timeout: 'The appliance did not answer in time',
  }[what] ?? what.replaceAll('_', ' ');
  return detail ? `${words} (${detail})` : words;
}

function reportView(status) {
  const r = status.report ?? {};
  const failures = Object.entries(r.failures ?? {});
  const state = status.running
    ? badge('Enrolling…', 'progress')
    : (r.failed ? badge(`${formatNumber(r.failed)} failed`, 'danger') : badge('All enrolled', 'success'));
  return h('div', { id: 'sandbox-enroll-report', class: 'callout', dataset: { enrolled: String(r.enrolled ?? 0), failed: String(r.failed ?? 0) } },
    h('p', {}, state, ' Run started ', timeElement(status.started_at), '.'),
    h('dl', { class: 'details' },
      h('dt', {}, 'Devices'), h('dd', {}, formatNumber(r.devices ?? 0)),
      h('dt', {}, 'Enrolled (certificate issued)'), h('dd', {}, formatNumber(r.enrolled ?? 0)),
      h('dt', {}, 'Released from Setup Assistant'), h('dd', {}, formatNumber(r.released ?? 0)),
      h('dt', {}, 'Failed'), h('dd', {}, formatNumber(r.failed ?? 0)),
      h('dt', {}, 'Time to enroll (median / 99th percentile)'),
      h('dd', {}, `${formatNumber(Math.round(r.latency_ms?.p50 ?? 0))} ms / ${formatNumber(Math.round(r.latency_ms?.p99 ?? 0))} ms`)),
    failures.length
      ? [h('p', {}, 'Why devices failed:'), h('ul', {}, failures.map(([reason, n]) => h('li', {}, `${reasonWords(reason)}: ${formatNumber(n)}`)))]
      : null,
    h('p', {}, 'The ', h('a', { href: adminHref('enrollment') }, 'Enrollment page'), ' shows the funnel these devices went through.'));
}

export function enrollSimulation({ signal }) {
  const count = textField({ id: 'sandbox-enroll-count', name: 'count', label: 'How many devices', type: 'number', value: '10', hint: 'Synced devices with an assigned profile that hold no certificate yet.', attrs: { min: '1', max: String(MAX), class: 'input-number', inputmode: 'numeric' } });
  const validate = liveValidate(count.input, checkCount);
  const submit = h('button', { type: 'submit', id: 'sandbox-enroll-submit', class: 'button button-primary' }, 'Simulate devices enrolling');
  const bar = progressBar({ label: 'Simulated devices enrolling', id: 'sandbox-enroll-progress' });
  bar.element.hidden = true;
  const result = h('div', { id: 'sandbox-enroll-result', tabindex: '-1', role: 'status' });
  const form = h('form', { id: 'sandbox-enroll-form', class: 'stack', novalidate: true },
    count.field, actionsRow(submit), bar.element, result);
  const label = () => {
    const n = Number(count.input.value);
    submit.textContent = Number.isInteger(n) && n >= 1 ? `Simulate ${formatNumber(n)} device${n === 1 ? '' : 's'} enrolling` : 'Simulate devices enrolling';
  };
  count.input.addEventListener('input', label);
  label();

  let timer = null;
  async function poll() {
    timer = null;
    try {
      const status = await apiGet('/sandbox/enroll', { signal });
      show(status);
    } catch (err) {
      if (err.name !== 'AbortError') replaceChildren(result, h('p', { class: 'error-text' }, `Could not read the run: ${err.message}`));
    }
  }
  function show(status) {
    if (!status || !status.started_at) return;
    replaceChildren(result, reportView(status));
    bar.element.hidden = false;
    if (status.running) {
      submit.disabled = true;
      submit.title = 'Simulated devices are enrolling; wait for this run to finish.';
      bar.update({ value: status.done, max: status.total, text: `${formatNumber(status.done)} of ${formatNumber(status.total)} devices done` });
      if (!signal?.aborted) timer = setTimeout(poll, 1000);
    } else {
      submit.disabled = false;
      submit.title = '';
      bar.done(`${formatNumber(status.done)} of ${formatNumber(status.total)} devices done`);
    }
  }
  signal?.addEventListener('abort', () => { if (timer) clearTimeout(timer); });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(form, {
      button: submit, busyLabel: 'Starting…',
      validate: () => [{ input: count.input, message: validate() }],
      submit: () => apiPost('/sandbox/enroll', { count: Number(count.input.value) }),
      onSuccess: (r) => {
        const n = r?.devices ?? 0;
        toast(`${formatNumber(n)} simulated device${n === 1 ? '' : 's'} started enrolling${n < (r?.requested ?? n) ? ` (only ${formatNumber(n)} were left to enroll)` : ''}.`);
        poll();
      },
    });
  });
  poll();
  return form;
}
