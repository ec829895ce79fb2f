/**
 * enrollment/device-funnel.js — the device funnel (in Apple → profile assigned → pushed →
 * contacted us → attested → enrolled → released) as the server computes it once for every
 * page (`GET /api/v1/devices/counts` → `funnel`): the Dashboard and the Enrollment page both
 * draw it with this function, so they can never disagree.
 *
 * Exposes: `deviceFunnel(counts, {id, emptyText})` → a funnel `<figure>` whose rows carry
 * `data-key` (the step) and `data-value` (its count).
 * Must not use: the API.
 */

import { funnel } from '../charts/funnel.js';

export function deviceFunnel(counts, { id, emptyText = 'No devices yet.' } = {}) {
  const steps = (counts?.funnel ?? []).map((s) => ({ key: s.step, label: s.label, value: Number(s.devices ?? 0) }));
  return funnel({ id, title: 'Enrollment funnel', caption: false, steps, emptyText });
}
