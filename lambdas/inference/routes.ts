/**
 * The gateway's routes and the HTTP methods each answers: what a CORS preflight lists in
 * `Access-Control-Allow-Methods` and a plain `OPTIONS` in `Allow` (RFC 9110 §9.3.7). Paths are
 * as the gateway sees them (`/v1/...`, no trailing slash, still percent-encoded).
 */
export type Route = readonly [pattern: RegExp, methods: readonly string[]];

/** The routes the router serves (constructs/inference-api.ts declares each method on the API: test/infra/inference-api.test.ts). */
export const OPENAI_ROUTES: readonly Route[] = [
  // POST creates; GET lists the stored chat completions (`store: true`: endpoints/chat-completions-stored.ts).
  [/^\/v1\/chat\/completions$/, ['GET', 'POST']],
  [/^\/v1\/chat\/completions\/[^/]+$/, ['GET', 'POST', 'DELETE']],
  [/^\/v1\/chat\/completions\/[^/]+\/messages$/, ['GET']],
  // OpenAI's legacy text completions (endpoints/completions.ts).
  [/^\/v1\/completions$/, ['POST']],
  [/^\/v1\/embeddings$/, ['POST']],
  [/^\/v1\/moderations$/, ['POST']],
  // OpenAI's image generation, edits and variations (endpoints/images.ts; the last two multipart/form-data).
  [/^\/v1\/images\/generations$/, ['POST']],
  [/^\/v1\/images\/edits$/, ['POST']],
  [/^\/v1\/images\/variations$/, ['POST']],
  // OpenAI's audio endpoints (endpoints/audio.ts).
  [/^\/v1\/audio\/speech$/, ['POST']],
  [/^\/v1\/audio\/transcriptions$/, ['POST']],
  [/^\/v1\/audio\/translations$/, ['POST']],
  [/^\/v1\/responses$/, ['POST']],
  [/^\/v1\/responses\/[^/]+$/, ['GET', 'DELETE']],
  // client.responses.inputTokens.count (endpoints/responses-input-tokens.ts); beside the response ids' GET and DELETE.
  [/^\/v1\/responses\/input_tokens$/, ['POST']],
  [/^\/v1\/responses\/[^/]+\/input_items$/, ['GET']],
  // client.responses.cancel: a background response (responses/background.ts).
  [/^\/v1\/responses\/[^/]+\/cancel$/, ['POST']],
  // OpenAI's Conversations API (endpoints/conversations.ts).
  [/^\/v1\/conversations$/, ['POST']],
  [/^\/v1\/conversations\/[^/]+$/, ['GET', 'POST', 'DELETE']],
  [/^\/v1\/conversations\/[^/]+\/items$/, ['GET', 'POST']],
  [/^\/v1\/conversations\/[^/]+\/items\/[^/]+$/, ['GET', 'DELETE']],
  [/^\/v1\/models$/, ['GET']],
  // Model ids hold `/` and `:` (`bedrock/anthropic.claude-3-5-haiku`), sent encoded (`%2F`) or raw.
  [/^\/v1\/models\/.+$/, ['GET']],
  [/^\/v1\/usage$/, ['GET']],
  // Tessera's own: one request's audit record, by its x-request-id (endpoints/tenant-requests.ts).
  [/^\/v1\/tenant\/requests\/[^/]+$/, ['GET']],
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
  // Refused with 400 job_not_pausable / job_not_resumable (fine-tuning-service.ts refusePause).
  [/^\/v1\/fine_tuning\/jobs\/[^/]+\/pause$/, ['POST']],
  [/^\/v1\/fine_tuning\/jobs\/[^/]+\/resume$/, ['POST']],
  [/^\/v1\/fine_tuning\/jobs\/[^/]+\/events$/, ['GET']],
  // OpenAI's Files API, for fine-tuning files only (lambdas/fine-tuning/files-service.ts).
  [/^\/v1\/files$/, ['GET', 'POST']],
  [/^\/v1\/files\/[^/]+$/, ['GET', 'DELETE']],
  [/^\/v1\/files\/[^/]+\/content$/, ['GET']],
  // OpenAI's Uploads API, for fine-tuning files larger than one request (lambdas/fine-tuning/uploads-service.ts).
  [/^\/v1\/uploads$/, ['POST']],
  [/^\/v1\/uploads\/[^/]+\/parts$/, ['POST']],
  [/^\/v1\/uploads\/[^/]+\/complete$/, ['POST']],
  [/^\/v1\/uploads\/[^/]+\/cancel$/, ['POST']],
  // OpenAI's `client.models.delete` of a fine-tuned model (model-deletion.ts), on the router's /v1/models/{proxy+}.
  [/^\/v1\/models\/.+$/, ['DELETE']],
];

/**
 * The routes of OpenAI's Batch API (lambdas/inference/batches/batch-service.ts), and the Files API it stores its
 * input and output files with (files of purpose `batch` and `batch_output`; `fine-tune` files where fine-tuning is served).
 */
export const BATCH_ROUTES: readonly Route[] = [
  [/^\/v1\/batches$/, ['GET', 'POST']],
  [/^\/v1\/batches\/[^/]+$/, ['GET']],
  [/^\/v1\/batches\/[^/]+\/cancel$/, ['POST']],
  [/^\/v1\/files$/, ['GET', 'POST']],
  [/^\/v1\/files\/[^/]+$/, ['GET', 'DELETE']],
  [/^\/v1\/files\/[^/]+\/content$/, ['GET']],
  // OpenAI's Uploads API for the files above larger than one request (uploads/gateway-uploads.ts; fine-tune uploads where fine-tuning is served).
  [/^\/v1\/uploads$/, ['POST']],
  [/^\/v1\/uploads\/[^/]+\/parts$/, ['POST']],
  [/^\/v1\/uploads\/[^/]+\/complete$/, ['POST']],
  [/^\/v1\/uploads\/[^/]+\/cancel$/, ['POST']],
];

/**
 * The routes of OpenAI's Vector Stores API (lambdas/inference/vector-stores/service.ts), served by `tessera serve` and
 * by the router on AWS where its vector store files' queue is set (lambdas/inference/lambda-deps.ts vectorStoresServed;
 * docs/gateway.md "Vector stores").
 */
export const VECTOR_STORE_ROUTES: readonly Route[] = [
  [/^\/v1\/vector_stores$/, ['GET', 'POST']],
  [/^\/v1\/vector_stores\/[^/]+$/, ['GET', 'POST', 'DELETE']],
  [/^\/v1\/vector_stores\/[^/]+\/search$/, ['POST']],
  [/^\/v1\/vector_stores\/[^/]+\/files$/, ['GET', 'POST']],
  [/^\/v1\/vector_stores\/[^/]+\/files\/[^/]+$/, ['GET', 'POST', 'DELETE']],
  [/^\/v1\/vector_stores\/[^/]+\/files\/[^/]+\/content$/, ['GET']],
  [/^\/v1\/vector_stores\/[^/]+\/file_batches$/, ['POST']],
  [/^\/v1\/vector_stores\/[^/]+\/file_batches\/[^/]+$/, ['GET']],
  [/^\/v1\/vector_stores\/[^/]+\/file_batches\/[^/]+\/cancel$/, ['POST']],
  [/^\/v1\/vector_stores\/[^/]+\/file_batches\/[^/]+\/files$/, ['GET']],
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
 * The methods served on `path`, or undefined when no route matches: what `OPTIONS` answers in `Allow` (and a CORS
 * preflight in `Access-Control-Allow-Methods`) and a 405 in `Allow`, from the routes of this gateway (servedRoutes), so
 * that a path its 404 does not list (`/v1/tenant/users` on `tessera serve`, which has no user pool) is not offered either.
 * @param path `/v1/...` without a trailing slash
 * @param served what this gateway serves (ServedFamilies); a boolean is whether `/v1/fine_tuning/jobs...` and
 *   `/v1/files` are served, with `/v1/tenant/keys` and `/v1/tenant/users` (the deployed router's) @default false
 */
export function routeMethods(path: string, served: boolean | ServedFamilies = false): readonly string[] | undefined {
  const routes = servedRoutes(served);
  // A path two routes serve (/v1/models/{model}: GET by the router, DELETE by the fine-tuning Lambda) takes both's methods.
  const methods = routes.filter(([pattern]) => pattern.test(path)).flatMap(([, m]) => m);
  return methods.length ? [...new Set(methods)] : undefined;
}

/** An OpenAI API family the gateway does not serve (UNSERVED_APIS): what the 404's sentence says of it. */
export interface UnservedApi {
  /** The family as the sentence's subject, with what the SDKs call it: `the Batch API (client.batches)`. */
  readonly name: string;
  /** Whether `name` is plural (`vector stores … are not served`). @default false */
  readonly plural?: boolean;
}

/**
 * OpenAI API families the `openai` SDKs call that the gateway does not serve, by the first path
 * segment under `/v1`, each with what the SDKs call it (`batches` and `vector_stores` where this gateway does not serve
 * them: ServedFamilies): a 404 names the family, not only the path,
 * in a sentence `<name> is/are not served by this gateway` (unservedRouteMessage).
 */
export const UNSERVED_APIS: Readonly<Record<string, UnservedApi>> = {
  batches: { name: 'the Batch API (client.batches)' },
  vector_stores: { name: 'vector stores (client.vectorStores / client.vector_stores)', plural: true },
  assistants: { name: 'the Assistants API (client.beta.assistants)' },
  threads: { name: 'the Assistants API (client.beta.threads)' },
  containers: { name: 'containers (client.containers)', plural: true },
  evals: { name: 'evals (client.evals)', plural: true },
  realtime: { name: 'the Realtime API (client.realtime)' },
  videos: { name: 'video generation (client.videos)' },
  skills: { name: 'skills (client.skills)', plural: true },
  chatkit: { name: 'ChatKit (client.beta.chatkit)' },
  organization: { name: "OpenAI's administration API (client.admin)" },
};

/** `<name> is/are not served by this gateway`: the sentence a 404 says of an unserved API family. */
const unservedSentence = ({ name, plural }: UnservedApi) => `${name} ${plural ? 'are' : 'is'} not served by this gateway`;

/**
 * The path a route serves up to its first parameter: the literal characters of its pattern after
 * `^` (`\/`, `\.`, `\-` unescaped), without a trailing `/` (`/^\/v1\/responses\/[^/]+$/` →
 * `/v1/responses`, `/^\/v1\/models\/.+$/` → `/v1/models`).
 * @param route a route of OPENAI_ROUTES or FINE_TUNING_ROUTES
 * @returns the path, `/v1/...` for every route of the tables (test/unit/inference/routes.test.ts); never throws,
 *   as the tables are read when the module loads
 */
export function routeRoot([pattern]: Route): string {
  const source = pattern.source;
  let root = '';
  for (let i = source.startsWith('^') ? 1 : 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && /[/.-]/.test(source[i + 1] ?? '')) root += source[++i];
    else if (/[A-Za-z0-9_/-]/.test(c)) root += c;
    else break;
  }
  return root.replace(/\/+$/, '');
}

/** `a, b and c`. */
const listed = (items: readonly string[]) => (items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : (items[0] ?? ''));

/**
 * What a gateway serving `routes` serves, for a 404's message: `it serves /v1/a, /v1/b and /v1/c`, the root
 * (routeRoot) of every route in the tables' order, each once, none under another listed root. Derived from the tables, so a new route is listed:
 * the router's 404 (unservedRouteMessage) and API Gateway's own (gateway-responses.ts MISSING_AUTHENTICATION_TOKEN).
 * @param routes OPENAI_ROUTES, and FINE_TUNING_ROUTES after them where fine-tuning is served
 */
export function servedList(routes: readonly Route[]): string {
  const roots = [...new Set(routes.map(routeRoot))];
  // A root under another listed one (/v1/responses/input_tokens under /v1/responses) is that family's: not listed again.
  return `it serves ${listed(roots.filter((root) => !roots.some((other) => root.startsWith(`${other}/`))))}`;
}

/**
 * Which of the route families a gateway may lack it serves: what its 404 lists (servedRoutes). The deployed router
 * serves all three (fine-tuning through the fine-tuning Lambda beside it); `tessera serve` has no Cognito user pool
 * (no `/v1/tenant/users`), fine-tuning only with `--fine-tuning`, and no `/v1/tenant/keys` when started without a
 * key store (LocalGatewayOptions.apiKeys `false`).
 */
export interface ServedFamilies {
  /** `/v1/fine_tuning/jobs...`, `/v1/files...`, `DELETE /v1/models/{model}` (FINE_TUNING_ROUTES). @default false */
  readonly fineTuning?: boolean;
  /** `/v1/tenant/keys...` (a key service: endpoints/tenant-keys.ts). @default true */
  readonly tenantKeys?: boolean;
  /** `/v1/tenant/users...` (a user directory: endpoints/tenant-users.ts). @default true */
  readonly tenantUsers?: boolean;
  /** OpenAI's Batch API: `/v1/batches...` and `/v1/files...` for its files (BATCH_ROUTES). @default false */
  readonly batches?: boolean;
  /** OpenAI's Vector Stores API: `/v1/vector_stores...` (VECTOR_STORE_ROUTES). @default false */
  readonly vectorStores?: boolean;
}

/** The route root (routeRoot) of the tenant keys' and users' routes, by the family that serves them. */
const TENANT_ROOTS = { tenantKeys: '/v1/tenant/keys', tenantUsers: '/v1/tenant/users' } as const;

/**
 * The routes of a gateway serving `served`: OPENAI_ROUTES without the tenant keys' or users' it lacks, then
 * BATCH_ROUTES where the Batch API is served, VECTOR_STORE_ROUTES where vector stores are, then FINE_TUNING_ROUTES where fine-tuning is served.
 * @param served a boolean is `fineTuning` with keys and users served (the router's) @default false
 */
export function servedRoutes(served: boolean | ServedFamilies = false): readonly Route[] {
  const { fineTuning = false, tenantKeys = true, tenantUsers = true, batches = false, vectorStores = false } = typeof served === 'boolean' ? { fineTuning: served } : served;
  // Every request asks (routeMethods): each combination is built once, and again if a table grows
  // (a route added at run time, as test/unit/inference/routes.test.ts does, is served at once).
  const key = `${+fineTuning}${+tenantKeys}${+tenantUsers}${+batches}${+vectorStores}:${OPENAI_ROUTES.length}:${FINE_TUNING_ROUTES.length}:${BATCH_ROUTES.length}:${VECTOR_STORE_ROUTES.length}`;
  let routes = SERVED_ROUTES.get(key);
  if (!routes) {
    const lacked = new Set<string>([...(tenantKeys ? [] : [TENANT_ROOTS.tenantKeys]), ...(tenantUsers ? [] : [TENANT_ROOTS.tenantUsers])]);
    const kept = lacked.size ? OPENAI_ROUTES.filter((route) => !lacked.has(routeRoot(route))) : OPENAI_ROUTES;
    routes = batches || fineTuning || vectorStores ? [...kept, ...(batches ? BATCH_ROUTES : []), ...(vectorStores ? VECTOR_STORE_ROUTES : []), ...(fineTuning ? FINE_TUNING_ROUTES : [])] : kept;
    SERVED_ROUTES.set(key, routes);
  }
  return routes;
}
const SERVED_ROUTES = new Map<string, readonly Route[]>();

/** servedList of what a gateway serving `served` serves (servedRoutes). */
const servedHere = (served: boolean | ServedFamilies) => servedList(servedRoutes(served));

/**
 * The message of the 404 `route_not_found` for a method and path no route serves, saying why where
 * a client's setting explains it:
 * - a path outside `/v1` that is a route of this gateway (`served`) once `/v1` is put in front (`/chat/completions`):
 *   the client's base URL lacks `/v1` (LangChain's `base_url`, LiteLLM's `api_base` are often set so);
 * - a path under `/v1/v1/`: the base URL ends in `/v1` and the client adds it again;
 * - an OpenAI API family the gateway does not serve (UNSERVED_APIS): named as the SDKs call it, in a
 *   sentence `<name> is/are not served by this gateway`.
 * Every other path: what the gateway serves (as API Gateway's own 404 lists it on the deployed path).
 * @param method the request's method
 * @param path the path without its trailing slash, as the caller sent it (at most 200 characters quoted)
 * @param served what this gateway serves (ServedFamilies): what the message lists; a boolean is whether
 *   `/v1/fine_tuning/jobs...` and `/v1/files` are served, with `/v1/tenant/keys` and `/v1/tenant/users` (the router's) @default false
 */
export function unservedRouteMessage(method: string, path: string, served: boolean | ServedFamilies = false): string {
  const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path || '/';
  const head = `no route ${method} ${shown}`;
  // Only a path this gateway serves once /v1 is put in front: `/tenant/users` on `tessera serve` (no user pool) is not.
  if (!path.startsWith('/v1/') && routeMethods(`/v1${path}`, served)) {
    return `${head}: the gateway's paths start with /v1; end the client's base URL with /v1 (base_url / baseURL: 'https://<gateway host>/v1')`;
  }
  if (path.startsWith('/v1/v1/')) return `${head}: the path holds /v1 twice; the client's base URL ends with /v1 and the client adds it again: set it to 'https://<gateway host>/v1' once`;
  const segment = path.split('/')[2] ?? '';
  // Own keys only: /v1/constructor and /v1/__proto__ name no family (they were "[object Object] is not served").
  const families = typeof served === 'boolean' ? { fineTuning: served } : served;
  const family = Object.hasOwn(UNSERVED_APIS, segment) && !(segment === 'batches' && families.batches) && !(segment === 'vector_stores' && families.vectorStores) ? UNSERVED_APIS[segment] : undefined;
  return family ? `${head}: ${unservedSentence(family)}; ${servedHere(served)}` : `${head}; ${servedHere(served)}`;
}
