/**
 * views/integrations/form.js — "Add a webhook": name, URL, topics (MicroMDM's and adebox's,
 * as check boxes), "allow http on this network", the outbox limit and an optional secret.
 * On success the secret is shown once, with a copy button.
 *
 * Exposes: `webhookForm({signal, onCreated})` → `{element}`.
 * Must not use: anything but the API and its components.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiGet, apiPost } from '../../api.js';
import { panel } from '../../components/panel.js';
import { copyButton } from '../../components/copy.js';
import { clearFormErrors, setFieldError, showFormError, textField } from '../../components/form.js';
import { toast } from '../../components/toast.js';

export function webhookForm({ signal, onCreated }) {
  const name = textField({ id: 'webhook-name', name: 'name', label: 'Name', hint: 'What receives the events, e.g. “Inventory sync”.' });
  const url = textField({ id: 'webhook-url', name: 'url', label: 'URL', type: 'url', hint: 'https:// address of your receiver (not this appliance).' });
  const limit = textField({ id: 'webhook-max-outbox', name: 'max_outbox', label: 'Outbox limit (events)', type: 'number', required: false, value: '10000', hint: 'When this many wait, the oldest is dropped (and counted).' });
  const secret = textField({ id: 'webhook-given-secret', name: 'secret', label: 'Secret', required: false, autocomplete: 'off', hint: 'Leave empty and adebox makes a strong one. At least 16 characters.' });
  const allowHttp = h('input', { type: 'checkbox', id: 'webhook-allow-http', name: 'allow_http' });
  const topicsBox = h('fieldset', { class: 'field', id: 'webhook-topics', dataset: { field: 'topics' } },
    h('legend', {}, 'Topics'), h('p', { class: 'muted' }, 'Loading the topics…'));
  const topicsError = h('p', { class: 'field-error', id: 'webhook-topics-error', hidden: true });
  const result = h('div', { id: 'webhook-created', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Add webhook');
  const form = h('form', { id: 'webhook-form', novalidate: true },
    name.field, url.field,
    h('div', { class: 'field' }, h('label', { for: 'webhook-allow-http' }, allowHttp, ' Allow http on this network (a receiver on a network you trust)')),
    topicsBox, topicsError, limit.field, secret.field,
    h('div', { class: 'form-actions' }, submit), result);

  apiGet('/integrations/topics', { signal }).then((topics) => {
    replaceChildren(topicsBox, h('legend', {}, 'Topics'), topics.map((t) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'topic', value: t.name }), ` ${t.name}`)));
  }).catch(() => {});

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    topicsError.hidden = true;
    const topics = [...form.querySelectorAll('input[name="topic"]:checked')].map((i) => i.value);
    const body = {
      name: name.input.value, url: url.input.value, topics, allow_http: allowHttp.checked,
      max_outbox: limit.input.value ? Number(limit.input.value) : undefined,
      secret: secret.input.value || undefined,
    };
    submit.disabled = true;
    try {
      const created = await apiPost('/integrations/webhooks', body);
      replaceChildren(result, h('div', { class: 'notice' },
        h('p', {}, h('strong', {}, 'Copy the secret now: '), 'adebox never shows it again. Your receiver checks each request’s X-Adebox-Signature with it (docs/webhooks.md).'),
        h('code', { id: 'webhook-secret' }, created.secret), ' ',
        copyButton({ getText: () => created.secret, label: 'Copy secret' })));
      secret.input.value = '';
      toast('Webhook added');
      onCreated?.(created.subscription);
    } catch (err) {
      const inputs = { name: name.input, url: url.input, max_outbox: limit.input, secret: secret.input };
      if (err.field === 'topics') {
        topicsError.textContent = err.message;
        topicsError.hidden = false;
      } else if (inputs[err.field]) {
        setFieldError(inputs[err.field], err.message);
      } else {
        showFormError(form, err.message);
      }
    } finally {
      submit.disabled = false;
    }
  });

  return { element: panel({ id: 'webhook-add', title: 'Add a webhook' }, form) };
}
