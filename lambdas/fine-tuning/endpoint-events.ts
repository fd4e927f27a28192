import { DescribeEndpointCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { randomBytes } from 'node:crypto';
import { modelIdOfJob, type FineTuningEvent, type FineTuningJob } from '../../lib/fine-tuning.js';
import { roleArn, tenantRoleName } from '../../lib/tenant-naming.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { errorCause } from '../shared/error-cause.js';
import type { AuditRecord } from '../inference/audit.js';
import { jobEvent, nowSeconds } from './job-events.js';
import { BUSY_ENDPOINT_STATES, deleteEndpointResources, OFFBOARDING_CANCEL_EVENT } from './retire-fine-tuned-models.js';
import { trainingTarget } from './sagemaker-requests.js';
import { awaitsEndpoint } from './stores/job-store.js';

export { awaitsEndpoint };
import type { TrainingEventsDeps } from './training-events.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-fine-tuning');

/**
 * The part of SageMaker's "SageMaker Endpoint State Change" event detail read here (AWS, "Events that Amazon
 * SageMaker AI sends to Amazon EventBridge"): the endpoint's name and status. Events spell the status in upper
 * snake case (`IN_SERVICE`, `FAILED`, `CREATING`), DescribeEndpoint in camel case (`InService`): endpointState.
 */
export interface EndpointStateChange {
  EndpointName: string;
  EndpointStatus: string;
  FailureReason?: string | null;
}

export type EndpointEventOutcome = 'ignored' | 'stale' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** An endpoint status in DescribeEndpoint's spelling: `IN_SERVICE` → `InService`, `OUT_OF_SERVICE` → `OutOfService`; one already so spelled is kept. */
export function endpointState(status: string): string {
  if (!/^[A-Z_]+$/.test(status)) return status;
  return status.toLowerCase().split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

/**
 * Endpoint states a deployment waits through: SageMaker is still bringing the endpoint up (or changing it), or the
 * endpoint is out of service. The SageMaker API Reference (DescribeEndpoint, `EndpointStatus`) says of it only
 * "OutOfService: Endpoint is not available to take incoming requests.": a state the endpoint is in, not an end. The
 * end is `Failed`: "Endpoint could not be created, updated, or re-scaled. Use DescribeEndpointOutput$FailureReason for
 * information about the failure. DeleteEndpoint is the only operation that can be performed on a failed endpoint."
 * So an `OutOfService` endpoint is not ready yet: the job keeps waiting (`running`, the looks going on, the wait said
 * overdue after OVERDUE_ENDPOINT_CHECKS of them, endpoint-checks.ts), and ends when SageMaker has the endpoint in service
 * or failed. Before, it failed the job (`deployment_failed`) and deleted an endpoint that could have come back.
 */
const COMING_UP: ReadonlySet<string> = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'OutOfService']);

/** States an event may report that end a wait (the endpoint is described before anything is done). */
const ENDING: ReadonlySet<string> = new Set(['InService', 'Failed', 'Deleting', 'UpdateRollbackFailed']);

/** Thrown for an ending event of an endpoint whose deployment is still making its creates: the event is delivered again (Lambda's retries), and the wait's state is written by then. */
export class DeploymentInFlightError extends Error {
  override readonly name = 'DeploymentInFlight';
}

/**
 * Deletes what a deployment created of `name` (endpoint, endpoint config, model, all named after the
 * training job), as the tenant's launcher: an event for the job, and the audit record's fields. An
 * endpoint SageMaker is still creating is left with its config and model (SageMaker refuses its deletion),
 * for the offboarding's retirement. Errors are reported in the event, never thrown.
 */
export async function removeDeploymentLeftovers(sageMaker: SageMakerClient, name: string): Promise<{ event: FineTuningEvent; detail: AuditRecord['detail'] }> {
  try {
    const { removed, endpointStatus } = await deleteEndpointResources(sageMaker, name, { onlyIfEndpointDeletable: true });
    if (endpointStatus && BUSY_ENDPOINT_STATES.has(endpointStatus)) {
      return { event: jobEvent('warn', `Endpoint ${name} is ${endpointStatus}: it, its configuration and its model are left (SageMaker deletes an endpoint only once it is in service or failed); the tenant's offboarding deletes them`), detail: { leftOver: name } };
    }
    return { event: jobEvent('info', removed.length ? `Deleted what the deployment had created: ${removed.join(', ')}` : 'The deployment had created nothing'), detail: { cleanedUp: removed.join(',') || 'none' } };
  } catch (e) {
    return { event: jobEvent('warn', `What the deployment created of ${name} could not be deleted (${errorCause(e)}); it stays until the tenant's offboarding deletes it`), detail: { leftOver: name, cleanupError: errorCause(e) } };
  }
}

/** DescribeEndpoint's status and failure reason; `Gone` when SageMaker has no endpoint of the name. */
async function describe(sageMaker: SageMakerClient, name: string): Promise<{ status: string; reason?: string }> {
  try {
    const out = await sageMaker.send(new DescribeEndpointCommand({ EndpointName: name }));
    return { status: out?.EndpointStatus ?? 'Unknown', reason: out?.FailureReason };
  } catch (e) {
    if ((e as Error).name === 'ValidationException' && /could not find/i.test((e as Error).message)) return { status: 'Gone' };
    throw e;
  }
}

/**
 * The `succeeded` event's message: the model, its endpoint, the endpoint's instance type, and that it bills hourly until
 * the model is deleted (docs/fine-tuning.md, *Limits and cost*). @param instanceType @default - not named (unknown)
 */
export const succeededMessage = (modelId: string, endpointName: string, instanceType: string | undefined) =>
  `The job has successfully completed: model ${modelId} is in service on endpoint ${endpointName}${instanceType ? ` (${instanceType})` : ''}, `
  + `an always-on SageMaker endpoint billed hourly until the model is deleted (client.models.delete('${modelId}'))`;

/**
 * Ends the wait of a job whose deployment created its endpoint (training-events.ts): `succeeded` once SageMaker
 * says the endpoint is `InService` (then, and only then, its `ft:` model joins the tenant's registry record, where
 * the gateway lists and routes it), `failed` when the endpoint ended any other way (`Failed`, with SageMaker's
 * FailureReason as `error.message`, code `deployment_failed`; `Deleting`, gone), its endpoint,
 * endpoint config and model then deleted (a Failed endpoint bills no instance, but nothing would list or delete
 * them before the tenant's offboarding; the training's artifacts in the tenant bucket are kept). An `OutOfService`
 * endpoint is waited for, as one still coming up (COMING_UP).
 *
 * What moves the job is always DescribeEndpoint (as the tenant's launcher role), never the event's status: an
 * event only says when to look. So an event delivered twice, late or out of order (an `IN_SERVICE` after the
 * endpoint failed), or one for an endpoint no job waits for (a deleted model, a job already ended) changes
 * nothing wrongly; every write is conditional on the job still `running` under the same claim.
 */
export class EndpointEvents {
  constructor(private readonly deps: TrainingEventsDeps) {}

  /**
   * An endpoint state change from EventBridge (or serve's poller). An event from an account other than the
   * job's tenant's is ignored (and logged).
   * @throws DeploymentInFlightError - an ending event for an endpoint whose deployment still holds its creates (retried)
   */
  async handle(detail: EndpointStateChange, sourceAccount: string): Promise<EndpointEventOutcome> {
    const job = await this.deps.jobs.findByTrainingJobName(detail.EndpointName);
    if (!job) return 'ignored';
    const tenant = await this.deps.tenants.getTenant(job.tenantId);
    if (!tenant || tenant.accountId !== sourceAccount) {
      logger.error('endpoint event from an account that does not own the job', { endpointName: detail.EndpointName, sourceAccount, tenantId: job.tenantId });
      return 'ignored';
    }
    if (!awaitsEndpoint(job)) {
      // The deployment that claimed the job is still making its creates (SageMaker's first events come within
      // them): an event that may end the wait is delivered again, once the wait is recorded.
      if (job.status === 'running' && job.deploying !== undefined && job.awaitingEndpointSince === undefined && ENDING.has(endpointState(detail.EndpointStatus))) {
        throw new DeploymentInFlightError(`endpoint ${detail.EndpointName} is ${detail.EndpointStatus} while its deployment is still making its creates; delivered again`);
      }
      return 'stale';
    }
    return this.settle(job, tenant);
  }

  /**
   * Looks at the endpoint of `job` (one that awaitsEndpoint) and ends the wait when the endpoint has ended its
   * creation: the events' way, the creates' own look, and the re-check of a job whose events went missing.
   * @param sageMaker the tenant's launcher client, when the caller has one. @default - assumed here
   * @returns `running` while the endpoint is still coming up; `stale` when the job moved meanwhile
   */
  async settle(job: FineTuningJob, tenant: TenantRecord, sageMaker?: SageMakerClient): Promise<EndpointEventOutcome> {
    const name = job.endpointName!;
    const token = job.deploying!;
    const client = sageMaker ?? await this.deps.sageMaker(trainingTarget(tenant));
    const { status, reason } = await describe(client, name);
    if (COMING_UP.has(status) || status === 'Unknown') return 'running';
    const audit = (action: string, outcome: string, detail: AuditRecord['detail']) => this.deps.audit.write({
      requestId: `ftaudit-${randomBytes(12).toString('hex')}`, at: new Date().toISOString(), tenantId: job.tenantId, tier: tenant.tier, userId: job.userId,
      model: job.model, provider: 'sagemaker', latencyMs: 0, status: 200, outcome, action, detail: { jobId: job.id, trainingJobName: job.trainingJobName, ...detail },
    });
    /** The job's end, written only if it is still `running` under this claim; the claim and the wait go with it (or alone when the job moved). */
    const end = async (next: FineTuningJob): Promise<boolean> => {
      if (await this.deps.jobs.update({ ...next, deploying: undefined, awaitingEndpointSince: undefined }, 'running', token)) return true;
      await this.deps.jobs.releaseDeployment(job.tenantId, job.id, token);
      return false;
    };
    if (status !== 'InService') {
      const message = status === 'Gone'
        ? `the model's endpoint ${name} no longer exists (it was deleted before it came into service)`
        : `the model's endpoint ${name} is ${status}${reason ? `: ${reason}` : ''}`;
      const cleanup = await removeDeploymentLeftovers(client, name);
      const failed: FineTuningJob = {
        ...job, status: 'failed', finishedAt: nowSeconds(), error: { code: 'deployment_failed', message, param: null },
        events: [cleanup.event, jobEvent('error', `Deploying the model failed: ${message}`), ...job.events],
      };
      if (!(await end(failed))) return 'stale';
      await audit('fine_tuning.model.deployment_failed', 'deployment_failed', { reason: message, endpointName: name, endpointStatus: status, ...cleanup.detail });
      return 'failed';
    }
    // In service. A tenant being offboarded gets no model listed (its retirement deletes the endpoint): the job is
    // cancelled as the retirement cancels one. Read strongly consistent, as the deployment's own fence.
    const tenantStatus = await this.deps.tenants.tenantStatus(job.tenantId);
    if (tenantStatus === undefined || tenantStatus === 'OFFBOARDING' || tenantStatus === 'OFFBOARDED') {
      const cancelled: FineTuningJob = { ...job, status: 'cancelled', finishedAt: nowSeconds(), events: [jobEvent('warn', `${OFFBOARDING_CANCEL_EVENT}: the model's endpoint came into service, the model was not listed`), ...job.events] };
      if (!(await end(cancelled))) return 'stale';
      await audit('fine_tuning.job.cancelled', 'offboarding', { reason: 'the tenant is being offboarded: the model was not listed' });
      return 'cancelled';
    }
    const modelId = modelIdOfJob(job);
    await this.deps.tenants.addFineTunedModel(tenant, {
      id: modelId, baseModel: job.model, jobId: job.id, endpointName: name,
      invokeRoleArn: roleArn('aws', tenant.accountId!, tenantRoleName(job.tenantId, 'model-invoker')), createdAt: new Date().toISOString(),
    });
    const succeeded: FineTuningJob = {
      ...job, status: 'succeeded', finishedAt: nowSeconds(), fineTunedModel: modelId,
      events: [jobEvent('info', succeededMessage(modelId, name, job.endpointInstanceType ?? this.deps.config.tiers[tenant.tier]?.training.endpointInstanceTypes[0])), ...job.events],
    };
    // A job that moved meanwhile (an offboarding's retirement cancelled it): the claim goes, the retirement deletes the endpoint and the listed model.
    if (!(await end(succeeded))) return 'stale';
    await audit('fine_tuning.model.deployed', 'ok', { fineTunedModel: modelId, endpointName: name });
    return 'succeeded';
  }
}
