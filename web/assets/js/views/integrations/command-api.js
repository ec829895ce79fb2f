/**
 * views/integrations/command-api.js — the Command API panel of the Integrations page: where a
 * script sends MDM commands (NanoMDM's `/v1/enqueue` and `/v1/push`, under `/api/v1/mdm/`) and
 * how they are checked. While `[mdm] schemas_dir` is not set it says, visibly, that commands
 * and profiles are checked for shape only; with it, which checkout of Apple's schemas is used.
 *
 * Exposes: `commandApiPanel({signal})` → `{element, load}`.
 * Element ids for tests: #command-api, #schema-checks.
 * Must not use: anything but the API and its components.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiGet } from '../../api.js';
import { panel } from '../../components/panel.js';
import { showError } from '../../components/toast.js';

export function commandApiPanel({ signal }) {
  const checks = h('div', { id: 'schema-checks' }, h('p', { class: 'muted' }, 'Loading…'));
  const element = panel({
    id: 'command-api',
    title: 'Command API',
    intro: 'Scripts send any MDM command as a raw plist with PUT /api/v1/mdm/enqueue/{UDID or serial,…} and wake devices with GET /api/v1/mdm/push/{…}, as with NanoMDM; an API token with the Operator role is the credential.',
  }, h('div', { class: 'panel-body' }, checks));

  async function load() {
    try {
      const status = await apiGet('/status', { signal });
      const s = status.schema_checks ?? {};
      if (s.enabled) {
        replaceChildren(checks, h('p', {},
          'Commands and uploaded profiles are checked against Apple’s schemas',
          s.dir ? [' from ', h('code', {}, s.dir)] : null, '.'));
      } else {
        replaceChildren(checks, h('div', { class: ['banner', 'banner-warning'], role: 'status' },
          `${s.notice ?? 'Commands and profiles are checked for shape only.'} `,
          'See the configuration reference (docs/configuration.md, [mdm]).'));
      }
    } catch (err) {
      if (err.name !== 'AbortError') showError(err);
    }
  }
  return { element, load };
}
