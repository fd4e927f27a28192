import { describe, expect, it } from 'vitest';
import { FINE_TUNING_ROUTES, OPENAI_ROUTES, UNSERVED_APIS, unservedRouteMessage, type Route } from '../../../lambdas/inference/routes.js';

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

/**
 * Review (s24w): a new user read `no route POST /v1/conversations: the Conversations API (client.conversations): chain
 * turns with /v1/responses' previous_response_id instead is not served by this gateway; …` (the hint inside the
 * sentence's subject) and "vector stores (…) is not served". Every family's 404 is one sentence: the family as the SDKs
 * call it, `is` or `are` as it is singular or plural, `not served by this gateway`, then the hint, then what is served.
 */
describe('the 404 of an OpenAI API family the gateway does not serve', () => {
  const SHAPE = /^no route POST \/v1\/[a-z_]+\/x: (?<name>[^:;]+ \(client\.[^)]+\)) (?<verb>is|are) not served by this gateway(?:; (?<hint>[^;]+))?; it serves \/v1\//;
  it.each(Object.keys(UNSERVED_APIS))('/v1/%s: "<name> is/are not served by this gateway[; <hint>]; it serves …"', (segment) => {
    const message = unservedRouteMessage('POST', `/v1/${segment}/x`);
    const shape = SHAPE.exec(message);
    expect(shape, message).not.toBeNull();
    const { name, verb, hint } = shape!.groups!;
    expect(name).toBe(UNSERVED_APIS[segment]!.name);
    expect(hint).toBe(UNSERVED_APIS[segment]!.hint);
    // Plural: a list (`speech, transcription and translation`) or a plural noun (`vector stores`); an "... API" is one.
    const subject = name!.replace(/ \(client\..*$/, '');
    expect(verb, subject).toBe(/ and |[^s]s$/.test(subject) && !/ API$/.test(subject) ? 'are' : 'is');
  });

  it('the Conversations API: its hint after the sentence, not inside the name', () => {
    expect(unservedRouteMessage('POST', '/v1/conversations')).toMatch(/^no route POST \/v1\/conversations: the Conversations API \(client\.conversations\) is not served by this gateway; chain turns with \/v1\/responses' previous_response_id instead; it serves /);
  });

  it('a segment that is an Object property (/v1/constructor, /v1/__proto__) names no family', () => {
    for (const path of ['/v1/constructor', '/v1/__proto__', '/v1/toString']) expect(unservedRouteMessage('GET', path)).toMatch(new RegExp(`^no route GET ${path}; it serves /v1/`));
  });
});
