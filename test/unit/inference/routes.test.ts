import { describe, expect, it } from 'vitest';
import { FINE_TUNING_ROUTES, OPENAI_ROUTES, unservedRouteMessage, type Route } from '../../../lambdas/inference/routes.js';

/**
 * Review (s24t): the 404's list of what the gateway serves was written out by hand beside the route
 * table, and had drifted from it (Tessera's own /v1/tenant/keys and /v1/tenant/users, served by the
 * router, were not listed); a new route needed a second edit to be listed.
 */

/** A path the route serves: its pattern with each parameter (`[^/]+`, `.+`) as `id-1`, unescaped. */
const sample = ([pattern]: Route) =>
  pattern.source.replace(/^\^|\$$/g, '').replace(/\[\^\\?\/\]\+|\.\+/g, 'id-1').replace(/\\(.)/g, '$1');

/** The paths the 404 for an unknown path says are served. */
const listedIn = (message: string) => message.slice(message.indexOf('it serves ') + 'it serves '.length).split(/, | and /);

describe('the 404 route_not_found: what the gateway serves', () => {
  it.each([
    ['the router', false, OPENAI_ROUTES],
    ['the router and fine-tuning', true, [...OPENAI_ROUTES, ...FINE_TUNING_ROUTES]],
  ] as const)('names every route %s serves, by the path it is under', (_name, fineTuning, routes) => {
    const message = unservedRouteMessage('GET', '/v1/nothing-here', fineTuning);
    const listed = listedIn(message);
    for (const route of routes) {
      const path = sample(route);
      expect(route[0].test(path), `sample ${path} of ${route[0]}`).toBe(true);
      expect(listed.some((p) => path === p || path.startsWith(`${p}/`)), `${path} (${route[0]}) listed in: ${message}`).toBe(true);
    }
  });

  it('lists each path once, and none that is not served (fine-tuning\'s only where served)', () => {
    for (const [fineTuning, routes] of [[false, OPENAI_ROUTES], [true, [...OPENAI_ROUTES, ...FINE_TUNING_ROUTES]]] as const) {
      const listed = listedIn(unservedRouteMessage('POST', '/v1/batches', fineTuning));
      expect(new Set(listed).size).toBe(listed.length);
      for (const p of listed) expect(routes.some((route) => sample(route) === p || sample(route).startsWith(`${p}/`)), `${p} served`).toBe(true);
    }
    expect(listedIn(unservedRouteMessage('GET', '/v1/nothing-here'))).not.toContain('/v1/files');
  });
});
