import type { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { isActive as isActiveStatus } from './stores/job-store.js';
import type { FineTuningJob } from '../../lib/fine-tuning.js';
import type { AuditRecord } from '../inference/audit.js';
import type { Caller } from '../inference/auth.js';
import { GatewayError, modelNotFound, wellFormedPrefix } from '../inference/openai-errors.js';
import { resolvePolicy } from '../inference/policy.js';
import { errorCause } from '../shared/error-cause.js';
import { jobEvent, nowSeconds } from './job-events.js';
import { BUSY_ENDPOINT_STATES, deleteEndpointResources } from './retire-fine-tuned-models.js';
import type { TrainingTarget } from './sagemaker-requests.js';
import type { FineTuningStore } from './stores/job-store.js';
import type { TenantModels } from './stores/tenant-models.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-fine-tuning');

/** OpenAI's `ModelDeleted` (`openai` package, `resources/models`). */
export interface ModelDeleted {
  id: string;
  object: 'model';
  deleted: true;
}

export interface ModelDeletionDeps {
  config: PlatformConfig;
  jobs: FineTuningStore;
  /** The registry's `fineTunedModels` (what the gateway lists and routes). */
  models: Pick<TenantModels, 'removeFineTunedModel'>;
  /** SageMaker in the tenant's account as its training-launcher role (deployed), or the developer's credentials (`tessera serve`). */
  sageMaker: (target: Pick<TrainingTarget, 'tenantId' | 'accountId'>) => Promise<SageMakerClient>;
}

/** The longest model id looked up; a longer one is no model of anybody's (`ft:<base>:<tenant>:<suffix>:<job part>` is at most 142 characters). */
const MAX_MODEL_ID = 256;

/** Not retried by the SDKs: an endpoint takes minutes to come up, far past their retry window. */
const NO_RETRY = { 'x-should-retry': 'false' };

/**
 * `DELETE /v1/models/{model}` (OpenAI's `client.models.delete`): deletes one of the caller tenant's
 * own fine-tuned models. In this order, each step safe to run again after a crash:
 * 1. the model must be in the tenant's registry record (`fineTunedModels`, read with this request):
 *    an unknown id, another tenant's model, a model already deleted and a job's model before its
 *    deployment are the same 404 `model_not_found` (no existence oracle); a base or catalog model the
 *    tenant can see, and an alias of one (`gateway.modelAliases`, listed by `GET /v1/models`), is a 403
 *    `model_not_deletable`;
 * 2. its endpoint, endpoint config and model are deleted in the tenant's account
 *    (deleteEndpointResources, as the offboarding's retirement does: described first, so a name
 *    SageMaker does not have is not an AccessDenied under the launcher's tag condition). An endpoint
 *    SageMaker is updating (`Updating`, `SystemUpdating`, `RollingBack`) cannot be deleted yet: 409
 *    `model_not_ready`, nothing deleted, the model still listed (nothing billed runs unlisted). A model
 *    is listed only once its endpoint is `InService` (endpoint-events.ts), so a `Creating` endpoint is
 *    met only for a model listed before the jobs waited for their endpoints;
 * 3. the job that produced it is marked (`modelDeletedAt`, an event): `jobs.retrieve` still answers
 *    its `fine_tuned_model`, as OpenAI does, and a `Completed` event delivered again deploys nothing
 *    (training-events.ts). A job still `running` (its deployment crashed before recording the end) is
 *    recorded `succeeded` here;
 * 4. the model leaves the registry record: `GET /v1/models` no longer lists it, chat gets 404.
 * A second delete of the same model is a 404 `model_not_found`, as OpenAI answers for a model that
 * does not exist (any more).
 * @param encodedId the path after `/v1/models/`, as it arrived (the clients send `:` raw, `/` as `%2F`)
 */
export async function deleteFineTunedModel(deps: ModelDeletionDeps, caller: Caller, encodedId: string, audit: AuditRecord): Promise<ModelDeleted> {
  let id: string;
  try {
    id = decodeURIComponent(encodedId);
  } catch {
    id = encodedId;
  }
  audit.action = 'fine_tuning.model.delete';
  // The caller's text: an id no model can have is not echoed whole (a 100 KB path stays out of the answer and the audit record).
  const shown = id.length > MAX_MODEL_ID ? `${wellFormedPrefix(id, 64)}…` : id;
  audit.detail = { fineTunedModel: shown };
  const tenant = caller.tenant;
  // An API key narrowed to some models (`models`) sees no other: a model outside its subset reads as unknown, as on every other route.
  const visible = !caller.key?.models || caller.key.models.includes(id);
  const model = visible && id.length <= MAX_MODEL_ID && id.split(':')[2] === tenant.tenantId ? (tenant.fineTunedModels ?? []).find((m) => m.id === id) : undefined;
  if (!model) {
    const policy = id.startsWith('ft:') ? undefined : resolvePolicy(deps.config, tenant);
    const catalog = visible && policy !== undefined && (policy.models.has(id) || deps.config.fineTuning.baseModels.some((b) => b.id === id));
    if (catalog) {
      // Named as what it is: a model of the platform's catalog (the gateway's, or a fine-tuning base model), not a fine-tuned one.
      audit.detail = { catalogModel: id };
      throw new GatewayError(403, `The model '${id}' is a model of the platform's catalog, not one of your fine-tuned models; only fine-tuned models (ft:<base>:${tenant.tenantId}:<suffix>:<job>) can be deleted`, 'permission_error', 'model_not_deletable', 'model');
    }
    // An alias of a catalog model the caller may use (gateway.modelAliases, `default`): GET /v1/models lists it and
    // retrieves it, so it is named as what it stands for, as its target's delete is, never "does not exist".
    const target = policy?.aliases?.get(id);
    if (target !== undefined && policy!.models.has(target) && (!caller.key?.models || caller.key.models.includes(target))) {
      audit.detail = { catalogModel: target, alias: id };
      throw new GatewayError(403, `The model '${id}' is an alias of ${target}, a model of the platform's catalog, not one of your fine-tuned models; only fine-tuned models (ft:<base>:${tenant.tenantId}:<suffix>:<job>) can be deleted`, 'permission_error', 'model_not_deletable', 'model');
    }
    throw modelNotFound(shown);
  }
  const accountId = tenant.accountId;
  if (!accountId) throw new GatewayError(500, `tenant ${tenant.tenantId} lists fine-tuned models but has no account in its registry record`, 'server_error', 'internal_error');
  audit.detail = { fineTunedModel: id, endpointName: model.endpointName, jobId: model.jobId };

  let removed: string[];
  try {
    const sageMaker = await deps.sageMaker({ tenantId: tenant.tenantId, accountId });
    const deletion = await deleteEndpointResources(sageMaker, model.endpointName, { onlyIfEndpointDeletable: true });
    if (deletion.endpointStatus && BUSY_ENDPOINT_STATES.has(deletion.endpointStatus)) {
      throw new GatewayError(409, `The model '${id}' cannot be deleted yet: its endpoint is ${deletion.endpointStatus} (SageMaker deletes an endpoint only once it is in service or failed); delete it again once it is`, 'invalid_request_error', 'model_not_ready', 'model', NO_RETRY);
    }
    removed = deletion.removed;
  } catch (e) {
    if (e instanceof GatewayError) throw e;
    // The model stays listed and routed: nothing was taken out of the registry. Not retried by the SDKs, as every 502 (GatewayError).
    throw new GatewayError(502, `SageMaker did not delete the endpoint of model '${id}' (${errorCause(e)}); it is still listed: delete it again later`, 'upstream_error', 'upstream_error', 'model');
  }
  audit.detail = { ...audit.detail, deleted: removed.join(',') || 'none (already gone)' };
  // SageMaker has deleted (or is deleting) the endpoint, and the registry still lists the model: a delete
  // run again finds the model listed, its SageMaker resources gone (success), and finishes the job mark and the
  // removal. So a 5xx the SDKs retry (no x-should-retry: false), saying what happened; before, a generic 500.
  const incomplete = (e: unknown) => {
    logger.error('model deletion incomplete', { tenantId: tenant.tenantId, model: id, error: (e as Error).message });
    return new GatewayError(503, `The endpoint of model '${id}' was deleted, but the model could not be taken out of your model list (${errorCause(e)}); it is still listed: delete it again to finish`, 'server_error', 'model_deletion_incomplete', 'model');
  };
  try {
    await markJob(deps.jobs, tenant.tenantId, model.jobId, id, model.endpointName, caller.userId);
  } catch (e) {
    throw incomplete(e);
  }
  let taken: boolean;
  try {
    taken = await deps.models.removeFineTunedModel(tenant.tenantId, id);
  } catch (e) {
    // The write's outcome is unknown: DynamoDB may have carried it out and the answer been lost (a 500, a reset
    // connection). Looked at again (the removal reads the record strongly consistent): a model no longer listed was
    // taken out (by this request, or a concurrent delete), and this request deleted its endpoint: `deleted: true`. Before,
    // a 503 here, for a model already unlisted, whose retry by the SDK then found no model: a 404.
    try {
      await deps.models.removeFineTunedModel(tenant.tenantId, id);
    } catch {
      throw incomplete(e);
    }
    taken = true;
  }
  // A concurrent delete of the same model took it out first: that one answered `deleted: true`.
  if (!taken) throw modelNotFound(id);
  return { id, object: 'model', deleted: true };
}

/** Marks the job whose model was deleted (conditional on the status it was read with; read again when an event moved it meanwhile). */
async function markJob(jobs: FineTuningStore, tenantId: string, jobId: string, modelId: string, endpointName: string, userId: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const job = await jobs.get(tenantId, jobId);
    if (!job || job.modelDeletedAt !== undefined) return;
    const marked: FineTuningJob = {
      ...job,
      // A job whose deployment crashed after the registry write and before its own (endpoint-events.ts: the job waits for its
      // endpoint under its claim): its model was deployed. The claim and the wait end with the job, as settle's own write ends
      // them: no event or look releases a claim on a job no longer running, and the offboarding's retirement waits on a claim.
      ...(isActiveStatus(job.status) ? { status: 'succeeded' as const, finishedAt: job.finishedAt ?? nowSeconds(), deploying: undefined, awaitingEndpointSince: undefined } : {}),
      fineTunedModel: job.fineTunedModel ?? modelId, endpointName: job.endpointName ?? endpointName, modelDeletedAt: nowSeconds(),
      events: [jobEvent('info', `Model ${modelId} deleted by ${userId}; endpoint ${endpointName} deleted`), ...job.events],
    };
    // Conditional on the claim as read (a settle in flight then finds the job moved, and lets go of nothing it still needs).
    if (await jobs.update(marked, job.status, job.deploying)) return;
  }
  throw new Error(`fine-tuning job ${jobId} kept changing while its model ${modelId} was deleted`);
}
