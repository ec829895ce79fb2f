/**
 * rts-form.js — the device page's "Erase and return to service" block (docs/apple-2026.md):
 * an optional Wi-Fi profile (.mobileconfig with a Wi-Fi payload; checked by the server, its
 * refusal shown on the field), the typed serial confirmation, and the button. A Mac is told
 * that it takes the ordinary erase instead; other refusals (system too old) come back from
 * the server with the reason. Exposes: `rtsForm({serial, product, post, run, onChanged})`.
 * Element ids for tests: #device-rts-wifi, #device-rts-confirm, #device-rts.
 */

import { h } from '../dom.js';
import { clearFieldError, setFieldError, textField } from '../components/form.js';

/** Wi-Fi profiles are small; the API's JSON body is at most 256 KiB. */
const WIFI_MAX = 128 * 1024;

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function rtsForm({ serial, product, post, run, onChanged }) {
  if (/^(Mac|iMac|VirtualMac)/.test(product ?? '')) {
    return h('p', { class: 'muted', id: 'device-rts' }, 'Return to Service is for iPhone, iPad, Apple TV and Apple Vision Pro; erase a Mac with the ordinary erase.');
  }
  const { field: wifiField, input: wifi } = textField({
    id: 'device-rts-wifi', name: 'wifi_profile', label: 'Wi-Fi profile', type: 'file', required: false,
    hint: 'A .mobileconfig with the network the device joins after the erase. Leave it out for a device on Ethernet.',
    attrs: { accept: '.mobileconfig,application/x-apple-aspen-config', class: 'file-input' },
  });
  const { field, input } = textField({
    id: 'device-rts-confirm', name: 'confirm', label: `Type the serial number ${serial} to confirm`,
    attrs: { autocomplete: 'off', spellcheck: 'false' },
  });
  const button = h('button', { type: 'button', class: 'button button-danger button-small', id: 'device-rts', disabled: true }, 'Erase and return to service');
  input.addEventListener('input', () => { button.disabled = input.value.trim().toUpperCase() !== serial.toUpperCase(); });
  wifi.addEventListener('change', () => clearFieldError(wifi));
  button.addEventListener('click', () => run(button, 'Erasing…', async () => {
    const body = { confirm: input.value };
    const file = wifi.files?.[0];
    if (file) {
      if (file.size > WIFI_MAX) {
        setFieldError(wifi, `“${file.name}” is ${Math.ceil(file.size / 1024)} KiB; a Wi-Fi profile is at most ${WIFI_MAX / 1024} KiB.`);
        throw new Error('the Wi-Fi profile is too large');
      }
      body.wifi_profile = base64(new Uint8Array(await file.arrayBuffer()));
    }
    return post('return-to-service', body);
  }, 'Return to Service queued.', onChanged));
  return h('div', { class: 'callout callout-warning mdm-erase' },
    h('p', {}, h('strong', {}, 'Erase and return to service. '), 'Everything on the device is deleted; it joins the Wi-Fi network, enrolls again by itself and goes through the setup steps with no one touching it. Turn Activation Lock off first.'),
    wifiField, field, h('div', { class: 'actions' }, button));
}
