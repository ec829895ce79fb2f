/**
 * views/signin/oidc.js — the OpenID Connect panel of the Sign-in page: the identity provider
 * users sign in with during Setup Assistant when a profile's sign-in source is `oidc`.
 *
 * Owns: `GET`/`PUT`/`DELETE /api/v1/signin/oidc` and `POST /api/v1/signin/oidc/test`; the
 * redirect URI to copy into the provider; the issuer checked as the admin types (https only);
 * the server's field errors next to the field; keeping what was typed when saving fails. The
 * client secret is write-only: the page never receives it, and leaving the field empty keeps
 * the stored one.
 * Exposes: `oidcPanel(ctx)` → element.
 * Element ids for tests: #signin-oidc, #signin-oidc-form, #oidc-<field name> (e.g.
 * #oidc-issuer), #oidc-redirect-uri, #signin-oidc-save, #signin-oidc-test,
 * #signin-oidc-test-result, #signin-oidc-remove.
 * Must not use: anything but the API, the form helpers and the ctx it is given.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiDelete, apiGet, apiPost, request } from '../../api.js';
import { can } from '../../roles.js';
import { badge } from '../../components/badge.js';
import { copyButton } from '../../components/copy.js';
import { confirmDialog } from '../../components/dialog.js';
import { actionsRow, liveValidate, runSubmit, setBusy, textField } from '../../components/form.js';
import { panel } from '../../components/panel.js';
import { showError, toast } from '../../components/toast.js';

function checkIssuer(value) {
  const v = value.trim();
  if (v === '') return 'Enter the provider’s issuer URL, e.g. https://login.example.org/realms/staff.';
  let url;
  try { url = new URL(v); } catch { return 'This is not a URL. Give the issuer as the provider shows it.'; }
  if (url.protocol !== 'https:') return 'The issuer must start with https://: providers are only used over TLS.';
  if (url.search || url.hash) return 'The issuer has no ?query or #fragment.';
  return null;
}

function redirectBox(uri) {
  const input = h('input', { id: 'oidc-redirect-uri', readonly: true, value: uri, 'aria-describedby': 'oidc-redirect-uri-hint' });
  return h('div', { class: 'field' },
    h('label', { for: 'oidc-redirect-uri' }, 'Redirect URI'),
    h('p', { class: 'hint', id: 'oidc-redirect-uri-hint' }, 'Register this exact address as the redirect (callback) URI of the client at your provider.'),
    h('div', { class: 'fingerprint-row' }, input, copyButton({ getText: () => uri, target: input, label: 'Copy redirect URI' })));
}

function testResult(box, result) {
  replaceChildren(box,
    h('p', {}, badge(result.ok ? 'Reachable' : 'Failed', result.ok ? 'success' : 'danger'), ' ',
      result.ok ? 'Discovery, issuer and signing keys are in order.' : 'The steps, in order:'),
    h('ol', {}, result.steps.map((s) => h('li', {}, badge(s.ok ? 'OK' : 'Failed', s.ok ? 'success' : 'danger'), ` ${s.step}: ${s.detail}`))));
}

function settingsForm(view, ctx, reload) {
  const p = view.provider ?? {};
  const owner = can('secrets');
  const field = (name, label, hint, value, extra = {}) => textField({ id: `oidc-${name}`, name, label, hint, value: value ?? '', ...extra });
  const f = {
    provider_name: field('provider_name', 'Name on the button', 'The device shows “Sign in with <name>”. Empty: the issuer’s host name.', p.provider_name, { required: false }),
    issuer: field('issuer', 'Issuer', 'https:// only; the discovery document is read from <issuer>/.well-known/openid-configuration.', p.issuer, { type: 'url', autocomplete: 'off' }),
    client_id: field('client_id', 'Client ID', 'The client registered at the provider for adebox.', p.client_id, { autocomplete: 'off' }),
    client_secret: field('client_secret', 'Client secret', p.client_secret_set ? 'A secret is stored and never shown. Leave empty to keep it; type a new one to replace it.' : 'Stored sealed on the appliance and never shown again.', '', { type: 'password', autocomplete: 'new-password', required: !p.client_secret_set }),
    scopes: field('scopes', 'Scopes', 'Separated by spaces. openid is always asked for. Add the scope your provider needs for the groups claim.', (p.scopes ?? ['openid', 'profile', 'email']).join(' ')),
    username_claim: field('username_claim', 'Username claim', 'Falls back to email, then sub.', p.username_claim ?? 'preferred_username'),
    display_name_claim: field('display_name_claim', 'Display name claim', null, p.display_name_claim ?? 'name'),
    email_claim: field('email_claim', 'E-mail claim', null, p.email_claim ?? 'email'),
    groups_claim: field('groups_claim', 'Groups claim', 'Profiles’ “who may enroll” rule compares these groups.', p.groups_claim ?? 'groups'),
    timeout_seconds: field('timeout_seconds', 'Timeout (seconds)', 'Each step with the provider, 1–10. A device’s page answers within it.', String(p.timeout_seconds ?? 10), { type: 'number', attrs: { min: '1', max: '10', step: '1', inputmode: 'numeric', class: 'input-number' } }),
    ca_pem: field('ca_pem', 'CA certificate to trust (PEM)', 'Only when the provider’s certificate is not from a public CA.', p.ca_pem, { required: false, multiline: true, rows: 4 }),
  };
  const validateIssuer = liveValidate(f.issuer.input, checkIssuer);
  const save = h('button', { type: 'submit', id: 'signin-oidc-save', class: 'button button-primary' }, 'Save provider');
  const test = h('button', { type: 'button', id: 'signin-oidc-test', class: 'button' }, 'Test');
  const remove = h('button', { type: 'button', id: 'signin-oidc-remove', class: 'button button-danger-quiet' }, 'Remove provider');
  const result = h('div', { id: 'signin-oidc-test-result', role: 'status' });
  const form = h('form', { id: 'signin-oidc-form', class: 'stack', novalidate: true },
    redirectBox(view.redirect_uri),
    h('div', { class: 'grid-2' }, [f.provider_name, f.issuer, f.client_id, f.client_secret].map((x) => x.field)),
    f.scopes.field,
    h('div', { class: 'grid-2' }, [f.username_claim, f.display_name_claim, f.email_claim, f.groups_claim].map((x) => x.field)),
    f.timeout_seconds.field, f.ca_pem.field,
    owner ? actionsRow(save, view.provider ? test : null, view.provider ? remove : null) : h('p', { class: 'muted' }, 'Only an Owner can change the provider.'),
    result);
  if (!owner) for (const x of Object.values(f)) x.input.disabled = true;

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const v = (x) => x.input.value.trim();
    runSubmit(form, {
      button: save,
      busyLabel: 'Saving…',
      validate: () => [{ input: f.issuer.input, message: validateIssuer() }],
      submit: () => request('PUT', '/signin/oidc', { body: {
        provider_name: v(f.provider_name) || null, issuer: v(f.issuer), client_id: v(f.client_id),
        client_secret: f.client_secret.input.value || null, scopes: v(f.scopes).split(/\s+/).filter(Boolean),
        username_claim: v(f.username_claim), display_name_claim: v(f.display_name_claim), email_claim: v(f.email_claim),
        groups_claim: v(f.groups_claim), ca_pem: v(f.ca_pem) || null, timeout_seconds: Number(v(f.timeout_seconds)),
      } }),
      onSuccess: (saved) => {
        toast('OpenID Connect provider saved. Use Test to check that the appliance reaches it.');
        reload(saved);
      },
    });
  });
  test.addEventListener('click', async () => {
    const restore = setBusy(test, 'Testing…');
    try {
      testResult(result, await apiPost('/signin/oidc/test', {}, { signal: ctx.signal }));
    } catch (err) {
      showError(err);
    } finally {
      restore();
    }
  });
  remove.addEventListener('click', async () => {
    const done = await confirmDialog({
      title: 'Remove the OpenID Connect provider?', danger: true, confirmLabel: 'Remove provider', typed: p.provider_name,
      message: 'Devices whose profile signs users in with OpenID Connect will stop at the sign-in page until a provider is set up again. Devices already enrolled keep their user.',
      action: () => apiDelete('/signin/oidc'),
    });
    if (done) {
      toast('OpenID Connect provider removed.');
      reload({ redirect_uri: view.redirect_uri, provider: null });
    }
  });
  return form;
}

export function oidcPanel(ctx) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the OpenID Connect settings…'));
  const section = panel({ id: 'signin-oidc', title: 'OpenID Connect', intro: 'Users sign in at your organisation’s identity provider (authorization code with PKCE); the appliance checks the ID token and its groups. The provider should be reachable on the appliance’s host name: see the documentation on Setup Assistant’s web view.' }, body);
  const draw = (view) => replaceChildren(body, settingsForm(view, ctx, draw));
  apiGet('/signin/oidc', { signal: ctx.signal })
    .then(draw)
    .catch((err) => {
      if (err.name === 'AbortError') return;
      replaceChildren(body, h('p', { class: 'error-text' }, `Could not load the OpenID Connect settings: ${err.message}`));
      showError(err);
    });
  return section;
}
