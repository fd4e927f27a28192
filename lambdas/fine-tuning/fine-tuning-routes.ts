/**
 * Which requests the fine-tuning service answers, without the service itself: the gateway (lambdas/inference/gateway.ts)
 * routes on these before anything else, and importing fine-tuning-service.ts would load the SageMaker client's
 * commands and their schemas (~0.8 MB of JavaScript) into every gateway, a `tessera serve` without --fine-tuning and
 * each of its --workers threads included.
 */

/** Whether `path` is a Files API route (`/v1/files...`): TrainingFilesService's. */
export function isFilesRoute(path: string): boolean {
  return path === '/v1/files' || path.startsWith('/v1/files/');
}

/** Whether `path` is an Uploads API route (`/v1/uploads...`): TrainingUploadsService's (uploads-service.ts). */
export function isUploadPath(path: string): boolean {
  return path === '/v1/uploads' || path.startsWith('/v1/uploads/');
}

/** Whether `method path` is `POST /v1/uploads/{upload_id}/parts`: a multipart body with its own limit (the upload's part). */
export function isUploadPart(method: string, path: string): boolean {
  return method === 'POST' && /^\/v1\/uploads\/[^/]+\/parts$/.test(path);
}

/**
 * Whether `method path` is one of FineTuningService's routes: jobs (`/v1/fine_tuning/jobs...`), files (isFilesRoute), uploads (isUploadPath),
 * and `DELETE /v1/models/{model}` (a fine-tuned model; every other method of `/v1/models...` is the router's).
 */
export function isFineTuningRoute(path: string, method?: string): boolean {
  return path === '/v1/fine_tuning/jobs' || path.startsWith('/v1/fine_tuning/jobs/') || isFilesRoute(path) || isUploadPath(path)
    || (method === 'DELETE' && path.startsWith('/v1/models/'));
}
