import { z } from 'zod';
import { Metadata } from './openai-metadata.js';
import { TenantId } from './tenant-record.js';
export { FineTunedModel } from './tenant-record.js';

/**
 * Fine-tuning: the API request (OpenAI's shape), the job record and the names that the
 * blueprint's IAM conditions, the Lambdas, the CLI and the tests must agree on. One source.
 */

/** Where a tenant uploads training data in its bucket (expired by the bucket's lifecycle rule). */
export const TRAINING_DATA_PREFIX = 'training-data/';
/** Where training jobs write model artifacts and spot checkpoints. */
export const MODEL_ARTIFACTS_PREFIX = 'models/';
export const CHECKPOINTS_PREFIX = 'checkpoints/';

/**
 * Files uploaded through OpenAI's Files API (`POST /v1/files`, purpose `fine-tune`): each at
 * `training-data/files/<file id>/<filename, percent-encoded>` of the tenant bucket, written and read
 * only by the tenant's `training-files` role (assumed by the fine-tuning API Lambda). Inside
 * `training-data/`, so the training role reads them and the bucket's lifecycle rule expires them.
 */
export const TRAINING_FILES_PREFIX = `${TRAINING_DATA_PREFIX}files/`;

/**
 * Where OpenAI's Uploads API keeps each pending upload's record and parts: `training-data/files/uploads/<upload id>/`
 * (lambdas/fine-tuning/stores/file-store.ts uploadPrefix), inside the files' prefix so the training-files role reaches
 * them; the tenant bucket's `expire-uploads` lifecycle rule removes what is left a day later.
 */
export const TRAINING_UPLOADS_PREFIX = `${TRAINING_FILES_PREFIX}uploads/`;

/**
 * The largest file `POST /v1/files` takes: 4 MiB. API Gateway hands a multipart body to Lambda
 * base64-encoded, and Lambda takes at most 6 MB per synchronous invocation (Lambda quotas,
 * "Invocation payload"): 4 MiB is 5.59 MB as base64, which leaves room for the multipart framing
 * and the request's headers. OpenAI's own limit is 512 MB; larger training data goes into the
 * bucket's `training-data/` prefix directly and is named by its key.
 */
export const MAX_TRAINING_FILE_BYTES = 4 * 1024 * 1024;

/** File ids: `file-` and 24 hex digits, time-ordered (milliseconds, then random), so sorting by id sorts by creation. */
export const TRAINING_FILE_ID = /^file-[a-f0-9]{24}$/;

/**
 * SageMaker resource names of a tenant's fine-tuning: `<tenant>-ft-<24 hex>` for the training
 * job, the model, the endpoint config and the endpoint alike. IAM scopes them with
 * `sageMakerNamePattern`: the prefix plus exactly 24 single-character wildcards, so tenant `acme`
 * cannot match tenant `acme-ft-x`'s names (theirs are at least 28 characters past `acme-ft-`).
 */
const JOB_HEX = 24;
export const sageMakerNamePrefix = (tenantId: string) => `${tenantId}-ft-`;
export const sageMakerNamePattern = (tenantId: string) => `${sageMakerNamePrefix(tenantId)}${'?'.repeat(JOB_HEX)}`;
export const trainingJobName = (tenantId: string, jobId: string) => `${sageMakerNamePrefix(tenantId)}${jobId.slice('ftjob-'.length)}`;

/** The tenant and job id a training job name stands for (the inverse of `trainingJobName`), or undefined. */
export function parseTrainingJobName(name: string): { tenantId: string; jobId: string } | undefined {
  const m = new RegExp(`^(.+)-ft-([a-f0-9]{${JOB_HEX}})$`).exec(name);
  return m ? { tenantId: m[1], jobId: `ftjob-${m[2]}` } : undefined;
}

/**
 * CloudWatch Logs of SageMaker: one group per account for training jobs (streams
 * `<TrainingJobName>/algo-<n>-<epoch>`), one group per endpoint (`/aws/sagemaker/Endpoints/<EndpointName>`).
 */
export const TRAINING_LOG_GROUP = '/aws/sagemaker/TrainingJobs';
export const ENDPOINT_LOG_GROUP_PREFIX = '/aws/sagemaker/Endpoints/';

/**
 * How many characters of the job id end a model id (`ft:<base>:<tenant>:<suffix>:<job part>`): the job id's last 8 hex
 * digits (random: `newJobId` puts the milliseconds first), as OpenAI's model names end in an 8-character id of their own
 * (`ft:gpt-4o-mini:openai:custom-model-name:7p4lURel`, openai `JobCreateParams.suffix`).
 */
export const MODEL_ID_JOB_PART_LENGTH = 8;

/** The job part of the model id of job `jobId` (`ftjob-<24 hex>`): its last `MODEL_ID_JOB_PART_LENGTH` characters. */
export const modelIdJobPart = (jobId: string) => jobId.slice(-MODEL_ID_JOB_PART_LENGTH);

/** The longest `suffix` (openai `JobCreateParams.suffix`: "A string of up to 64 characters"). */
export const MAX_SUFFIX_LENGTH = 64;

/**
 * What a `suffix` may be: 1-64 ASCII letters, digits, `.`, `_` and `-`. OpenAI documents the length only; its own
 * examples use lower and upper case, `-` and `_` (`custom_suffix`), so those are taken. A `:` is refused: it separates
 * the model id's parts (`ft:<base>:<tenant>:<suffix>:<job part>`, which the gateway splits to find the tenant); so are
 * `/` (the gateway's `<provider>/<model>` and the path of `DELETE /v1/models/{model}`), spaces and other characters.
 */
export const SUFFIX_PATTERN = new RegExp(`^[A-Za-z0-9._-]{1,${MAX_SUFFIX_LENGTH}}$`);
/**
 * SUFFIX_PATTERN's characters, its length aside: the create's schema checks the length itself, so a longer suffix is
 * OpenAI's `string_above_max_length` and an empty one its `string_below_min_length`.
 */
const SUFFIX_CHARACTERS = /^[A-Za-z0-9._-]*$/;
/** SUFFIX_PATTERN in words: the message of a 400 naming `suffix`. */
export const SUFFIX_RULE = `must be 1-${MAX_SUFFIX_LENGTH} characters of letters, digits, ".", "_" and "-" (no ":": it separates the parts of the model id ft:<base>:<tenant>:<suffix>:<job>)`;

/**
 * The model id a job's model gets: `ft:<base>:<tenant>:<suffix>:<job part>`, and `ft:<base>:<tenant>::<job part>` without
 * a suffix, as OpenAI names them (`ft:gpt-3.5-turbo-0613:personal::846t2axt`). The job part makes each job's id its own,
 * so a suffix can be sent again (a nightly retraining) and makes a new model beside the others.
 * @param suffix the caller's `suffix`; '' or undefined when it sent none
 */
export const fineTunedModelId = (base: string, tenantId: string, suffix: string | undefined, jobId: string) =>
  `ft:${base}:${tenantId}:${suffix ?? ''}:${modelIdJobPart(jobId)}`;

/**
 * The model id of jobs created before model ids had a job part (before 2026-12-07): `ft:<base>:<tenant>:<suffix>`, the
 * suffix the caller's or, without one, the job id's last 8 characters. Their models keep these ids.
 */
export const legacyFineTunedModelId = (base: string, tenantId: string, suffix: string) => `ft:${base}:${tenantId}:${suffix}`;

/** The id the model of `job` has (or will have once deployed): the one recorded at its creation, else the legacy shape. */
export const modelIdOfJob = (job: Pick<FineTuningJob, 'modelId' | 'model' | 'tenantId' | 'suffix'>) =>
  job.modelId ?? legacyFineTunedModelId(job.model, job.tenantId, job.suffix);

/** The numbers a hyperparameter takes besides `"auto"`: an integer or not, above `min` (or at it, unless `minExclusive`), at most `max`. */
export interface AutoOrNumber {
  readonly integer: boolean;
  readonly min: number;
  readonly minExclusive: boolean;
  readonly max: number;
}

/**
 * One hyperparameter: `"auto"` or a number `spec` takes; any other value is refused with one message saying both
 * (`must be "auto" or an integer from 1 to 256`), which the gateway puts after OpenAI's words for the value (the issue's
 * `params.autoOr`: lambdas/inference/openai-issues.ts). A union of `"auto"` and a number schema answered `1.5` for
 * `batch_size` with `expected "auto"` (its number branch refused the non-integer as a type error, so only the
 * literal's refusal was shown).
 */
const autoOr = (what: string, spec: AutoOrNumber) => z.custom<'auto' | number>(
  (v) => v === 'auto' || (typeof v === 'number' && (!spec.integer || Number.isInteger(v)) && (spec.minExclusive ? v > spec.min : v >= spec.min) && v <= spec.max),
  { error: `must be "auto" or ${what}`, params: { autoOr: spec } },
);
export const Hyperparameters = z.strictObject({
  n_epochs: autoOr('an integer from 1 to 20', { integer: true, min: 1, minExclusive: false, max: 20 }).default('auto'),
  batch_size: autoOr('an integer from 1 to 256', { integer: true, min: 1, minExclusive: false, max: 256 }).default('auto'),
  learning_rate_multiplier: autoOr('a number above 0 up to 10', { integer: false, min: 0, minExclusive: true, max: 10 }).default('auto'),
});
export type Hyperparameters = z.infer<typeof Hyperparameters>;

/** What `auto` means, per hyperparameter. */
export const HYPERPARAMETER_DEFAULTS = { n_epochs: 3, batch_size: 8, learning_rate_multiplier: 1 } as const;

/**
 * Fields a caller may never send: the role, key, network and output location of a job come from
 * the tenant's registry record, never from the request.
 */
export const PLATFORM_CHOSEN_FIELDS = [
  'role_arn', 'role', 'kms_key_id', 'kms_key', 'output_s3_uri', 'output_path', 'subnets', 'subnet_ids',
  'security_group_ids', 'vpc_config', 'tenant', 'tenant_id', 'bucket',
] as const;

/**
 * `POST /v1/fine_tuning/jobs` (openai `JobCreateParams`). Every field is read, mapped or refused by
 * name; an unknown field is a 400 naming it (there is no upstream to pass it on to).
 * - `method` (`{type: "supervised", supervised: {hyperparameters}}`) is the current form of the
 *   deprecated top-level `hyperparameters`; either may be given, not both. Only `supervised` is
 *   trained here (the catalog's training images): `dpo` and `reinforcement` are refused.
 * - `integrations` (Weights & Biases) are refused when given: training runs network-isolated; an empty list is
 *   kept and answered as sent (`[]`), absent or null answered null.
 * - `metadata`: kept and answered, as OpenAI's (at most 16 pairs, keys of at most 64 and values of
 *   at most 512 characters: OpenAI API reference, "Metadata").
 * - `seed`: passed to the training job as the hyperparameter `seed`; one is drawn when none is given,
 *   as OpenAI does, and answered either way.
 */
export const CreateFineTuningJobRequest = z.strictObject({
  /** A base model id of the platform catalog. */
  model: z.string().min(1).max(100),
  /** A file id of `POST /v1/files`, `s3://<tenant bucket>/training-data/...` or a key under `training-data/` of the tenant bucket. */
  training_file: z.string().min(1).max(1024),
  validation_file: z.string().min(1).max(1024).nullish(),
  /** Deprecated by OpenAI in favour of `method.supervised.hyperparameters`. */
  hyperparameters: Hyperparameters.optional(),
  method: z.strictObject({
    type: z.enum(['supervised', 'dpo', 'reinforcement']),
    supervised: z.strictObject({ hyperparameters: Hyperparameters.optional() }).nullish(),
    dpo: z.unknown().optional(),
    reinforcement: z.unknown().optional(),
  }).nullish(),
  integrations: z.array(z.unknown()).nullish(),
  /** OpenAI's Metadata (lib/openai-metadata.ts), as the chat, responses and conversations endpoints take it. */
  metadata: Metadata.nullish(),
  /**
   * Part of the model id (SUFFIX_PATTERN); the same suffix may be sent again: each job's model id ends in its own job part.
   * Past 64 characters it is OpenAI's length refusal (`Invalid 'suffix': string too long. Expected a string with maximum
   * length 64, …`, `string_above_max_length`), as the gateway answers a string past any bound OpenAI documents. An empty
   * string is refused too, in OpenAI's words for a string under its minimum (`Invalid 'suffix': string too short. Expected
   * a string with minimum length 1, but got an empty string instead.`, `string_below_min_length`): OpenAI's suffix is
   * "a string of up to 64 characters" added to the model name, and no suffix is `null` or no field (the `openai`
   * package's `suffix?: string | null`); taken as null, `""` would be a field reshaped unseen. No answer of OpenAI's to
   * `suffix: ""` was found (docs/fine-tuning.md, "Model ids and suffix"). Other characters are SUFFIX_RULE.
   */
  suffix: z.string().min(1).max(MAX_SUFFIX_LENGTH).regex(SUFFIX_CHARACTERS, SUFFIX_RULE).nullish(),
  /** Tessera extension: one of the tier's training instance types. @default - the tier's first */
  instance_type: z.string().min(1).max(40).nullish(),
  seed: z.number().int().min(0).max(2_147_483_647).nullish(),
});
export type CreateFineTuningJobRequest = z.infer<typeof CreateFineTuningJobRequest>;

export const FINE_TUNING_STATUSES = ['validating_files', 'queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export const FineTuningStatus = z.enum(FINE_TUNING_STATUSES);
export type FineTuningStatus = z.infer<typeof FineTuningStatus>;
/** Jobs counted against the tier's concurrent-job limit. */
export const ACTIVE_STATUSES: readonly FineTuningStatus[] = ['validating_files', 'queued', 'running'];

export const FineTuningEvent = z.object({
  id: z.string(),
  created_at: z.number().int(),
  level: z.enum(['info', 'warn', 'error']),
  message: z.string(),
});
export type FineTuningEvent = z.infer<typeof FineTuningEvent>;

/** The job record: registry of fine-tuning jobs, keyed by tenant and job id. */
export const FineTuningJob = z.object({
  id: z.string().regex(/^ftjob-[a-f0-9]{24}$/),
  tenantId: TenantId,
  userId: z.string(),
  model: z.string(),
  /** Where the job reads its training data: an S3 URI (a file, or an uploaded file's folder). */
  trainingFile: z.string(),
  validationFile: z.string().optional(),
  /** The file ids the caller named, when it named uploaded files (`POST /v1/files`): what the API answers as `training_file`. */
  trainingFileId: z.string().optional(),
  validationFileId: z.string().optional(),
  /** The training job's `seed` hyperparameter: the caller's, or drawn at creation. @default - 0 for jobs recorded before seeds were kept */
  seed: z.number().int().optional(),
  /** The caller's `metadata`, answered as given. */
  metadata: z.record(z.string(), z.string()).optional(),
  /**
   * The create's `integrations` when it sent an empty list, answered as `[]` (openai `FineTuningJob.integrations`:
   * an array or null); a list with an integration is refused (parseRequest), so none is ever kept.
   * @default - absent: `integrations` absent or null, answered null
   */
  integrations: z.array(z.never()).optional(),
  /**
   * SHA-256 (hex) of the creating user and the create's body as sent (lambdas/inference/sdk-retry.ts createRequestHash): how an
   * official client's retry of that create (`x-stainless-retry-count`) is known and answered this job instead of a
   * second one. @default - absent on jobs recorded before it was kept (no retry matches them)
   */
  requestHash: z.string().regex(/^[a-f0-9]{64}$/).optional(),
  hyperparameters: z.object({ n_epochs: z.number(), batch_size: z.number(), learning_rate_multiplier: z.number() }),
  /** The caller's `suffix`; '' when it sent none (jobs recorded before 2026-12-07 hold the job id's last 8 characters then). */
  suffix: z.string(),
  /**
   * The id the job's model gets once deployed (`fineTunedModelId`: `ft:<base>:<tenant>:<suffix>:<job part>`), chosen at
   * creation. @default - absent on jobs recorded before model ids had a job part: `legacyFineTunedModelId`
   */
  modelId: z.string().optional(),
  /** False when the platform chose `suffix` (the caller sent none): answered as `user_provided_suffix: null`, as OpenAI does. @default - true (jobs recorded before this was kept) */
  suffixProvided: z.boolean().optional(),
  instanceType: z.string(),
  spot: z.boolean(),
  trainingJobName: z.string(),
  status: FineTuningStatus,
  createdAt: z.number().int(),
  finishedAt: z.number().int().optional(),
  /**
   * The training job's StoppingCondition.MaxRuntimeInSeconds (the tier's `training.maxRuntimeHours` at
   * creation): SageMaker bills no more training time than this. @default - absent on jobs recorded before it was kept
   */
  maxRuntimeSeconds: z.number().int().positive().optional(),
  /**
   * When training began and ended (epoch seconds): SageMaker's TrainingStartTime and TrainingEndTime from the
   * state-change event (AWS bills the interval between them), or when the training events handler saw the job
   * running and ended. What the statements bill (lambdas/statements/build-statement.ts); the deployment of the
   * model after it is no training. @default - absent until seen (and on jobs recorded before they were kept)
   */
  trainingStartedAt: z.number().int().optional(),
  trainingEndedAt: z.number().int().optional(),
  fineTunedModel: z.string().optional(),
  endpointName: z.string().optional(),
  /**
   * The instance type of the model's endpoint (the tier's first `training.endpointInstanceTypes` when the deployment
   * created it), named in the job's `succeeded` event. @default - absent on jobs deployed before it was kept
   */
  endpointInstanceType: z.string().optional(),
  /**
   * When the job's model was deleted (`DELETE /v1/models/{model}`, epoch seconds): `fineTunedModel` is
   * still answered (as OpenAI does), and a `Completed` event delivered again deploys nothing.
   */
  modelDeletedAt: z.number().int().optional(),
  /**
   * A deployment in flight (training-events.ts): the token (the `Completed` event's id) of the
   * deployment that claimed the job before its SageMaker creates, removed once they are done or
   * given up. An offboarding's retirement does not finish while a job carries one
   * (retire-fine-tuned-models.ts): the claim is how it sees a deployment that passed the tenant check.
   */
  deploying: z.string().optional(),
  /**
   * When the deployment's creates were answered and its endpoint (`endpointName`) was left coming up (epoch
   * seconds): the job stays `running`, its claim (`deploying`) held, its model not listed, until SageMaker says
   * the endpoint is `InService` (then `succeeded`) or `Failed` (then `failed`): endpoint-events.ts. Removed
   * with the claim. @default - absent (no deployment waiting for its endpoint)
   */
  awaitingEndpointSince: z.number().int().optional(),
  trainedTokens: z.number().int().optional(),
  error: z.object({ code: z.string(), message: z.string(), param: z.string().nullable() }).optional(),
  events: z.array(FineTuningEvent).default([]),
});
export type FineTuningJob = z.infer<typeof FineTuningJob>;

/** EventBridge detail-type of SageMaker training job state changes (forwarded to the platform bus). */
export const TRAINING_STATE_CHANGE = 'SageMaker Training Job State Change';

/** EventBridge detail-type of SageMaker endpoint state changes (forwarded to the platform bus, as the training ones). */
export const ENDPOINT_STATE_CHANGE = 'SageMaker Endpoint State Change';

/** OpenAI's job object, as `client.fineTuning.jobs.*` expects it. */
export function toOpenAiJob(job: FineTuningJob) {
  return {
    object: 'fine_tuning.job', id: job.id, model: job.model, created_at: job.createdAt, finished_at: job.finishedAt ?? null,
    fine_tuned_model: job.fineTunedModel ?? null, organization_id: job.tenantId, result_files: [], status: job.status,
    training_file: job.trainingFileId ?? job.trainingFile, validation_file: job.validationFileId ?? job.validationFile ?? null, hyperparameters: job.hyperparameters,
    trained_tokens: job.trainedTokens ?? null, error: job.error ?? null, seed: job.seed ?? 0, estimated_finish: null, integrations: job.integrations ?? null,
    user_provided_suffix: job.suffixProvided === false ? null : job.suffix, metadata: job.metadata ?? null,
    method: { type: 'supervised', supervised: { hyperparameters: job.hyperparameters } },
  };
}

/**
 * Platform Lambda roles that tenant roles trust by name (the blueprint is synthesized before the
 * platform's roles exist in any tenant account, so it names them).
 */
export const PLATFORM_ROLE_NAMES = {
  router: 'tessera-gateway-router',
  fineTuningApi: 'tessera-fine-tuning-api',
  fineTuningEvents: 'tessera-fine-tuning-events',
} as const;
