/**
 * Every route of the admin API, as `<METHOD> <API Gateway resource>`: the keys of the handler's route table
 * (lambdas/admin/admin-api.ts `routes`, checked equal by test/unit/lifecycle/admin-routes.test.ts) and what
 * constructs/admin-api.ts builds the REST API's resources and methods from (adminApiMethods). A route added to the
 * table and not here has no method in AWS: API Gateway answers 403 `Missing Authentication Token` before the handler.
 */
export const ADMIN_ROUTES = [
  'GET /admin/tenants', 'POST /admin/tenants',
  'GET /admin/tenants/{id}', 'PATCH /admin/tenants/{id}', 'DELETE /admin/tenants/{id}',
  'POST /admin/tenants/{id}/suspend', 'POST /admin/tenants/{id}/resume', 'POST /admin/tenants/{id}/retry',
  'GET /admin/tenants/{id}/execution', 'PUT /admin/tenants/{id}/gateway', 'PATCH /admin/tenants/{id}/gateway',
  'GET /admin/tenants/{id}/keys', 'POST /admin/tenants/{id}/keys', 'DELETE /admin/tenants/{id}/keys/{keyId}', 'POST /admin/tenants/{id}/keys/{keyId}/rotate',
  'GET /admin/tenants/{id}/users', 'POST /admin/tenants/{id}/users', 'DELETE /admin/tenants/{id}/users/{userId}',
  'POST /admin/tenants/{id}/users/{userId}/disable', 'PUT /admin/tenants/{id}/users/{userId}/role',
  'GET /admin/tenants/{id}/usage', 'GET /admin/tenants/{id}/requests/{requestId}', 'GET /admin/tenants/{id}/drift',
  'GET /admin/drift', 'POST /admin/drift',
  'GET /admin/tiers',
  'POST /admin/upgrades', 'GET /admin/upgrades/{upgradeId}',
] as const;

export type AdminRouteKey = typeof ADMIN_ROUTES[number];

/** The admin API's resources (`/admin/tenants/{id}`), each once, in the order ADMIN_ROUTES first names them. */
export const ADMIN_RESOURCES: readonly string[] = [...new Set(ADMIN_ROUTES.map((r) => r.slice(r.indexOf(' ') + 1)))];

/**
 * The API Gateway method of each admin resource: its one route's method, or `ANY` for a resource with more than one
 * route (`/admin/tenants/{id}`: GET, PATCH, DELETE). Every method integrates the one handler, which routes by the
 * request's method and answers any other with 405 and `Allow` (admin-api.ts handler), so one ANY method stands for
 * several: each method is a resource of TesseraPlatform's 500 (docs/measured.md "Room in TesseraPlatform"), and the six
 * resources with two or three routes took 13 methods where 6 do. API Gateway authorizes an ANY method's call with the
 * request's own method in the `execute-api:Invoke` ARN (`…/v1/PATCH/admin/tenants/acme`), as it did a PATCH method's.
 * @returns resource path → `GET` | `POST` | `PUT` | `PATCH` | `DELETE` | `ANY`, in ADMIN_RESOURCES' order
 */
export function adminApiMethods(routes: readonly string[] = ADMIN_ROUTES): Map<string, string> {
  const verbs = new Map<string, string[]>();
  for (const route of routes) {
    const [verb, resource] = [route.slice(0, route.indexOf(' ')), route.slice(route.indexOf(' ') + 1)];
    verbs.set(resource, [...(verbs.get(resource) ?? []), verb]);
  }
  return new Map([...verbs].map(([resource, vs]) => [resource, vs.length === 1 ? vs[0]! : 'ANY']));
}
