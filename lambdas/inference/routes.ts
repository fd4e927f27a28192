/**
 * The gateway's routes and the HTTP methods each answers: what a CORS preflight lists in
 * `Access-Control-Allow-Methods` and a plain `OPTIONS` in `Allow` (RFC 9110 §9.3.7). Paths are
 * as the gateway sees them (`/v1/...`, no trailing slash, still percent-encoded).
 */
export type Route = readonly [pattern: RegExp, methods: readonly string[]];

/** The routes the router serves (constructs/inference-api.ts declares each method on the API: test/infra/inference-api.test.ts). */
export const OPENAI_ROUTES: readonly Route[] = [
  [/^\/v1\/chat\/completions$/, ['POST']],
  [/^\/v1\/embeddings$/, ['POST']],
  [/^\/v1\/moderations$/, ['POST']],
  [/^\/v1\/responses$/, ['POST']],
  [/^\/v1\/responses\/[^/]+$/, ['GET', 'DELETE']],
  [/^\/v1\/responses\/[^/]+\/input_items$/, ['GET']],
  [/^\/v1\/models$/, ['GET']],
  // Model ids hold `/` and `:` (`bedrock/anthropic.claude-3-5-haiku`), sent encoded (`%2F`) or raw.
  [/^\/v1\/models\/.+$/, ['GET']],
  [/^\/v1\/usage$/, ['GET']],
  // Tessera's own: a tenant admin's keys and users (endpoints/tenant-keys.ts, endpoints/tenant-users.ts).
  [/^\/v1\/tenant\/keys$/, ['GET', 'POST']],
  [/^\/v1\/tenant\/keys\/[^/]+$/, ['GET', 'DELETE']],
  [/^\/v1\/tenant\/keys\/[^/]+\/rotate$/, ['POST']],
  [/^\/v1\/tenant\/users$/, ['GET', 'POST']],
  [/^\/v1\/tenant\/users\/[^/]+\/disable$/, ['POST']],
  [/^\/v1\/tenant\/users\/[^/]+\/role$/, ['PUT']],
];

/** The routes the fine-tuning Lambda serves (constructs/fine-tuning.ts): jobs, and the files they train on. */
export const FINE_TUNING_ROUTES: readonly Route[] = [
  [/^\/v1\/fine_tuning\/jobs$/, ['GET', 'POST']],
  [/^\/v1\/fine_tuning\/jobs\/[^/]+$/, ['GET']],
  [/^\/v1\/fine_tuning\/jobs\/[^/]+\/cancel$/, ['POST']],
  [/^\/v1\/fine_tuning\/jobs\/[^/]+\/events$/, ['GET']],
  // OpenAI's Files API, for fine-tuning files only (lambdas/fine-tuning/files-service.ts).
  [/^\/v1\/files$/, ['GET', 'POST']],
  [/^\/v1\/files\/[^/]+$/, ['GET', 'DELETE']],
  [/^\/v1\/files\/[^/]+\/content$/, ['GET']],
  // OpenAI's `client.models.delete` of a fine-tuned model (model-deletion.ts), on the router's /v1/models/{proxy+}.
  [/^\/v1\/models\/.+$/, ['DELETE']],
];

/**
 * The inference RestApi's `binaryMediaTypes`. A request body of one of these types reaches the
 * Lambdas as bytes (base64, `isBase64Encoded`), not as text: multipart uploads (`POST /v1/files`)
 * arrive byte for byte. A response a Lambda answers base64-encoded goes out as bytes when the
 * request's first `Accept` type is one of these (API Gateway Developer Guide, "Binary media types
 * for REST APIs"): `application/binary` is what the official clients' `files.content` accept, so a
 * file's content leaves as its bytes, not as an escaped JSON string up to twice its size.
 */
export const BINARY_MEDIA_TYPES = ['multipart/form-data', 'application/binary'] as const;

/** Whether a Content-Type or Accept value's (first) media type is one of BINARY_MEDIA_TYPES. */
export const isBinaryMediaType = (value: string | undefined): boolean =>
  BINARY_MEDIA_TYPES.some((t) => value?.split(',')[0]!.split(';')[0]!.trim().toLowerCase() === t);

/**
 * The methods served on `path`, or undefined when no route matches.
 * @param path `/v1/...` without a trailing slash
 * @param fineTuning whether this gateway serves `/v1/fine_tuning/jobs...` @default false
 */
export function routeMethods(path: string, fineTuning = false): readonly string[] | undefined {
  const routes = fineTuning ? [...OPENAI_ROUTES, ...FINE_TUNING_ROUTES] : OPENAI_ROUTES;
  // A path two routes serve (/v1/models/{model}: GET by the router, DELETE by the fine-tuning Lambda) takes both's methods.
  const methods = routes.filter(([pattern]) => pattern.test(path)).flatMap(([, m]) => m);
  return methods.length ? [...new Set(methods)] : undefined;
}
