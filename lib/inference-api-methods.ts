/**
 * The inference REST API's resources and methods, and which Lambda each integrates: what constructs/inference-api.ts
 * and constructs/fine-tuning.ts build, what the integration tests' API Gateway emulator serves
 * (test/integration/support/api-gateway-emulator.ts), and what test/infra/inference-api.test.ts checks the template
 * against and every served route (lambdas/inference/routes.ts) through.
 *
 * The router routes by the request's path itself (lambdas/inference/router-handler.ts gatewayPath, routes.ts), so
 * everything under `/v1` it serves takes one greedy resource, `/v1/{proxy+}`, with one ANY method and its preflight:
 * a new router route costs TesseraPlatform no resource (docs/measured.md "Room in TesseraPlatform"). Explicit resources remain
 * where another Lambda serves a path (the fine-tuning Lambda's jobs, files and `DELETE /v1/models/{proxy+}`; the
 * tenant-users function's `/v1/tenant/users...`), and, so that no served route depends on API Gateway falling back
 * from a more specific resource to `/v1/{proxy+}` (see resolveInferenceMethod), the router's own methods on the
 * resources those need as parents or share: `GET /v1/models`, `GET /v1/models/{proxy+}`, `ANY /v1/tenant/{proxy+}`.
 */

/** The Lambda a method integrates. `tenantUsers` is the router's where the platform has no user pool (`gateway.jwt`). */
export type InferenceApiLambda = 'router' | 'tenantUsers' | 'fineTuning';

/** One method of the inference API. */
export interface InferenceApiMethod {
  /** `GET` | `POST` | `PUT` | `DELETE` | `ANY` | `OPTIONS` (the CORS preflight: no authorizer, no API key). */
  readonly verb: string;
  /** The API Gateway resource path, `/v1/models/{proxy+}`. */
  readonly resource: string;
  readonly lambda: InferenceApiLambda;
}

const method = (verb: string, resource: string, lambda: InferenceApiLambda): InferenceApiMethod => ({ verb, resource, lambda });
/** The methods and the router's preflight of one resource. */
const withPreflight = (resource: string, lambda: InferenceApiLambda, verbs: readonly string[], preflightBy: InferenceApiLambda = 'router') =>
  [...verbs.map((verb) => method(verb, resource, lambda)), method('OPTIONS', resource, preflightBy)];

/**
 * The methods constructs/inference-api.ts builds: the router's and the tenant-users function's. Every preflight is the
 * router's (it answers from the origin index and lists a path's methods from routes.ts, DELETE of a fine-tuned model too).
 */
export const ROUTER_API_METHODS: readonly InferenceApiMethod[] = [
  // Every router route under /v1 that no more specific resource below takes: chat completions, embeddings,
  // moderations, image generations, responses, conversations, usage, and any route added later.
  ...withPreflight('/v1/{proxy+}', 'router', ['ANY']),
  // The parent of /v1/models/{proxy+} (whose DELETE is the fine-tuning Lambda's), with its own GET.
  ...withPreflight('/v1/models', 'router', ['GET']),
  ...withPreflight('/v1/models/{proxy+}', 'router', ['GET']),
  // The tenant's keys, beside the tenant-users function's /v1/tenant/users.
  ...withPreflight('/v1/tenant/{proxy+}', 'router', ['ANY']),
  ...withPreflight('/v1/tenant/users', 'tenantUsers', ['ANY']),
  ...withPreflight('/v1/tenant/users/{userId}/disable', 'tenantUsers', ['POST']),
  ...withPreflight('/v1/tenant/users/{userId}/role', 'tenantUsers', ['PUT']),
];

/**
 * The methods constructs/fine-tuning.ts builds, each integrating the fine-tuning API Lambda, which answers its own
 * resources' preflights; `DELETE /v1/models/{proxy+}` sits on the router's resource, whose preflight is the router's.
 */
export const FINE_TUNING_API_METHODS: readonly InferenceApiMethod[] = [
  ...withPreflight('/v1/fine_tuning/jobs', 'fineTuning', ['POST', 'GET'], 'fineTuning'),
  ...withPreflight('/v1/fine_tuning/jobs/{fine_tuning_job_id}', 'fineTuning', ['GET'], 'fineTuning'),
  ...withPreflight('/v1/fine_tuning/jobs/{fine_tuning_job_id}/cancel', 'fineTuning', ['POST'], 'fineTuning'),
  ...withPreflight('/v1/fine_tuning/jobs/{fine_tuning_job_id}/events', 'fineTuning', ['GET'], 'fineTuning'),
  // OpenAI's pause and resume, refused by the fine-tuning Lambda as its cancel of a finished job (400 naming why).
  ...withPreflight('/v1/fine_tuning/jobs/{fine_tuning_job_id}/pause', 'fineTuning', ['POST'], 'fineTuning'),
  ...withPreflight('/v1/fine_tuning/jobs/{fine_tuning_job_id}/resume', 'fineTuning', ['POST'], 'fineTuning'),
  ...withPreflight('/v1/files', 'fineTuning', ['POST', 'GET'], 'fineTuning'),
  ...withPreflight('/v1/files/{proxy+}', 'fineTuning', ['GET', 'DELETE'], 'fineTuning'),
  // OpenAI's Uploads API: /v1/uploads (POST) and, under one greedy resource, .../{upload_id}/parts, /complete, /cancel (POST).
  ...withPreflight('/v1/uploads', 'fineTuning', ['POST'], 'fineTuning'),
  ...withPreflight('/v1/uploads/{proxy+}', 'fineTuning', ['POST'], 'fineTuning'),
  method('DELETE', '/v1/models/{proxy+}', 'fineTuning'),
];

/** Every method of the inference API. */
export const INFERENCE_API_METHODS: readonly InferenceApiMethod[] = [...ROUTER_API_METHODS, ...FINE_TUNING_API_METHODS];

/** How specific one segment of a resource path is: a literal, a path variable, a greedy path variable. */
const segmentRank = (part: string) => (part.endsWith('+}') ? 2 : part.startsWith('{') ? 1 : 0);

/**
 * The path parameters of `resource` for `path`, or undefined when the resource does not take the path: a literal
 * segment matches itself, `{name}` one non-empty segment, a final `{name+}` one or more (API Gateway Developer Guide,
 * "Set up a proxy integration with a proxy resource": the greedy path variable stands for all child resources).
 * Values are decoded, as API Gateway passes `pathParameters` (the event's `path` keeps the percent-encoding).
 * @param resource `/v1/models/{proxy+}`
 * @param path the request's path, no stage, no trailing slash: `/v1/models/bedrock%2Fanthropic.claude`
 */
export function matchResource(resource: string, path: string): Record<string, string> | undefined {
  const want = resource.split('/').slice(1);
  const got = path.split('/').slice(1);
  const decode = (v: string) => { try { return decodeURIComponent(v); } catch { return v; } };
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const part = want[i]!;
    if (segmentRank(part) === 2) {
      const rest = got.slice(i);
      if (i !== want.length - 1 || !rest.length || rest.some((s) => !s)) return undefined;
      params[part.slice(1, -2)] = decode(rest.join('/'));
      return params;
    }
    const seg = got[i];
    if (seg === undefined || !seg) return undefined;
    if (segmentRank(part) === 1) params[part.slice(1, -1)] = decode(seg);
    else if (part !== seg) return undefined;
  }
  return got.length === want.length ? params : undefined;
}

/** Orders resource paths most specific first: at the first segment where they differ, a literal before `{name}` before `{name+}`. */
function bySpecificity(a: string, b: string): number {
  const ra = a.split('/').slice(1).map(segmentRank);
  const rb = b.split('/').slice(1).map(segmentRank);
  for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
    const d = (ra[i] ?? -1) - (rb[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

/**
 * The method API Gateway (REST) runs for a request, as this model of its resolution has it: of the resources that
 * take the path, the most specific first, the first with a method of the request's verb or an ANY method (the explicit
 * verb before ANY on one resource). Undefined is API Gateway's MISSING_AUTHENTICATION_TOKEN (403 "Missing
 * Authentication Token"; gateway-responses.ts answers it OpenAI's 404 `route_not_found`).
 *
 * That a resource which takes the path but lacks the verb (or has no method: a parent) yields to a less specific one,
 * down to a greedy `{proxy+}`, is not in AWS's documentation; it is what REST APIs were measured to do (ministack
 * pull request 1423, eu-central-1; floci pull request 3399, us-west-2: `POST /jobs/reboot` with only
 * `GET /jobs/{operation_type}` reached `/{proxy+}` ANY). `fallback: false` models the stricter reading, where only
 * the most specific resource counts: INFERENCE_API_METHODS serves every route the same way under both
 * (test/infra/inference-api.test.ts), so only an unserved verb's answer depends on it.
 * @param methods the API's methods
 * @param verb the request's method
 * @param path the request's path without stage and trailing slash
 * @param options.fallback whether a resource without the verb yields to a less specific one @default true
 */
export function resolveInferenceMethod<M extends Pick<InferenceApiMethod, 'verb' | 'resource'>>(
  methods: readonly M[], verb: string, path: string, options: { fallback?: boolean } = {},
): { method: M; pathParameters: Record<string, string> } | undefined {
  // Every resource, the parents the methods' resources need included (`/v1/tenant`: a resource without methods).
  const resources = [...new Set(methods.flatMap((m) => m.resource.split('/').slice(1).map((_, i, parts) => `/${parts.slice(0, i + 1).join('/')}`)))]
    .map((resource) => ({ resource, pathParameters: matchResource(resource, path) }))
    .filter((r): r is { resource: string; pathParameters: Record<string, string> } => r.pathParameters !== undefined)
    .sort((a, b) => bySpecificity(a.resource, b.resource));
  for (const r of options.fallback === false ? resources.slice(0, 1) : resources) {
    const on = methods.filter((m) => m.resource === r.resource);
    const found = on.find((m) => m.verb === verb) ?? on.find((m) => m.verb === 'ANY');
    if (found) return { method: found, pathParameters: r.pathParameters };
  }
  return undefined;
}
