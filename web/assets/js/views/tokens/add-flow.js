/**
 * views/tokens/add-flow.js — "Add a token" as a guided panel in three steps: 1 make this
 * appliance's key and download its public key, 2 what to do in Apple Business Manager (in
 * the sandbox: let the simulated ABM do it and hand back the .p7m), 3 upload the .p7m with the
 * Apple Account. The key is kept by the appliance (a pending key), and its id is in the URL
 * (`?add=<key id>`), so a reload — or a trip to Apple Business Manager that takes a day —
 * comes back to the same step.
 *
 * Exposes: `addFlow({sandbox, onAdded, onKeysChanged})` → `{element, selectKey(key | null),
 * setWaiting(n)}`.
 * Element ids for tests: #add-token, #add-key-make, #add-key-download, #add-key-fingerprint,
 * #rehearse-abm, #rehearse-server-name, #rehearse-create, #rehearse-download, #rehearse-use,
 * #add-token-form, #add-token-file (the .p7m text), #add-token-apple-id, #add-token-submit.
 * Must not use: anything but the API, the form helpers and the callbacks it is given.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiPost, apiUrl } from '../../api.js';
import { formatNumber, timeElement } from '../../format.js';
import { setQuery } from '../../router.js';
import { actionsRow, liveValidate, runSubmit, setBusy, textField } from '../../components/form.js';
import { panel } from '../../components/panel.js';
import { showError, toast } from '../../components/toast.js';
import { formatFingerprint } from '../settings/tls-info.js';
import { appleIdField, textDownloadLink, tokenFileField } from '../../tokens/upload-fields.js';

function step(number, title, ...content) {
  const status = h('span', { class: 'step-status' });
  const element = h('li', { class: 'step', dataset: { step: String(number) } },
    h('h3', { class: 'step-title' }, h('span', { class: 'step-number', 'aria-hidden': 'true' }, String(number)),
      h('span', { class: 'sr-only' }, `Step ${number}: `), title, ' ', status),
    h('div', { class: 'step-body' }, content));
  return { element, status };
}

function abmInstructions() {
  return h('ol', { class: 'instructions' },
    h('li', {}, 'Sign in to Apple Business Manager (business.apple.com) or Apple School Manager (school.apple.com) with an account that has the Administrator or Device Enrollment Manager role.'),
    h('li', {}, 'Open your name at the bottom left → Preferences → Your MDM Servers, and choose Add. Name the server after this appliance (for example the site it serves).'),
    h('li', {}, 'Under “Upload Public Key”, choose the .pem file from step 1, then Save.'),
    h('li', {}, 'Choose “Download Token” on the new server and confirm. Your browser saves a file ending in .p7m: that is the server token for step 3.'),
    h('li', {}, 'Assign devices to the new server there (Devices → Edit MDM Server), or set it as the default server for new purchases.'));
}

/** The sandbox's stand-in for Apple Business Manager: makes the server and hands back the .p7m. */
function rehearsal(getKey, onToken) {
  const name = textField({ id: 'rehearse-server-name', name: 'server_name', label: 'Name of the new MDM server', value: 'Rehearsal server', autocomplete: 'off' });
  const checkName = liveValidate(name.input, (v) => (v.trim() === '' ? 'Give the server a name, as you would in Apple Business Manager.' : null));
  const create = h('button', { type: 'submit', id: 'rehearse-create', class: 'button button-primary' }, 'Create the server and issue its token');
  const result = h('div', { id: 'rehearse-result', class: 'stack', 'aria-live': 'polite' });
  const form = h('form', { id: 'rehearse-abm', class: 'rehearsal stack', novalidate: true },
    h('p', { class: 'rehearsal-label' }, 'Sandbox: rehearse this step'),
    h('p', {}, 'Here the simulated Apple Business Manager does step 2 for you: it creates an MDM server with the public key of step 1 and hands back its token, just as Apple would.'),
    name.field, actionsRow(create), result);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(form, {
      button: create,
      busyLabel: 'The simulated ABM is making the token…',
      validate: () => [{ input: name.input, message: checkName() }],
      submit: () => apiPost('/sandbox/abm/servers', { key_id: getKey()?.id, server_name: name.input.value.trim() }),
      onSuccess: (issued) => {
        const use = h('button', { type: 'button', id: 'rehearse-use', class: 'button' }, 'Put it into step 3 for me');
        use.addEventListener('click', () => onToken(issued.token_p7m));
        replaceChildren(result,
          h('p', { class: 'callout' }, `The simulated Apple Business Manager created the MDM server “${issued.server_name}” and issued its token. Download it and choose it in step 3, as you would with Apple’s file.`),
          actionsRow(textDownloadLink(issued.token_p7m, issued.token_file_name, { id: 'rehearse-download', label: `Download ${issued.token_file_name}` }), use));
        toast(`The simulated ABM created “${issued.server_name}”. Now upload its token in step 3.`);
      },
    });
  });
  return form;
}

export function addFlow({ sandbox, onAdded, onKeysChanged }) {
  let key = null;
  let waiting = 0;

  const make = h('button', { type: 'button', id: 'add-key-make', class: 'button button-primary' }, 'Make a key');
  const keySlot = h('div', { class: 'stack' });
  const one = step(1, 'Make this appliance’s key and download its public key', keySlot);

  const file = tokenFileField({ id: 'add-token-file' });
  const appleId = appleIdField({ id: 'add-token-apple-id' });
  const submit = h('button', { type: 'submit', id: 'add-token-submit', class: 'button button-primary' }, 'Add token');
  const form = h('form', { id: 'add-token-form', class: 'stack', novalidate: true }, file.field, appleId.field, actionsRow(submit));
  const uploadSet = h('fieldset', { class: 'plain-fieldset' }, h('legend', { class: 'sr-only' }, 'Upload the token'), form);

  const abmSet = h('fieldset', { class: 'plain-fieldset' }, h('legend', { class: 'sr-only' }, 'In Apple Business Manager'),
    abmInstructions(),
    sandbox ? rehearsal(() => key, (text) => {
      file.fill(text);
      file.input.focus();
      toast('The token is in step 3. Enter the Apple Account and choose Add token.', { variant: 'info' });
    }) : null);
  const two = step(2, 'In Apple Business Manager: create the MDM server and download its token', abmSet);
  const three = step(3, 'Upload the token', h('p', { class: 'muted' }, 'adebox decrypts the token with the key of step 1 and checks it with Apple before keeping it. Its first sync starts right away.'), uploadSet);

  const element = panel({ id: 'add-token', title: 'Add a token', intro: 'One token per MDM server in Apple Business Manager. Apple encrypts the token to this appliance’s public key; the private key never leaves the appliance.' },
    h('ol', { class: 'steps' }, one.element, two.element, three.element));

  make.addEventListener('click', async () => {
    const restore = setBusy(make, 'Making the key (a second or two)…');
    try {
      const made = await apiPost('/tokens/keys', {});
      restore();
      selectKey(made);
      onKeysChanged?.();
      toast('Key made. Download its public key, then continue in Apple Business Manager.');
      document.getElementById('add-key-download')?.focus();
    } catch (err) {
      restore();
      showError(err, 'Could not make the key');
    }
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(form, {
      button: submit,
      busyLabel: 'Checking the token with Apple…',
      validate: () => [
        { input: file.input, message: file.validate() },
        { input: appleId.input, message: appleId.validate() },
      ],
      submit: () => apiPost('/tokens', { key_id: key?.id, token: file.input.value, apple_id: appleId.input.value.trim() }),
      onSuccess: (token) => {
        file.fill('');
        toast(`Token for “${token.server_name}” added. Its first sync has started.`);
        selectKey(null);
        onAdded?.(token);
      },
      onError: (err) => {
        if (err.code === 'not_found') onKeysChanged?.();
        return false;
      },
    });
  });

  function render() {
    if (key) {
      replaceChildren(keySlot,
        h('p', {}, 'Key made ', timeElement(key.created_at), ' by ', key.created_by, '. Its SHA-256 fingerprint:'),
        h('p', { class: 'fingerprint small-fingerprint', id: 'add-key-fingerprint' }, formatFingerprint(key.fingerprint_sha256)),
        actionsRow(
          h('a', { class: 'button button-primary', id: 'add-key-download', href: apiUrl(`/tokens/keys/${encodeURIComponent(key.id)}/public-key.pem`), download: `adebox-public-key-${key.id}.pem` }, 'Download the public key (.pem)'),
          restartButton()));
    } else {
      replaceChildren(keySlot,
        h('p', {}, 'The appliance makes an RSA key pair for this token. You upload its public key in Apple Business Manager in step 2.'),
        waiting > 0 ? h('p', { class: 'callout' }, `${formatNumber(waiting)} key${waiting === 1 ? ' is' : 's are'} already waiting for a token (listed above): choose Continue there to pick up where you left off, or make a new key.`) : null,
        actionsRow(make));
    }
    one.status.replaceChildren(key ? doneMark() : nowMark());
    two.status.replaceChildren(key ? nowMark() : laterMark());
    three.status.replaceChildren(key ? nowMark() : laterMark());
    abmSet.disabled = !key;
    uploadSet.disabled = !key;
    element.dataset.key = key?.id ?? '';
  }

  function restartButton() {
    const again = h('button', { type: 'button', class: 'button', id: 'add-key-restart' }, 'Use a new key instead');
    again.addEventListener('click', () => {
      selectKey(null);
      make.focus();
    });
    return again;
  }

  /** Continues with a pending key (or starts over with `null`); the URL remembers it. */
  function selectKey(next) {
    key = next;
    const params = new URLSearchParams(window.location.search);
    if (key) params.set('add', key.id);
    else params.delete('add');
    setQuery(params);
    render();
  }

  function setWaiting(n) {
    waiting = n;
    if (!key) render();
  }

  render();
  return { element, selectKey, setWaiting, currentKey: () => key };
}

const doneMark = () => h('span', { class: 'badge badge-success' }, 'Done');
const nowMark = () => h('span', { class: 'badge badge-info' }, 'Next');
const laterMark = () => h('span', { class: 'badge badge-neutral' }, 'After step 1');
