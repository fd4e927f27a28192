import { describe, expect, it } from 'vitest';
import { MemoryAuditSink } from '../../../lambdas/inference/audit.js';
import type { Authorizer, Caller } from '../../../lambdas/inference/auth.js';
import { Gateway, type GatewayResponder } from '../../../lambdas/inference/gateway.js';
import { GATEWAY_RESPONSES, missingRouteResponse } from '../../../lambdas/inference/gateway-responses.js';
import { localTenant } from '../../../lambdas/inference/local-gateway.js';
import { ProviderRegistry } from '../../../lambdas/inference/providers/registry.js';
import { FINE_TUNING_ROUTES, OPENAI_ROUTES, routeMethods, servedList, UNSERVED_APIS, unservedRouteMessage, type Route } from '../../../lambdas/inference/routes.js';
import { MemoryStore } from '../../../lambdas/inference/stores/memory-store.js';
import { gatewayConfig } from '../../support/gateway-config.js';

/**
 * Review: the 404's list of what the gateway serves was written out by hand beside the route
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
 * Review: a new user read `no route POST /v1/conversations: the Conversations API (client.conversations): chain
 * turns with /v1/responses' previous_response_id instead is not served by this gateway; …` (the hint inside the
 * sentence's subject) and "vector stores (…) is not served". Every family's 404 is one sentence: the family as the SDKs
 * call it, `is` or `are` as it is singular or plural, `not served by this gateway`, then what is served. (The hint
 * clause went with the Conversations API, the one family that had one, when it became served.)
 */
describe('the 404 of an OpenAI API family the gateway does not serve', () => {
  const SHAPE = /^no route POST \/v1\/[a-z_]+\/x: (?<name>[^:;]+ \(client\.[^)]+\)) (?<verb>is|are) not served by this gateway; it serves \/v1\//;
  it.each(Object.keys(UNSERVED_APIS))('/v1/%s: "<name> is/are not served by this gateway; it serves …"', (segment) => {
    const message = unservedRouteMessage('POST', `/v1/${segment}/x`);
    const shape = SHAPE.exec(message);
    expect(shape, message).not.toBeNull();
    const { name, verb } = shape!.groups!;
    expect(name).toBe(UNSERVED_APIS[segment]!.name);
    // Plural: a list (`speech, transcription and translation`) or a plural noun (`vector stores`); an "... API" is one.
    const subject = name!.replace(/ \(client\..*$/, '');
    expect(verb, subject).toBe(/ and |[^s]s$/.test(subject) && !/ API$/.test(subject) ? 'are' : 'is');
  });

  it('the Conversations API is served: a route of the table, no unserved family', () => {
    expect(UNSERVED_APIS).not.toHaveProperty('conversations');
    expect(routeMethods('/v1/conversations')).toEqual(['POST']);
    expect(routeMethods('/v1/conversations/conv_1')).toEqual(['GET', 'POST', 'DELETE']);
    expect(routeMethods('/v1/conversations/conv_1/items')).toEqual(['GET', 'POST']);
    expect(routeMethods('/v1/conversations/conv_1/items/msg_1')).toEqual(['GET', 'DELETE']);
  });

  it('a segment that is an Object property (/v1/constructor, /v1/__proto__) names no family', () => {
    for (const path of ['/v1/constructor', '/v1/__proto__', '/v1/toString']) expect(unservedRouteMessage('GET', path)).toMatch(new RegExp(`^no route GET ${path}; it serves /v1/`));
  });
});

/**
 * Review: API Gateway's own 404 (MISSING_AUTHENTICATION_TOKEN) listed what is served by hand ("/v1/tenant/…", no
 * /v1/files), and gateway.ts kept its own list of paths for its 405. Both come from the route tables now.
 */
describe('API Gateway\'s own 404 and the router\'s 405: from the route tables', () => {
  const WIDGETS: Route = [/^\/v1\/widgets\/[^/]+$/, ['POST']];

  it('MISSING_AUTHENTICATION_TOKEN lists every route of the deployed API (the router\'s and fine-tuning\'s), each once', () => {
    const spec = GATEWAY_RESPONSES.find((r) => r.type === 'MISSING_AUTHENTICATION_TOKEN')!;
    expect(spec).toMatchObject({ statusCode: 404, error: { type: 'invalid_request_error', code: 'route_not_found' } });
    expect(spec.error.message).toMatch(/^Invalid URL: this gateway has no such method and path; it serves \/v1\/.* \(request \$context\.requestId\)$/);
    const listed = listedIn(spec.error.message.replace(/ \(request \$context\.requestId\)$/, ''));
    expect(new Set(listed).size).toBe(listed.length);
    for (const route of [...OPENAI_ROUTES, ...FINE_TUNING_ROUTES]) {
      const path = sample(route);
      expect(listed.some((p) => path === p || path.startsWith(`${p}/`)), `${path} (${route[0]}) listed in: ${spec.error.message}`).toBe(true);
    }
  });

  it('a new route is listed without a second edit', () => {
    expect(servedList([...OPENAI_ROUTES, WIDGETS])).toMatch(/, \/v1\/tenant\/users and \/v1\/widgets$/);
    expect(missingRouteResponse([...OPENAI_ROUTES, ...FINE_TUNING_ROUTES, WIDGETS]).error.message).toContain('/v1/uploads and /v1/widgets (request $context.requestId)');
  });

  it('the router answers a method a new route does not take 405, with Allow from the table (it was a 404: gateway.ts had its own list)', async () => {
    const widgets: Route = [/^\/v1\/widgets$/, ['POST']];
    // Every combination's table built before the route is added, as another file in the same worker may have done.
    for (const fineTuning of [false, true]) for (const tenantKeys of [false, true]) for (const tenantUsers of [false, true]) routeMethods('/v1/widgets', { fineTuning, tenantKeys, tenantUsers });
    (OPENAI_ROUTES as Route[]).push(widgets);
    try {
      const config = gatewayConfig();
      const store = new MemoryStore();
      const acme = localTenant('acme', 'enterprise');
      store.putTenant(acme);
      const authorize = async (): Promise<Caller> => ({ tenantId: 'acme', userId: 'u', role: 'member', tenant: acme });
      const gateway = new Gateway({ config, store, audit: new MemoryAuditSink(), authorizer: { authorize } as unknown as Authorizer, providers: new ProviderRegistry(config, async () => 'k') });
      const answers: Array<{ status: number; body: string; headers?: Record<string, string> }> = [];
      const res: GatewayResponder = { json: (status, body, headers) => void answers.push({ status, body, headers }), stream: () => ({ write: () => undefined, end: () => undefined }) };
      await gateway.handle({ method: 'GET', path: '/v1/widgets', headers: { authorization: 'Bearer x' } }, res);
      expect(answers[0]).toMatchObject({ status: 405, headers: { allow: 'POST, OPTIONS' } });
      expect(JSON.parse(answers[0]!.body).error).toMatchObject({ code: 'method_not_allowed', message: 'GET is not supported on /v1/widgets' });
    } finally {
      (OPENAI_ROUTES as Route[]).splice(OPENAI_ROUTES.indexOf(widgets), 1);
    }
  });
});
