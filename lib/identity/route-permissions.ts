import type { Permission } from './roles.js';

/**
 * The permission each gateway route requires, by method and path (`/v1/...`, no trailing slash).
 * `GET /v1/usage` needs only `usage.read_own`: the endpoint answers the caller's own usage, the
 * tenant's with `usage.read`, `group_by=user|key` with `usage.read_by_caller`, `group_by=model|tag` with `usage.read`.
 */
const ROUTE_PERMISSIONS: ReadonlyArray<readonly [method: string, pattern: RegExp, permission: Permission]> = [
  ['POST', /^\/v1\/chat\/completions$/, 'inference'],
  // Stored chat completions (`store: true`), as stored responses: whoever may call the model reads, updates and deletes them.
  ['GET', /^\/v1\/chat\/completions(\/[^/]+(\/messages)?)?$/, 'inference'],
  ['POST', /^\/v1\/chat\/completions\/[^/]+$/, 'inference'],
  ['DELETE', /^\/v1\/chat\/completions\/[^/]+$/, 'inference'],
  ['POST', /^\/v1\/completions$/, 'inference'],
  ['POST', /^\/v1\/embeddings$/, 'inference'],
  ['POST', /^\/v1\/moderations$/, 'inference'],
  ['POST', /^\/v1\/images\/generations$/, 'inference'],
  ['POST', /^\/v1\/images\/edits$/, 'inference'],
  ['POST', /^\/v1\/images\/variations$/, 'inference'],
  ['POST', /^\/v1\/audio\/(speech|transcriptions|translations)$/, 'inference'],
  ['POST', /^\/v1\/responses$/, 'inference'],
  // Counting a request's input tokens reads the tenant's stored responses and model catalog, as a create does.
  ['POST', /^\/v1\/responses\/input_tokens$/, 'inference'],
  ['GET', /^\/v1\/responses\/[^/]+(\/input_items)?$/, 'inference'],
  ['POST', /^\/v1\/responses\/[^/]+\/cancel$/, 'inference'],
  ['DELETE', /^\/v1\/responses\/[^/]+$/, 'inference'],
  // Conversations are the state of /v1/responses' turns: whoever may call the model keeps them.
  ['POST', /^\/v1\/conversations(\/[^/]+(\/items)?)?$/, 'inference'],
  ['GET', /^\/v1\/conversations\/[^/]+(\/items(\/[^/]+)?)?$/, 'inference'],
  ['DELETE', /^\/v1\/conversations\/[^/]+(\/items\/[^/]+)?$/, 'inference'],
  ['GET', /^\/v1\/models(\/.+)?$/, 'models.read'],
  // A fine-tuned model is the tenant's, called by all its apps: deleting it stops its endpoint for all of them.
  // OpenAI asks its Owner role (API reference, "Delete a fine-tuned model"): here admin only.
  ['DELETE', /^\/v1\/models\/.+$/, 'models.delete'],
  ['GET', /^\/v1\/usage$/, 'usage.read_own'],
  // One request's audit record (no prompt text), as usage: the caller's own requests, the tenant's with `usage.read`.
  ['GET', /^\/v1\/tenant\/requests\/[^/]+$/, 'usage.read_own'],
  ['GET', /^\/v1\/fine_tuning\/jobs(\/[^/]+(\/events)?)?$/, 'fine_tuning.read'],
  // pause and resume are refused (a SageMaker training job is never paused), as writes: what a caller may not do is a 403.
  ['POST', /^\/v1\/fine_tuning\/jobs(\/[^/]+\/(cancel|pause|resume))?$/, 'fine_tuning.write'],
  // OpenAI's Files API, for fine-tuning files: names and sizes are read as jobs are; the content is the
  // training data itself, downloaded only by those who may upload it (a viewer sees that a file exists).
  ['GET', /^\/v1\/files\/[^/]+\/content$/, 'fine_tuning.write'],
  ['GET', /^\/v1\/files(\/[^/]+)?$/, 'fine_tuning.read'],
  ['POST', /^\/v1\/files$/, 'fine_tuning.write'],
  ['DELETE', /^\/v1\/files\/[^/]+$/, 'fine_tuning.write'],
  // OpenAI's Uploads API (a fine-tuning file in parts): each route writes training data, as POST /v1/files.
  ['POST', /^\/v1\/uploads(\/[^/]+\/(parts|complete|cancel))?$/, 'fine_tuning.write'],
  // OpenAI's Batch API: each of a batch's requests is an inference call (made as its creator). Its files
  // (purpose batch, batch_output) are checked by the Batch API itself (batches/batch-service.ts): `inference`.
  ['GET', /^\/v1\/batches(\/[^/]+)?$/, 'inference'],
  ['POST', /^\/v1\/batches(\/[^/]+\/cancel)?$/, 'inference'],
  ['GET', /^\/v1\/tenant\/keys(\/[^/]+)?$/, 'keys.manage'],
  ['POST', /^\/v1\/tenant\/keys(\/[^/]+\/rotate)?$/, 'keys.manage'],
  ['DELETE', /^\/v1\/tenant\/keys\/[^/]+$/, 'keys.manage'],
  ['GET', /^\/v1\/tenant\/users$/, 'users.manage'],
  ['POST', /^\/v1\/tenant\/users(\/[^/]+\/disable)?$/, 'users.manage'],
  ['PUT', /^\/v1\/tenant\/users\/[^/]+\/role$/, 'users.manage'],
];

/**
 * The permission `method path` requires.
 * @returns undefined for a route the table does not know (the gateway then answers 404/405 as before)
 */
export function permissionFor(method: string, path: string): Permission | undefined {
  return ROUTE_PERMISSIONS.find(([m, p]) => m === method && p.test(path))?.[2];
}

/** Every (method, pattern, permission) row, for the role-matrix tests and the docs. */
export const routePermissions = () => ROUTE_PERMISSIONS;
