import { type SageMakerClient, CreateTrainingJobCommand, DescribeTrainingJobCommand, StopTrainingJobCommand } from '@aws-sdk/client-sagemaker';
import { randomBytes } from 'node:crypto';
import { jobEvent, nowSeconds } from './job-events.js';
import { MIN_TRAINING_EXAMPLES } from './example-count.js';
import type { PlatformConfig, TierConfig } from '../../lib/config/schema.js';
import {
  ACTIVE_STATUSES, CreateFineTuningJobRequest, fineTunedModelId, HYPERPARAMETER_DEFAULTS, modelIdOfJob, Hyperparameters, PLATFORM_CHOSEN_FIELDS, toOpenAiJob, TRAINING_FILES_PREFIX, trainingJobName,
  type FineTuningJob,
} from '../../lib/fine-tuning.js';
import { parseJson, parseWith } from '../inference/request-body.js';
import type { AuditRecord } from '../inference/audit.js';
import type { Caller } from '../inference/auth.js';
import { forbidden, GatewayError, invalid, limited, notFound } from '../inference/openai-errors.js';
import { createTrainingJobInput, trainingTarget, type TrainingTarget } from './sagemaker-requests.js';
import { resolveTrainingFile } from './training-file.js';
import { cursorQuery, integerQuery, refuseRepeatedQuery, refuseUnknownQuery, refuseUnknownRouteQuery } from '../inference/query-parameters.js';
import { ConcurrentJobLimitError, DeployedModelLimitError, slotsInUse, type FineTuningStore } from './stores/job-store.js';
import { errorCause } from '../shared/error-cause.js';
import { createRequestHash, RETRY_WINDOW_SECONDS } from '../inference/sdk-retry.js';
import { awaitFirstAttempt, pendingKey, underNote, type PendingCreates } from '../inference/pending-creates.js';
import { TrainingFilesService, type FilesResponse } from './files-service.js';
import { isFilesRoute, isUploadPath } from './fine-tuning-routes.js';
import { TrainingUploadsService } from './uploads-service.js';
import { MemoryFileStore, type TrainingFileStore } from './stores/file-store.js';
import { deleteFineTunedModel, type ModelDeletionDeps } from './model-deletion.js';
import { exists } from './retire-fine-tuned-models.js';
import { notServedMessage, SERVING_STATUSES, type TenantStatus } from '../../lib/tenant-record.js';

export interface FineTuningDeps {
  config: PlatformConfig;
  jobs: FineTuningStore;
  /** SageMaker acting as the tenant's training launcher role, in the tenant's account (the role is named by the tenant and account only). */
  sageMaker: (target: Pick<TrainingTarget, 'tenantId' | 'accountId'>) => Promise<SageMakerClient>;
  /** Files uploaded with `POST /v1/files`. @default - in memory (`tessera serve` without S3) */
  files?: TrainingFileStore;
  /**
   * The registry's `fineTunedModels`, for `DELETE /v1/models/{model}` (model-deletion.ts).
   * @default - none: that route answers 404 `route_not_found`
   */
  models?: ModelDeletionDeps['models'];
  /**
   * The tenant's registry status read strongly consistent (stores/dynamodb-tenant-models.ts consistentTenantStatus):
   * checked after a job is recorded and before its CreateTrainingJob, the fence against an offboarding's
   * retirement (retire-fine-tuned-models.ts). @default - `caller.tenant.status` (the request's own read:
   * in memory, `tessera serve`, that read is current; with `serve --dynamodb` it is the table's eventually
   * consistent read, which is enough there: serve's jobs are in its memory, seen by no retirement, so no fence applies)
   */
  tenantStatus?: (tenantId: string) => Promise<TenantStatus | undefined>;
  /**
   * The Uploads API's limits (uploads-service.ts): the largest part and the largest upload, in bytes. The fine-tuning
   * Lambda passes LAMBDA_MAX_PART_BYTES and LAMBDA_MAX_UPLOAD_BYTES. @default - `tessera serve`'s: SERVE_MAX_PART_BYTES, SERVE_MAX_UPLOAD_BYTES
   */
  uploads?: { maxPartBytes: number; maxUploadBytes: number };
  /**
   * The notes of the creates still running (inference/pending-creates.ts): the `fine-tune` uploads still being stored and
   * the job creates still making their job; an official client's retry of `files.create` or `fine_tuning.jobs.create`
   * arriving meanwhile waits for its first attempt. @default - none: such a retry stores a second file / makes a second job
   */
  pending?: PendingCreates;
}

/** An answer: JSON, or a file's content when `contentType` is set. */
export type FineTuningResponse = FilesResponse;

/** One request to the fine-tuning Lambda's routes. `bytes`: the body as received, for `POST /v1/files` (multipart). */
export interface FineTuningRequest {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  /** The query parameter names given more than once (GatewayRequest `repeatedQuery`): a 400 on every route. @default - none */
  repeatedQuery?: readonly string[];
  body?: string;
  bytes?: Uint8Array;
  contentType?: string;
  /**
   * The official client's retry number (`x-stainless-retry-count`, inference/sdk-retry.ts sdkRetryOf): a retried
   * `POST /v1/fine_tuning/jobs` whose first attempt made its job is answered that job (sdk-retry.ts RETRY_WINDOW_SECONDS;
   * one whose first attempt still runs waits for it: create),
   * one of `POST /v1/uploads/{id}/complete` whose first attempt completed the upload the completed upload (uploads-service.ts).
   * @default - a first attempt
   */
  sdkRetry?: number;
  /**
   * How long a retry of `POST /v1/files`, `POST /v1/fine_tuning/jobs` or `POST /v1/uploads/{id}/complete` waits for its
   * first attempt still running, in ms (inference/pending-creates.ts retryWaitMsOf: half the timeout its client states). @default 0
   */
  retryWaitMs?: number;
  /**
   * Aborted when too little of the invocation is left to start a training job and answer it (the fine-tuning Lambda:
   * its remaining time less TRAINING_START_MARGIN_MS): a create past it starts nothing and answers 503
   * `request_deadline_exceeded`. @default - never (`tessera serve` has no deadline)
   */
  deadline?: AbortSignal;
}

/**
 * The time the fine-tuning Lambda keeps, before its own and API Gateway's 29 s run out, to start a training job and
 * answer it, in milliseconds: CreateTrainingJob (an answer in about a second, more with the SDK's retries), the job
 * record's update (one DynamoDB transaction) and the answer. A create that reaches CreateTrainingJob with less left
 * starts nothing: past API Gateway's 29 s the caller gets a 504 and its client retries, so a training job started
 * then was a second one nobody asked for (and a Lambda cut by its timeout between the two left the job
 * `validating_files` for good).
 */
export const TRAINING_START_MARGIN_MS = 10_000;

/** The audit action of each route. */
const ROUTE_ACTIONS: Record<string, string> = {
  'POST jobs': 'job.create', 'GET jobs': 'job.list', 'GET jobs/:id': 'job.read', 'POST jobs/:id/cancel': 'job.cancel', 'GET jobs/:id/events': 'job.events',
  'POST jobs/:id/pause': 'job.pause', 'POST jobs/:id/resume': 'job.resume',
};

/** The query parameters each job route takes (OpenAI API reference); every other route takes none. */
const JOB_QUERY: Record<string, readonly string[]> = { 'GET jobs': ['after', 'limit', 'metadata', 'metadata['], 'GET jobs/:id/events': ['after', 'limit'] };

const JOB_PATH = /^\/v1\/fine_tuning\/jobs(?:\/(?<id>[^/]+)(?:\/(?<action>cancel|events|pause|resume))?)?$/;
/** OpenAI's job routes this gateway does not serve, and why (docs/fine-tuning.md, *Not done*). */
const UNSERVED_JOB_ROUTE = /^\/v1\/fine_tuning\/jobs\/[^/]+\/(?<route>checkpoints)$/;
const UNSERVED_JOB_ROUTES = {
  checkpoints: 'fine-tuning checkpoints are not served (a SageMaker training job keeps its checkpoints in the tenant bucket, not as models you can call); the job\'s fine_tuned_model is its result',
} as const;

/**
 * OpenAI's fine-tuning API for one authenticated caller: create, list, retrieve, cancel, events.
 * Everything that decides where a job runs and as whom (role, key, subnets, bucket) comes from the
 * caller's registry record; the request may only pick a catalog model, a file in its own training
 * prefix, hyperparameters in range, a suffix and one of its tier's instance types. Every refusal
 * is a 4xx in OpenAI's shape, and the gateway audits it with the action set here.
 */
export class FineTuningService {
  private readonly files: TrainingFilesService;
  private readonly uploads: TrainingUploadsService;

  constructor(private readonly deps: FineTuningDeps) {
    this.files = new TrainingFilesService({
      config: deps.config, files: deps.files ?? new MemoryFileStore(TRAINING_FILES_PREFIX), pending: deps.pending,
      // A file is read by a job named on its id, or on a key whose S3Prefix channel overlaps the file's folder: a key
      // inside it, or a prefix it starts with (`training-data/files/<id>` without the slash reads every object under it).
      readers: async (caller, file) => (await deps.jobs.list(caller.tenantId))
        .filter((j) => ACTIVE_STATUSES.includes(j.status)
          && ([j.trainingFileId, j.validationFileId].includes(file.id) || [j.trainingFile, j.validationFile].some((uri) => uri !== undefined && prefixesOverlap(uri, folderOf(file.s3Uri)))))
        .map((j) => ({ id: j.id, status: j.status })),
    });
    this.uploads = new TrainingUploadsService({
      files: this.files.store, location: (caller) => this.files.location(caller), toOpenAiFile: (caller, file) => this.files.toOpenAiFile(caller, file), ...deps.uploads,
    });
  }

  async handle(req: FineTuningRequest, caller: Caller, audit: AuditRecord): Promise<FineTuningResponse> {
    const { method, path, query, body } = req;
    if (method === 'DELETE' && path.startsWith('/v1/models/')) {
      refuseUnknownRouteQuery(method, path, query);
      if (!this.deps.models) throw notFound(`no route ${method} /v1/models/{model}: model deletion is not served on this endpoint`, null, 'route_not_found');
      return ok(await deleteFineTunedModel({ config: this.deps.config, jobs: this.deps.jobs, models: this.deps.models, sageMaker: this.deps.sageMaker }, caller, path.slice('/v1/models/'.length), audit));
    }
    if (isUploadPath(path)) return this.uploads.handle(method, path, query, req.repeatedQuery, body, req.bytes, req.contentType, caller, audit, req.sdkRetry, req.retryWaitMs);
    if (isFilesRoute(path)) return this.files.handle(method, path, query, req.repeatedQuery, req.bytes ?? (body === undefined ? undefined : Buffer.from(body)), req.contentType, caller, audit, req.sdkRetry, req.retryWaitMs);
    const m = JOB_PATH.exec(path);
    if (!m) {
      const unserved = UNSERVED_JOB_ROUTE.exec(path)?.groups?.route as keyof typeof UNSERVED_JOB_ROUTES | undefined;
      throw notFound(`no route ${method} ${path}${unserved ? `: ${UNSERVED_JOB_ROUTES[unserved]}` : ''}`, null, 'route_not_found');
    }
    const { id, action } = m.groups ?? {};
    const route = `${method} ${id ? `jobs/:id${action ? `/${action}` : ''}` : 'jobs'}`;
    audit.action = `fine_tuning.${ROUTE_ACTIONS[route] ?? 'unknown'}`;
    if (id) audit.detail = { jobId: id };
    refuseUnknownQuery(query, JOB_QUERY[route] ?? [], `${method} /v1/fine_tuning/jobs${id ? `/{id}${action ? `/${action}` : ''}` : ''}`);
    // Each of these routes' parameters takes one value (metadata[<key>] one per key): the dropped ones filtered nothing.
    refuseRepeatedQuery(req.repeatedQuery);
    switch (route) {
      case 'POST jobs': return this.create(req, caller, audit);
      case 'GET jobs': return this.list(caller, query);
      case 'GET jobs/:id': return ok(toOpenAiJob(await this.job(caller, id!)));
      case 'POST jobs/:id/cancel': return this.cancel(caller, id!);
      case 'GET jobs/:id/events': return this.events(caller, id!, query);
      case 'POST jobs/:id/pause': case 'POST jobs/:id/resume': return this.refusePause(caller, id!, action as 'pause' | 'resume');
      default: throw new GatewayError(405, `${method} is not supported on ${path}`, 'invalid_request_error', 'method_not_allowed');
    }
  }

  /**
   * `POST /v1/fine_tuning/jobs`. The request's own checks (body, tier, model, instance type) come first; the rest
   * (files, the retry's match, the record, the training job) runs under the create's note
   * (inference/pending-creates.ts, key `jobs#<createRequestHash>`): an official client's retry of it
   * (`x-stainless-retry-count`) that arrives while an attempt of the same user and body still runs waits for that
   * attempt (`retryWaitMs` at most, awaitFirstAttempt), then is answered its job (makeJob), or gets the retryable
   * 409 `create_in_progress`. Without the note such a retry found no job recorded yet and made a second job and
   * training job (hours of GPU billed twice). A create that is no retry never waits: each makes its own job.
   * @throws GatewayError as makeJob; 409 `create_in_progress` (retryable) to a retry whose first attempt still runs after the wait
   */
  private async create({ body, sdkRetry, retryWaitMs, deadline }: FineTuningRequest, caller: Caller, audit: AuditRecord): Promise<FineTuningResponse> {
    const request = parseRequest(body);
    const tier = this.deps.config.tiers[caller.tenant.tier];
    if (!tier?.training.enabled) throw forbidden(`tier "${caller.tenant.tier}" of tenant ${caller.tenantId} does not include fine-tuning`, 'fine_tuning_not_allowed');
    const base = this.deps.config.fineTuning.baseModels.find((b) => b.id === request.model);
    if (!base) throw modelNotAvailable(request.model, this.deps.config.fineTuning.baseModels.map((b) => b.id));
    // A key narrowed to some models (`models`, an optional subset of the tenant's models) uses no other: a job
    // trains on, and pays for, its base model, which is outside every subset (a key's models are the tenant's
    // inference models; base models are not among them), and its fine-tuned model would be outside it too.
    if (caller.key?.models && !caller.key.models.includes(base.id)) {
      throw new GatewayError(403, `model "${base.id}" is outside the models of API key ${caller.keyId} (${caller.key.models.join(', ')}): a key with a models subset uses only those models, and fine-tuning uses its base model; start fine-tuning jobs with a user's token or a key without a models subset`, 'permission_error', 'model_not_allowed', 'model');
    }
    if (!tier.training.baseModels.includes('*') && !tier.training.baseModels.includes(base.id)) {
      throw forbidden(`model "${base.id}" may not be fine-tuned on tier "${caller.tenant.tier}" (allowed: ${tier.training.baseModels.join(', ') || 'none'})`, 'model_not_allowed', 'model');
    }
    const instanceType = request.instance_type ?? tier.training.instanceTypes[0];
    if (!tier.training.instanceTypes.includes(instanceType)) {
      throw invalid(`instance_type "${instanceType}" is not allowed on tier "${caller.tenant.tier}" (allowed: ${tier.training.instanceTypes.join(', ')})`, 'instance_type', 'instance_type_not_allowed');
    }
    const requestHash = createRequestHash(caller.userId, body);
    const key = pendingKey('jobs', requestHash);
    if (sdkRetry !== undefined && this.deps.pending) await awaitFirstAttempt(this.deps.pending, caller.tenantId, key, 'fine_tuning.jobs.create', retryWaitMs ?? 0);
    return underNote(this.deps.pending, caller.tenantId, key, () => this.makeJob(request, base, tier, instanceType, requestHash, { sdkRetry, deadline }, caller, audit));
  }

  /**
   * The part of `POST /v1/fine_tuning/jobs` under its note (create): the training and validation files resolved, an
   * official client's retry answered the job its first attempt made (same user and body, `requestHash`), else the job
   * recorded (concurrent-job and deployed-model limits), the tenant's status fenced, and its training job started.
   * @throws GatewayError 400 naming the file fields; 403 `tenant_not_active`; 409
   *   `deployed_model_limit`; 429 `rate_limit_exceeded` (the tier's concurrent jobs: concurrentJobLimit), `training_capacity_exceeded`; 502 `training_job_not_created`;
   *   503 `tenant_status_unavailable`, `request_deadline_exceeded`
   */
  private async makeJob(request: CreateFineTuningJobRequest, base: PlatformConfig['fineTuning']['baseModels'][number], tier: TierConfig, instanceType: string, requestHash: string, { sdkRetry, deadline }: Pick<FineTuningRequest, 'sdkRetry' | 'deadline'>, caller: Caller, audit: AuditRecord): Promise<FineTuningResponse> {
    const target = trainingTarget(caller.tenant);
    // A file id (POST /v1/files) or a key / s3:// URI inside the tenant's training prefix.
    const trainingUpload = await this.files.resolve(caller, request.training_file, 'training_file');
    const validationUpload = request.validation_file ? await this.files.resolve(caller, request.validation_file, 'validation_file') : undefined;
    const trainingFile = trainingUpload ? folderOf(trainingUpload.s3Uri) : resolveTrainingFile(request.training_file, target.bucket);
    const validationFile = !request.validation_file ? undefined : validationUpload ? folderOf(validationUpload.s3Uri) : resolveTrainingFile(request.validation_file, target.bucket, 'validation_file');
    // OpenAI's minimum of examples, for a file of the Files API (a key names data this API never read: the training job reads it).
    const trainingExamples = trainingUpload ? await this.files.countTrainingExamples(caller, trainingUpload, 'training_file') : undefined;
    // A key inside an uploaded file's folder names that file: gone, the job's channel would read nothing and fail on AWS when it starts.
    if (!trainingUpload) await this.files.requireFolderFile(caller, request.training_file, trainingFile, 'training_file');
    if (validationFile && !validationUpload) await this.files.requireFolderFile(caller, request.validation_file!, validationFile, 'validation_file');

    const existing = await this.deps.jobs.list(caller.tenantId);
    // An official client's retry of a create whose job was made (its answer lost: API Gateway's 504 after 29 s, a
    // connection reset, the client's own timeout) is answered that job, as the first attempt would have been: its
    // retry made a second job and training job (or, with a suffix, a 400 suffix_in_use about its own first job, when a suffix could not be used again).
    // The newest job of the same user and body decides (the list is newest first): one that failed is the trace of
    // this call's own first attempt (503 request_deadline_exceeded), so the retry makes the job, and an older job of
    // an earlier, deliberate create of the same body is no answer to this call. A job failed as the first attempt's
    // answer (a 200: ANSWERED_FAILURES) is that answer, as a made job is: the retry made a second failed job.
    const newest = sdkRetry === undefined ? undefined : existing.find((j) => j.requestHash === requestHash && j.userId === caller.userId
      && j.createdAt >= nowSeconds() - RETRY_WINDOW_SECONDS);
    const answered = newest && ((newest.status !== 'failed' && newest.status !== 'cancelled') || ANSWERED_FAILURES.includes(newest.error?.code ?? ''));
    const first = answered ? newest : undefined;
    if (first) {
      audit.detail = { jobId: first.id, trainingJobName: first.trainingJobName, retryOf: first.id };
      return ok(toOpenAiJob(first));
    }
    // The model id ends in the job's own part (its id's last 8 hex digits), so a suffix used before makes a new model. Those
    // 8 digits are random: an id whose model id a recorded job or a listed model has already (one in 4 billion per job of
    // the same suffix) is drawn again, so no two jobs ever deploy under one id (training-events.ts refuses the second).
    const suffix = request.suffix ?? '';
    const taken = new Set([...existing.map(modelIdOfJob), ...(caller.tenant.fineTunedModels ?? []).map((m) => m.id)]);
    let id = newJobId();
    for (let draws = 1; taken.has(fineTunedModelId(base.id, caller.tenantId, suffix, id)) && draws < MAX_ID_DRAWS; draws++) id = newJobId();
    const modelId = fineTunedModelId(base.id, caller.tenantId, suffix, id);
    if (taken.has(modelId)) throw new GatewayError(500, `no free model id for a job of ${base.id} after ${MAX_ID_DRAWS} draws`, 'server_error', 'internal_error');
    const hp = hyperparametersOf(request);
    const job: FineTuningJob = {
      id, tenantId: caller.tenantId, userId: caller.userId, model: base.id, trainingFile, validationFile,
      ...(trainingUpload ? { trainingFileId: trainingUpload.id } : {}), ...(validationUpload ? { validationFileId: validationUpload.id } : {}),
      hyperparameters: {
        n_epochs: hp.n_epochs === 'auto' ? HYPERPARAMETER_DEFAULTS.n_epochs : hp.n_epochs,
        batch_size: hp.batch_size === 'auto' ? HYPERPARAMETER_DEFAULTS.batch_size : hp.batch_size,
        learning_rate_multiplier: hp.learning_rate_multiplier === 'auto' ? HYPERPARAMETER_DEFAULTS.learning_rate_multiplier : hp.learning_rate_multiplier,
      },
      suffix, modelId, suffixProvided: request.suffix != null, instanceType, spot: tier.training.spot, trainingJobName: trainingJobName(caller.tenantId, id),
      maxRuntimeSeconds: tier.training.maxRuntimeHours * 3600,
      seed: request.seed ?? randomBytes(4).readUInt32BE() % 2_147_483_648, ...(request.metadata ? { metadata: request.metadata } : {}),
      ...(request.integrations ? { integrations: [] } : {}), requestHash,
      status: 'validating_files', createdAt: nowSeconds(), events: [jobEvent('info', `Created fine-tuning job ${id}`)],
    };
    try {
      await this.deps.jobs.create(job, tier.training.maxConcurrentJobs, { max: tier.training.maxDeployedModels, listed: caller.tenant.fineTunedModels ?? [] });
    } catch (e) {
      if (e instanceof DeployedModelLimitError) {
        audit.outcome = 'deployed_model_limit';
        throw deployedModelLimit(caller, e, tier.training.endpointInstanceTypes[0]);
      }
      if (e instanceof ConcurrentJobLimitError) {
        audit.detail = { ...audit.detail, limit: 'concurrent_jobs' };
        throw concurrentJobLimit(caller, e.limit);
      }
      throw e;
    }
    audit.detail = { jobId: id, trainingJobName: job.trainingJobName, trainingFile, model: base.id, instanceType };
    // As OpenAI answers a training file of too few examples: the job is made and fails at its file validation, its
    // error `invalid_n_examples` naming `training_file` in OpenAI's words (not a 400 on create: an app's
    // jobs.create succeeds and its polling finds the job failed). Nothing is started.
    if (trainingExamples !== undefined && trainingExamples < MIN_TRAINING_EXAMPLES) {
      audit.outcome = 'invalid_n_examples';
      const message = `Training file has ${trainingExamples} example(s), but must have at least ${MIN_TRAINING_EXAMPLES} examples`;
      return ok(toOpenAiJob(await this.failBeforeStart(job, 'invalid_n_examples', message, `Validation of file ${request.training_file} failed: ${message}`, 'training_file')));
    }

    // The fence against an offboarding (retire-fine-tuned-models.ts): the job is recorded (above), then the
    // tenant's status is read strongly consistent. The caller passed the gateway with a record (and an
    // authorizer verdict) that may be minutes old: a tenant no longer served gets no training job. One still
    // served at this read became OFFBOARDING after the job was recorded, so the retirement, which lists
    // the jobs after that, sees this one and cancels it; a CreateTrainingJob landing after that is stopped
    // below (the record wins).
    let status: TenantStatus | undefined;
    try {
      status = this.deps.tenantStatus ? await this.deps.tenantStatus(caller.tenantId) : caller.tenant.status;
    } catch (e) {
      // The job is recorded (its slot taken) and no training job will ever report on it: failed here, or it
      // would stay validating_files for good, holding the slot (a Stop of its missing name is refused).
      await this.failBeforeStart(job, 'tenant_status_unavailable', `the tenant's status could not be read (${(e as Error).name}): no training job was started`, 'Tenant status unavailable: no training job started');
      audit.outcome = 'tenant_status_unavailable';
      throw new GatewayError(503, `tenant ${caller.tenantId}'s status could not be read (${errorCause(e)}); job ${id} failed, nothing started: create it again`, 'server_error', 'tenant_status_unavailable', null, NO_RETRY);
    }
    if (!status || !SERVING_STATUSES.includes(status)) {
      await this.failBeforeStart(job, 'tenant_not_active', `tenant ${caller.tenantId} is ${status ?? 'not registered'}: no training job was started`, `Tenant ${status ?? 'not registered'}: no training job started`);
      audit.outcome = 'tenant_not_active';
      throw forbidden(`${notServedMessage(caller.tenantId, status)} (job ${id} failed, nothing started)`, 'tenant_not_active');
    }

    // The last step that can be undone is the record: too little time left to start the training job and answer it,
    // nothing starts (the job failed, its slot given back) and the client's retry, invited, makes the job again.
    if (deadline?.aborted) {
      await this.failBeforeStart(job, 'request_deadline_exceeded', 'the request ran out of time before the training job could be started: no training job was started', 'Request out of time: no training job started');
      audit.outcome = 'request_deadline_exceeded';
      throw new GatewayError(503, `job ${id} could not be started within this request's time (API Gateway answers after 29 s); it failed, nothing started: create it again`, 'server_error', 'request_deadline_exceeded', null, { 'x-should-retry': 'true' });
    }
    try {
      const sageMaker = await this.deps.sageMaker(target);
      await sageMaker.send(new CreateTrainingJobCommand(createTrainingJobInput(job, base, tier, target)));
    } catch (e) {
      const name = (e as Error).name;
      await this.failBeforeStart(job, 'training_job_not_created', `SageMaker refused the training job: ${name}: ${(e as Error).message}`, `SageMaker refused the training job (${name})`);
      audit.outcome = 'training_job_not_created';
      if (name === 'ResourceLimitExceeded') throw limited(`SageMaker has no capacity left for ${instanceType} in tenant ${caller.tenantId}'s account (ResourceLimitExceeded); job ${id} failed`, 'training_capacity_exceeded', NO_RETRY);
      throw new GatewayError(502, `SageMaker refused training job for ${id} (${errorCause(e)}); the job is recorded as failed`, 'upstream_error', 'training_job_not_created');
    }
    const queued: FineTuningJob = { ...job, status: 'queued', events: [jobEvent('info', `Training job ${job.trainingJobName} submitted on ${instanceType}${job.spot ? ' (managed spot)' : ''}`), ...job.events] };
    if (!(await this.deps.jobs.update(queued, 'validating_files'))) {
      // The job left validating_files while SageMaker was creating it: cancelled (by its user, or by an
      // offboarding's retirement, which could not stop a training job that did not exist yet). What the
      // record says wins: the training job just created is stopped, not left running in the tenant's subnets.
      const now = await this.deps.jobs.get(caller.tenantId, id);
      if (now && !ACTIVE_STATUSES.includes(now.status)) {
        const sageMaker = await this.deps.sageMaker(target);
        await sageMaker.send(new StopTrainingJobCommand({ TrainingJobName: job.trainingJobName })).catch((e: Error) => {
          if (e.name !== 'ValidationException') throw new GatewayError(502, `job ${id} was ${now.status} while SageMaker created ${job.trainingJobName}, which could not be stopped (${errorCause(e)}); cancel it again`, 'upstream_error', 'upstream_error');
        });
      }
      return ok(toOpenAiJob(now ?? queued));
    }
    return ok(toOpenAiJob(queued));
  }

  private async list(caller: Caller, query: Record<string, string | undefined>): Promise<FineTuningResponse> {
    const limit = pageLimit(query);
    let jobs = await this.deps.jobs.list(caller.tenantId);
    // `after` is a position among all the tenant's jobs (newest first), taken before the metadata filter: a job that the
    // filter leaves out is still a place to page on from (it was refused as a job that "does not exist", a 404 for a job
    // jobs.retrieve answers). An id that is none of the tenant's jobs stays a 404, another tenant's too.
    const after = cursorQuery(query, 'after');
    if (after !== undefined) {
      const at = jobs.findIndex((j) => j.id === after);
      if (at < 0) throw notFound(`fine-tuning job "${after.slice(0, 100)}" (after) does not exist`, 'after', 'job_not_found');
      jobs = jobs.slice(at + 1);
    }
    // OpenAI's `metadata` filter (`metadata[key]=value`, every pair must match; `metadata=` as the SDKs send null, or `null`: jobs without metadata).
    // `metadata[]=v` is the key "" (a job may have it): refuseUnknownQuery lets it through, so it filters too (it was dropped: every job listed).
    const wanted = Object.entries(query).flatMap(([k, v]) => { const m = /^metadata\[(.*)\]$/.exec(k); return m && v !== undefined ? [[m[1]!, v] as const] : []; });
    if (wanted.length) jobs = jobs.filter((j) => wanted.every(([k, v]) => j.metadata?.[k] === v));
    if (query.metadata === '' || query.metadata === 'null') jobs = jobs.filter((j) => !j.metadata || Object.keys(j.metadata).length === 0);
    else if (query.metadata !== undefined) throw invalid(`metadata "${query.metadata.slice(0, 100)}" filters as metadata[<key>]=<value> or metadata=null`, 'metadata', 'invalid_value');
    return ok({ object: 'list', data: jobs.slice(0, limit).map(toOpenAiJob), has_more: jobs.length > limit });
  }

  private async job(caller: Caller, id: string): Promise<FineTuningJob> {
    // Another tenant's job id reads exactly like an unknown one: nothing about it leaks.
    const job = /^ftjob-[a-f0-9]{24}$/.test(id) ? await this.deps.jobs.get(caller.tenantId, id) : undefined;
    if (!job) throw notFound(`fine-tuning job "${id}" does not exist`, 'fine_tuning_job_id', 'job_not_found');
    return job;
  }

  /**
   * Records a job no training job runs for (refused before or by CreateTrainingJob) as failed (its slot given back):
   * `code`, `message` and `param` its error, `event` its last event.
   * @returns the failed job as recorded
   */
  private async failBeforeStart(job: FineTuningJob, code: string, message: string, event: string, param: string | null = null): Promise<FineTuningJob> {
    const failed: FineTuningJob = { ...job, status: 'failed', finishedAt: nowSeconds(), error: { code, message, param }, events: [jobEvent('error', event), ...job.events] };
    await this.deps.jobs.update(failed, 'validating_files');
    return failed;
  }

  private async cancel(caller: Caller, id: string): Promise<FineTuningResponse> {
    const job = await this.job(caller, id);
    if (!ACTIVE_STATUSES.includes(job.status)) throw invalid(`fine-tuning job ${id} is ${job.status} and cannot be cancelled`, 'fine_tuning_job_id', 'job_not_cancellable');
    if (job.deploying !== undefined) throw deploying(id);
    const sageMaker = await this.deps.sageMaker(trainingTarget(caller.tenant));
    /** The training job at SageMaker: whether it has one of the name, and its TrainingJobStatus. */
    const describe = async () => {
      let state: string | undefined;
      const found = await exists(async () => { state = (await sageMaker.send(new DescribeTrainingJobCommand({ TrainingJobName: job.trainingJobName })))?.TrainingJobStatus; });
      return { found, state };
    };
    let ended: string | undefined;
    try {
      // Described first, as the offboarding's retirement does: a job whose creator died before its CreateTrainingJob
      // has no training job, and a Stop of that untagged name is AccessDenied under the launcher's aws:ResourceTag
      // condition (a 502 on every try: the job never cancellable, its slot held for good). A CreateTrainingJob still
      // in flight finds the job cancelled and stops what it made (create above: the record wins).
      const at = await describe();
      if (at.found && !TRAINING_ENDED.includes(at.state ?? '')) await sageMaker.send(new StopTrainingJobCommand({ TrainingJobName: job.trainingJobName }));
      else ended = at.state;
    } catch (e) {
      // Said not to be retried, as the gateway's other 502s: the SDKs' retries only multiply the refused calls.
      if ((e as Error).name !== 'ValidationException') throw new GatewayError(502, `SageMaker did not stop ${job.trainingJobName} (${errorCause(e)}); the job is still ${job.status}: cancel it again later`, 'upstream_error', 'upstream_error');
      // StopTrainingJob refuses a training job that is no longer InProgress ("...is in status Completed"): it ended since the Describe.
      ended = (await describe().catch(() => ({ state: undefined }))).state;
    }
    // Training finished at SageMaker, its state-change event not handled yet: that event settles the job (a model deployed, or
    // SageMaker's failure reason). Recorded `cancelled` here, the job hid both: the Completed event found it cancelled and deployed
    // nothing (the training ran to its end and was billed, its model never made), the Failed event's reason was never shown.
    if (ended === 'Completed' || ended === 'Failed') {
      throw invalid(`fine-tuning job ${id} has already finished training (SageMaker: ${ended}) and cannot be cancelled; ${ended === 'Completed' ? 'its model is being deployed: delete it once it is listed (DELETE /v1/models/{model})' : 'its failure is being recorded'}`, 'fine_tuning_job_id', 'job_not_cancellable');
    }
    const cancelled: FineTuningJob = { ...job, status: 'cancelled', finishedAt: nowSeconds(), events: [jobEvent('info', `Job cancelled by ${caller.userId}`), ...job.events] };
    if (!(await this.deps.jobs.update(cancelled, job.status))) {
      const now = await this.job(caller, id);
      if (now.deploying !== undefined && ACTIVE_STATUSES.includes(now.status)) throw deploying(id);
      return ok(toOpenAiJob(now));
    }
    return ok(toOpenAiJob(cancelled));
  }

  /**
   * `POST /v1/fine_tuning/jobs/{id}/pause` and `/resume` (OpenAI's `client.fine_tuning.jobs.pause / resume`): the caller's
   * job is looked up (404 `job_not_found` as for every job route: another tenant's id reads like an unknown one), then
   * refused as an operation its job does not allow, in the shape of cancel's `job_not_cancellable`: a job trains as a
   * SageMaker training job, which StopTrainingJob ends for good and nothing resumes (SageMaker API reference,
   * StopTrainingJob; a stopped job's checkpoints seed only a new job). Nothing changes.
   * @throws GatewayError 404 `job_not_found`; 400 `invalid_request_error` `job_not_pausable` / `job_not_resumable`, `param: fine_tuning_job_id`
   */
  private async refusePause(caller: Caller, id: string, action: 'pause' | 'resume'): Promise<never> {
    const job = await this.job(caller, id);
    if (action === 'pause') {
      throw invalid(`fine-tuning job ${id} (${job.status}) cannot be paused: it trains as a SageMaker training job, which can only be stopped, and a stopped training job is never resumed; cancel it (POST /v1/fine_tuning/jobs/${id}/cancel) and create a new job to train again`, 'fine_tuning_job_id', 'job_not_pausable');
    }
    throw invalid(`fine-tuning job ${id} (${job.status}) cannot be resumed: no job is ever paused here (a SageMaker training job can only be stopped, for good); create a new job to train again`, 'fine_tuning_job_id', 'job_not_resumable');
  }

  private async events(caller: Caller, id: string, query: Record<string, string | undefined>): Promise<FineTuningResponse> {
    const job = await this.job(caller, id);
    const limit = pageLimit(query);
    let events = job.events;
    const after = cursorQuery(query, 'after');
    if (after !== undefined) {
      // An event id the job does not have is refused, as jobs.list refuses an unknown job: answering from the newest
      // event (what findIndex's -1 made of it) silently dropped the cursor, the page the caller asked for never sent.
      const at = events.findIndex((e) => e.id === after);
      if (at < 0) throw notFound(`event "${after.slice(0, 100)}" (after) is not an event of fine-tuning job ${id}`, 'after', 'event_not_found');
      events = events.slice(at + 1);
    }
    return ok({ object: 'list', data: events.slice(0, limit).map((e) => ({ object: 'fine_tuning.job.event', type: 'message', data: null, ...e })), has_more: events.length > limit });
  }
}

/**
 * `x-should-retry: false` on the refusals of `POST /v1/fine_tuning/jobs` that the SDKs would retry
 * (429, 503; a 502 says it by itself, openai-errors.ts NO_SDK_RETRY_STATUSES): a retried create is a new job, so one call left three failed jobs and three
 * CreateTrainingJob calls; and none of these clears within the SDKs' retry window (a job runs for
 * hours, a SageMaker quota or refusal stays). The SDKs honour it before the status (openai-node,
 * openai-python `_should_retry`).
 */
const NO_RETRY = { 'x-should-retry': 'false' };
/**
 * Error codes of a job a create fails and answers with a 200 (the job, `status: failed`), as OpenAI answers a training file
 * of too few examples: an SDK retry of that create is answered that job. The other failures before start are answered with
 * an error, and a retry of them makes the job anew.
 */
const ANSWERED_FAILURES: readonly string[] = ['invalid_n_examples'];

/**
 * A job a deployment holds (training-events.ts, `deploying`): SageMaker said Completed and its model is being
 * deployed. Cancelled then, the job read `cancelled` while its deployment went on: the model listed, its endpoint
 * billed.
 */
const deploying = (id: string) => invalid(`fine-tuning job ${id} has finished training and its model is being deployed: it cannot be cancelled; delete the model once it is listed (DELETE /v1/models/{model})`, 'fine_tuning_job_id', 'job_not_cancellable');

/**
 * The 409 of a create beyond the tier's `training.maxDeployedModels` (DeployedModelLimitError): names the limit, each
 * deployed model with the `client.models.delete(<id>)` that frees its slot, and each active job (which deploys one when it
 * succeeds: cancel it to free its slot). 409 `deployed_model_limit`, `invalid_request_error`, as OpenAI's ConflictError
 * (`openai` package, status 409): a conflict with what the tenant keeps deployed, which waiting does not clear (OpenAI's
 * own 429s, `rate_limit_exceeded` for its active fine-tuning jobs, are about waiting); `x-should-retry: false`, since the
 * SDKs retry a 409 by default.
 */
function deployedModelLimit(caller: Caller, e: DeployedModelLimitError, endpointInstanceType: string | undefined): GatewayError {
  const { deployed, training } = e.models;
  const parts = [
    deployed.length ? `deployed: ${deployed.join(', ')}` : '',
    training.length ? `being trained, each deploying one when it succeeds: ${training.map((j) => `job ${j.id} (${j.status}, ${modelIdOfJob(j)})`).join(', ')}` : '',
  ].filter(Boolean).join('; ');
  const free = deployed.length ? `delete one you no longer need with client.models.delete('${deployed[0]}')` : 'cancel one of the jobs (client.fine_tuning.jobs.cancel) or let it end';
  return new GatewayError(409,
    `tenant ${caller.tenantId} has ${slotsInUse(e.models)} fine-tuned model(s) deployed or being deployed, and tier "${caller.tenant.tier}" allows ${e.limit} (training.maxDeployedModels): ${parts}. `
    + `Each runs an always-on SageMaker endpoint${endpointInstanceType ? ` (${endpointInstanceType})` : ''}, billed hourly until its model is deleted; ${free}, then create the job again`,
    'invalid_request_error', 'deployed_model_limit', null, NO_RETRY);
}

/**
 * The refusal of a job on a model that is not a base model of the platform catalog (`fineTuning.baseModels`): an
 * unknown id, one of OpenAI's (`gpt-4o-mini`), a fine-tuned `ft:` model (a job trains a catalog base model, never a
 * fine-tuned one). OpenAI's shape for it: 400 `invalid_request_error`, code `model_not_available`, `param: null`,
 * "Model <id> is not available for fine-tuning or does not exist." (an OpenAI answer to `gpt-4o-mini`, quoted in
 * github.com/Denis2054/Transformers-for-NLP-and-Computer-Vision-3rd-Edition issue 5, 2025-08-10); the message goes
 * on with what can be fine-tuned here. It was a 404 `model_not_found`, which the official clients raise as
 * NotFoundError where OpenAI's raise BadRequestError.
 * @param model the request's `model` (at most 100 characters: CreateFineTuningJobRequest)
 * @param baseModels the catalog's base model ids
 */
export function modelNotAvailable(model: string, baseModels: readonly string[]): GatewayError {
  const why = model.startsWith('ft:') ? ' A fine-tuned model cannot be fine-tuned again on this platform: a job trains one of its base models.' : '';
  return invalid(`Model ${model} is not available for fine-tuning or does not exist.${why} The base models of this platform are ${baseModels.join(', ') || 'none'} (your tier may allow some of them only).`, null, 'model_not_available');
}

/** SageMaker TrainingJobStatus values of a training job that StopTrainingJob no longer stops (it stops InProgress only). */
const TRAINING_ENDED: readonly string[] = ['Completed', 'Failed', 'Stopping', 'Stopped'];

/** The S3 prefix of an uploaded file's own folder (`.../files/<id>/`): the training channel reads that one file. */
const folderOf = (s3Uri: string) => s3Uri.slice(0, s3Uri.lastIndexOf('/') + 1);
/** Whether two S3 prefixes (s3:// URIs) match a common object: one starts with the other (S3Prefix channels match by string prefix). */
const prefixesOverlap = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);

/** How many job ids a create draws at most for a model id no recorded job or listed model has (fineTunedModelId). */
const MAX_ID_DRAWS = 8;

/** Time-ordered ids (milliseconds, then random): sorting by id lists newest first, as OpenAI does. */
const newJobId = () => `ftjob-${Date.now().toString(16).padStart(12, '0')}${randomBytes(6).toString('hex')}`;

const ok = (body: unknown): FineTuningResponse => ({ status: 200, body: JSON.stringify(body) });

/** A jobs or events page's `limit`: 1 to 100, default 20 (OpenAI's). */
const pageLimit = (query: Record<string, string | undefined>) => integerQuery(query, 'limit', { min: 1, max: 100, fallback: 20 });

function parseRequest(body: string | undefined): CreateFineTuningJobRequest {
  const raw = parseJson(body);
  if (typeof raw === 'object' && raw !== null) {
    const named = PLATFORM_CHOSEN_FIELDS.find((f) => f in raw);
    if (named) throw invalid(`${named} may not be set: the role, key, network and storage of a job are your tenant's own, chosen by the platform`, named, 'field_not_allowed');
    // Own keys only: `in` also found `constructor`, `toString`, `__proto__` on the shape's prototype, so those passed as known (a 400 with `param: null`).
    const unknown = Object.keys(raw).find((k) => !Object.hasOwn(CreateFineTuningJobRequest.shape, k));
    if (unknown) throw invalid(`unknown field "${unknown.slice(0, 100)}" (POST /v1/fine_tuning/jobs takes ${Object.keys(CreateFineTuningJobRequest.shape).join(', ')})`, unknown.slice(0, 100), 'unknown_parameter');
  }
  const request = parseWith(CreateFineTuningJobRequest, raw);
  const method = request.method;
  if (method && method.type !== 'supervised') {
    throw invalid(`method.type "${method.type}" is not trained on this platform: its base models' training images train supervised only (method.type "supervised")`, 'method.type', 'unsupported_value');
  }
  const other = method && (['dpo', 'reinforcement'] as const).find((k) => method[k] !== undefined && method[k] !== null);
  if (other) throw invalid(`method.${other} does not go with method.type "supervised"`, `method.${other}`, 'invalid_value');
  if (method?.supervised?.hyperparameters && request.hyperparameters) {
    throw invalid('hyperparameters and method.supervised.hyperparameters are both set; give one (OpenAI deprecates the first)', 'hyperparameters', 'invalid_value');
  }
  if (request.integrations?.length) {
    throw invalid('integrations are not supported: training runs network-isolated in your tenant\'s VPC and cannot report to Weights & Biases; follow a job with GET /v1/fine_tuning/jobs/{id}/events', 'integrations', 'unsupported_parameter');
  }
  return request;
}

/** The job's hyperparameters, from `method.supervised.hyperparameters` or the deprecated top-level field; 'auto' where absent. */
function hyperparametersOf(request: CreateFineTuningJobRequest): Hyperparameters {
  return Hyperparameters.parse(request.method?.supervised?.hyperparameters ?? request.hyperparameters ?? {});
}

/**
 * The 429 of a job create past the tier's concurrent jobs (`training.maxConcurrentJobs`), in OpenAI's code for a rate
 * limit: `rate_limit_exceeded`, type `requests` (OpenAI's 429 for a count of requests past its limit; the SDKs raise
 * `RateLimitError` by the status). OpenAI's own answer to a fine-tuning create past its active-jobs limit was not found;
 * its fine-tuning 429 that was (the daily limit: "This fine-tune request has been rate-limited. Your organization has
 * reached the maximum of N fine-tuning requests per day …", code `daily_rate_limit_exceeded`) is worded the same way.
 * Until 2026-12-07 the code was Tessera's own, `concurrent_job_limit`. `x-should-retry: false`: a job runs for hours.
 * @param limit the tier's concurrent jobs
 */
function concurrentJobLimit(caller: Caller, limit: number): GatewayError {
  return new GatewayError(429, `This fine-tune request has been rate-limited: tenant ${caller.tenantId} already runs ${limit} fine-tuning job(s), the limit of tier "${caller.tenant.tier}"; wait for one to finish or cancel one`, 'requests', 'rate_limit_exceeded', null, NO_RETRY);
}
