import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { nearest } from '../../lib/config/nearest.js';
import { firstDuplicateKey } from '../../lib/json-duplicate-keys.js';
import { printable } from '../../lib/printable.js';
import { requestErrorMap } from '../../lib/request-issues.js';
import { describeIssues, formatPath, jsonOf, leafIssues, paramPath, shownKey, valueAt } from '../../lib/zod-issues.js';
import { IdentityError } from '../identity/identity-error.js';
import { ApiError } from '../shared/api-errors.js';
import { getTenant } from '../shared/registry.js';

/** One admin API route: the event and its `{id}` path parameter (the tenant id) in, the answer out. */
export type Route = (event: APIGatewayProxyEvent, id?: string) => Promise<APIGatewayProxyResult>;

/** The methods the admin API's routes take; a resource asked with another is a 405 naming the ones it has. */
export type AdminMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A route's key: its method and its API Gateway resource as constructs/admin-api.ts declares it, e.g. `GET /admin/tenants/{id}`. */
export type RouteKey = `${AdminMethod} /admin/${string}`;

/**
 * What a route does with an Idempotency-Key header (docs/tenant-lifecycle.md, "Idempotency-Key"):
 * - `honours`: the same key again answers with the first request's execution (admin-api.ts earlierRequest);
 * - `no-op`: accepted, changing nothing: the route is idempotent by what it names (a GET changes nothing);
 * - `requestId`: accepted only when it is the body's requestId, the route's own key (POST /admin/tenants: onboardingKey;
 *   POST /admin/upgrades, whose requestId it is when the body has none: upgrade-routes.ts requestIdOf);
 * - `{ refuses }`: 400 `unsupported_header` naming the route and what the same request sent again does there (`refuses`).
 */
export type IdempotencyKeyUse = 'honours' | 'no-op' | 'requestId' | { refuses: string };

/**
 * One admin API route with the facts the dispatcher (admin-api.ts `handler`) checks before it runs `handle`: each route
 * declares them, so that a route added without them fails type-check.
 */
export interface AdminRoute {
  /**
   * The strict schema of the query string `handle` reads (it parses it itself: 400 naming an unknown parameter), or
   * null: the route reads none, and a query string is refused before it runs (refuseQuery).
   */
  query: z.ZodType | null;
  idempotencyKey: IdempotencyKeyUse;
  handle: Route;
}

/** Admin API routes by key (RouteKey): the methods a resource takes are the keys that name it. */
export type AdminRoutes = Record<RouteKey, AdminRoute>;

export const json = (statusCode: number, body: unknown): APIGatewayProxyResult => ({
  statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});

/**
 * `raw` checked against `schema`, or a 400 naming every field at fault as `path = value: what it takes` (describeIssues),
 * zod's generic messages rewritten to say what the field takes (lib/request-issues.ts requestErrorMap: `tier = 3: must be
 * a string, not a number`, not zod's `Invalid input: expected string, received number`).
 * @throws ApiError 400 `unknown_parameter` for a field the schema does not know (`param`: its path, `allowReplacement.why`),
 *   `invalid_request` for any other problem (`param`: the first problem's path)
 */
export function parse<T>(schema: z.ZodType<T> | { safeParse(raw: unknown, params?: { error?: z.core.$ZodErrorMap }): { success: true; data: T } | { success: false; error: z.ZodError } }, raw: unknown): T {
  const result = schema.safeParse(raw, { error: requestErrorMap });
  if (!result.success) {
    const first = leafIssues(result.error)[0];
    const param = first?.code === 'unrecognized_keys' ? paramPath([...first.path, first.keys[0]!]) : paramPath(first?.path ?? []);
    throw new ApiError(400, describeIssues(result.error, raw).join('; '), 'invalid_request_error', first?.code === 'unrecognized_keys' ? 'unknown_parameter' : 'invalid_request', param || undefined);
  }
  return result.data;
}

/** A value of a request as an error message shows it: JSON-quoted, cut at 120 characters (as lib/zod-issues.ts shows one). */
export const shownValue = (value: unknown): string => {
  const shown = jsonOf(value);
  return shown.length > 120 ? `${shown.slice(0, 117)}...` : shown;
};

/**
 * 400 `unknown_tier` (param `tier`) for a request's tier the platform config does not have: `tier = "profesional": does not
 * exist (did you mean professional?) (tiers: starter, professional, enterprise)`, the nearest tier named as `tessera tenants
 * apply` names it (lib/config/nearest.ts: a misspelling or another case), then every tier the config has. The tier is
 * shown as shownValue shows a value (JSON-quoted, cut at 120 characters: a request's 6 MB tier is not echoed whole), and a
 * value longer than 64 characters (about twice the longest tier name, 31 by the schema's rule: too far from any to be a
 * misspelling) is not compared.
 * @param tier the tier the request named (POST /admin/tenants, PATCH /admin/tenants/{id}, GET /admin/tenants?tier=)
 * @param tiers the tiers of the platform config, in its order
 */
export function unknownTier(tier: string, tiers: readonly string[]): ApiError {
  const near = tier.length <= 64 ? nearest(tier, tiers) : undefined;
  return new ApiError(400, `tier = ${shownValue(tier)}: does not exist${near ? ` (did you mean ${near}?)` : ''} (tiers: ${tiers.join(', ')})`, 'invalid_request_error', 'unknown_tier', 'tier');
}

/**
 * Refuses a query string on a route that reads none (`route`, e.g. `POST /admin/drift`): 400 `unknown_parameter` naming
 * the first parameter and its value. API Gateway passes every query parameter to the Lambda, and such a route dropped
 * them: `POST /admin/drift?tenantId=acme` started a check of every ACTIVE tenant, `…/suspend?dryRun=true` a suspend.
 */
export function refuseQuery(event: APIGatewayProxyEvent, route: string): void {
  const [name, value] = Object.entries(event.queryStringParameters ?? {})[0] ?? [];
  if (name === undefined) return;
  const body = route.startsWith('GET ') || route.startsWith('DELETE ') ? '' : ' (its fields go in the JSON body)';
  throw new ApiError(400, `query parameter ${shownKey(name)} = ${shownValue(value)}: ${route} takes no query parameters${body}`, 'invalid_request_error', 'unknown_parameter', shownKey(name));
}

/** The most values of a repeated query parameter a refusal shows (API Gateway takes query strings of up to 10,240 bytes). */
const MAX_REPEATED_SHOWN = 5;

/**
 * Refuses a query parameter given more than once (`GET /admin/tenants?status=ACTIVE&status=FAILED`): 400
 * `invalid_request` naming it (`param`) and its values, the first `MAX_REPEATED_SHOWN` of them as shownValue shows a value.
 * API Gateway's `queryStringParameters` keep the LAST value of each name (its proxy integration; every value is in
 * `multiValueQueryStringParameters`), and the routes read those: the list answered as if only `status=FAILED` was asked.
 * No admin route takes a list in its query (each filter is one value: `status`, `tier`, `by`, ...). The gateway refuses
 * the same on its routes (lambdas/inference/query-parameters.ts refuseRepeatedQuery).
 * @param route the route as the message names it, e.g. `GET /admin/tenants`
 * @throws ApiError 400 `invalid_request` naming the first parameter given more than once
 */
export function refuseRepeatedQuery(event: APIGatewayProxyEvent, route: string): void {
  const [name, values] = Object.entries(event.multiValueQueryStringParameters ?? {}).find(([, v]) => (v?.length ?? 0) > 1) ?? [];
  if (name === undefined || values === undefined) return;
  const shown = values.slice(0, MAX_REPEATED_SHOWN).map(shownValue).join(', ') + (values.length > MAX_REPEATED_SHOWN ? `, ... (${values.length - MAX_REPEATED_SHOWN} more)` : '');
  throw new ApiError(400, `query parameter ${shownKey(name)} is given ${values.length} times (${shown}): ${route} takes one value of it, and API Gateway passes only the last; give it once`, 'invalid_request_error', 'invalid_request', shownKey(name));
}

/** The media type of a JSON request body (RFC 8259 §11); its parameters (`; charset=utf-8`) aside. */
export const JSON_BODY_TYPES = ['application/json'] as const;

/**
 * Refuses a request body sent with a `Content-Type` other than `types` (its parameters aside, case-insensitive, RFC 9110
 * §8.3.1): 415 `unsupported_media_type` (RFC 9110 §15.5.16) naming it (`param` `Content-Type`). A body sent without one is
 * read as JSON, as `PATCH /admin/tenants/{id}/gateway` reads it (gateway-policy-write.ts refusePatchType). Before, the body
 * was parsed as JSON whatever its type: `curl -d @tenant.json` (curl's default `application/x-www-form-urlencoded`) or a
 * `text/plain` body started an onboarding, and a form-encoded one was answered `invalid_json`, not with what to send.
 * @param route the route as the message names it, e.g. `POST /admin/tenants`
 * @throws ApiError 415 `unsupported_media_type`
 */
export function refuseBodyType(event: Pick<APIGatewayProxyEvent, 'headers'>, route: string, types: readonly string[]): void {
  // By its name in any case (API Gateway keeps the client's; tenant-etag.ts header, which imports this file, does the same).
  const type = Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? undefined;
  if (type === undefined) return;
  if (types.includes(type.split(';')[0]!.trim().toLowerCase())) return;
  throw new ApiError(415, `Content-Type = ${shownValue(type)}: ${route} takes a JSON body, sent as ${types.join(' or ')}`, 'invalid_request_error', 'unsupported_media_type', 'Content-Type');
}

/**
 * The request's JSON body (`{}` without one; a leading UTF-8 byte order mark ignored, as RFC 8259 §8.1 allows), sent with a
 * Content-Type of `types` or none (refuseBodyType).
 * @param types the media types the route reads its body as @default JSON_BODY_TYPES
 * @throws ApiError 415 `unsupported_media_type` for a body of another Content-Type (refuseBodyType)
 * @throws ApiError 400 `invalid_json` with the parser's reason (where it stopped, the start of the text as V8 quotes it,
 *   its control characters shown escaped: lib/printable.ts)
 * @throws ApiError 400 `duplicate_key` naming a field the body gives twice in one object (lib/json-duplicate-keys.ts):
 *   JSON.parse keeps the last, so `{"tenantId":"acme","tenantId":"globex"}` onboarded globex without a word
 */
export function bodyOf(event: APIGatewayProxyEvent, types: readonly string[] = JSON_BODY_TYPES): unknown {
  if (!event.body) return {};
  refuseBodyType(event, `${event.httpMethod} ${event.resource}`, types);
  // A leading byte order mark is not JSON, and RFC 8259 §8.1 lets a parser ignore it: a file saved by a Windows editor
  // and sent with `curl -d @tenant.json` was refused with V8's quote of the invisible U+FEFF.
  const text = (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body).replace(/^\uFEFF/, '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    const reason = printable((e as Error).message.slice(0, 200));
    throw new ApiError(400, `request body is not valid JSON (${reason}); send a JSON object with content-type application/json`, 'invalid_request_error', 'invalid_json');
  }
  const twice = firstDuplicateKey(text);
  if (twice) {
    const path = [...twice.path, twice.key];
    throw new ApiError(400, `${formatPath(path)} = ${shownValue(valueAt(body, path))}: given more than once in one object of the request body (JSON.parse keeps the last value, another parser may keep the first); give each field once`,
      'invalid_request_error', 'duplicate_key', paramPath(path));
  }
  return body;
}

/**
 * The tenant's record.
 * @param param the request's field that named the tenant: `id` (the path) @default 'id'
 * @throws ApiError 404 `tenant_not_found` naming `param`
 */
export async function tenantOr404(id: string, param = 'id'): Promise<TenantRecord> {
  const record = await getTenant(id);
  if (!record) throw new ApiError(404, `${param === 'id' ? '' : `${param} = ${shownValue(id)}: `}tenant "${id}" does not exist`, 'not_found_error', 'tenant_not_found', param);
  return record;
}

const IDENTITY_ERROR_TYPES = { 400: 'invalid_request_error', 403: 'invalid_request_error', 404: 'not_found_error', 409: 'conflict_error' } as const;

/** An IdentityError (the keys' and users' refusals) as the admin API's ApiError with the same status, code and param; any other error as it is. */
export const identityApiError = (e: unknown): unknown =>
  (e instanceof IdentityError ? new ApiError(e.status, e.message, IDENTITY_ERROR_TYPES[e.status], e.code, e.param) : e);

/**
 * The ARN of the execution `name` of state machine `stateMachineArn` (Step Functions' form:
 * `arn:<partition>:states:<region>:<account>:execution:<machine name>:<execution name>`), known before StartExecution answers.
 */
export const executionArnOf = (stateMachineArn: string, name: string): string => `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/**
 * Who sent an admin API request: `admin:<IAM ARN of the SigV4 caller>` (requestContext.identity.userArn, else its caller:
 * the admin API uses IAM auth, constructs/admin-api.ts, and API Gateway fills these from the signature); `admin:unknown`
 * only where API Gateway gave no identity (an unsigned request to a local tool; the local platform gives
 * `local:<access key id>` as the caller: test/integration/support/local-platform.ts localIdentity). Never read from the body. API keys' `createdBy` and the registry
 * history's `actor` (lib/tenant-record.ts LifecycleExecution) take it.
 */
export function adminCaller(event: Pick<APIGatewayProxyEvent, 'requestContext'>): string {
  const identity = event.requestContext?.identity;
  return `admin:${identity?.userArn || identity?.caller || 'unknown'}`;
}
