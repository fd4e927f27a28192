import { CreateEndpointCommand, CreateEndpointConfigCommand, CreateModelCommand, DescribeEndpointCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { randomBytes } from 'node:crypto';
import { jobEvent, nowSeconds } from './job-events.js';
import type { PlatformConfig } from '../../lib/config/schema.js';
import { modelIdOfJob, MODEL_ARTIFACTS_PREFIX, type FineTuningEvent, type FineTuningJob, type FineTuningStatus } from '../../lib/fine-tuning.js';
import { tenantRoleName } from '../../lib/tenant-naming.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import type { AuditRecord, AuditSink } from '../inference/audit.js';
import { exists, OFFBOARDING_CANCEL_EVENT } from './retire-fine-tuned-models.js';
import { EndpointEvents, removeDeploymentLeftovers } from './endpoint-events.js';
import type { EndpointCheckScheduler } from './endpoint-checks.js';
import { deploymentInputs, trainingTarget, type TrainingTarget } from './sagemaker-requests.js';
import { isActive, type FineTuningStore } from './stores/job-store.js';
import type { TenantModels } from './stores/tenant-models.js';
import { isTransientError } from '../shared/errors.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-fine-tuning');

/** The part of SageMaker's "Training Job State Change" event detail this handler reads. */
export interface TrainingStateChange {
  TrainingJobName: string;
  TrainingJobStatus: 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';
  SecondaryStatus?: string;
  FailureReason?: string;
  ModelArtifacts?: { S3ModelArtifacts?: string };
  BillableTimeInSeconds?: number;
  /** When training began and ended on SageMaker's instances (AWS bills the interval): epoch milliseconds or ISO text in an event, a Date from DescribeTrainingJob. */
  TrainingStartTime?: number | string | Date;
  TrainingEndTime?: number | string | Date;
}

/** An event's timestamp as epoch seconds: a Date, ISO text, or epoch milliseconds (or seconds, below 10^11); undefined when absent or unreadable. */
export function epochSeconds(t: number | string | Date | undefined): number | undefined {
  if (t === undefined || t === null) return undefined;
  const ms = t instanceof Date ? t.getTime() : typeof t === 'number' ? (t < 1e11 ? t * 1000 : t) : /^\d+(\.\d+)?$/.test(t) ? Number(t) * (Number(t) < 1e11 ? 1000 : 1) : Date.parse(t);
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : undefined;
}

export interface TrainingEventsDeps {
  config: PlatformConfig;
  jobs: FineTuningStore;
  tenants: TenantModels;
  audit: AuditSink;
  sageMaker: (target: TrainingTarget) => Promise<SageMakerClient>;
  /**
   * Where the look at a deployment's endpoint is scheduled when its state change event may not come (endpoint-checks.ts).
   * @default - none (`tessera serve`'s poller looks at every waiting job on each pass)
   */
  endpointChecks?: EndpointCheckScheduler;
}

export type TrainingEventOutcome = 'ignored' | 'stale' | FineTuningStatus;

/**
 * Whether a SageMaker create that failed may have been carried out all the same: no answer came (a timeout, a
 * connection reset), SageMaker failed on its side (5xx), or the error came after the SDK's own retries (an earlier
 * attempt may have landed; its retry's refusal, a throttling say, says nothing about it). A refusal of a single
 * attempt (4xx: validation, AccessDenied, a quota) created nothing.
 */
export function mayHaveLanded(e: unknown): boolean {
  const err = e as { name?: string; code?: string; $fault?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
  return err.$fault === 'server' || (err.$metadata?.httpStatusCode ?? 0) >= 500 || (err.$metadata?.attempts ?? 1) > 1
    || ['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'AbortError'].includes(err.name ?? '')
    || ['ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(err.code ?? '');
}

/** The event of a job whose training job SageMaker reported `Completed` (deployed or not: its training ran, and was billed). */
export const TRAINING_COMPLETED = 'Training completed';

/** The event of a deployment interrupted by a transient error, kept for a retry of its delivery (the rest of the message names the error). */
export const DEPLOYMENT_INTERRUPTED = 'Deploying the model was interrupted';

/** `events` under a `Training completed` event, added unless an interrupted delivery of the deployment wrote it already. */
const afterTraining = (events: FineTuningEvent[]): FineTuningEvent[] =>
  events.some((e) => e.message === TRAINING_COMPLETED) ? events : [jobEvent('info', TRAINING_COMPLETED), ...events];

/**
 * SageMaker's endpoint states a deployment cannot go on from: the endpoint is not coming up. Not `OutOfService`: "Endpoint
 * is not available to take incoming requests" (SageMaker API Reference, DescribeEndpoint), a state it can leave, which
 * the endpoint's wait waits through (endpoint-events.ts COMING_UP); `Failed` is the end.
 */
const DEAD_ENDPOINT_STATES: ReadonlySet<string> = new Set(['Failed', 'Deleting']);


/**
 * Moves a job along SageMaker's training state changes: running (and a data-read audit record naming
 * what the job reads), failed with SageMaker's reason, cancelled, or, on Completed, deployed: the
 * model, an endpoint config with the tenant key and an endpoint on the tier's instance type are
 * created in the tenant's account, and the job stays `running` until the endpoint is in service
 * (EndpointEvents, endpoint-events.ts: then `succeeded` and `ft:<base>:<tenant>:<suffix>:<job part>` joins the
 * tenant's models) or has failed (`failed`). An event from an account other than the job's tenant's
 * is ignored (and logged): one tenant cannot move another's job.
 */
export class TrainingEvents {
  constructor(private readonly deps: TrainingEventsDeps) {}

  /** @param eventId the EventBridge event's id: a redelivery (Lambda's retries of an asynchronous invocation) carries the same one. @default - a fresh token */
  async handle(detail: TrainingStateChange, sourceAccount: string, eventId?: string): Promise<TrainingEventOutcome> {
    const job = await this.deps.jobs.findByTrainingJobName(detail.TrainingJobName);
    if (!job) return 'ignored';
    const tenant = await this.deps.tenants.getTenant(job.tenantId);
    if (!tenant || tenant.accountId !== sourceAccount) {
      logger.error('training event from an account that does not own the job', { trainingJobName: detail.TrainingJobName, sourceAccount, tenantId: job.tenantId });
      return 'ignored';
    }
    const audit = (action: string, outcome: string, detailFields: AuditRecord['detail']) => this.deps.audit.write({
      requestId: `ftaudit-${randomBytes(12).toString('hex')}`, at: new Date().toISOString(), tenantId: job.tenantId, tier: tenant.tier, userId: job.userId,
      model: job.model, provider: 'sagemaker', latencyMs: 0, status: 200, outcome, action, detail: { jobId: job.id, trainingJobName: job.trainingJobName, ...detailFields },
    });

    // A job a deployment holds (`deploying`: SageMaker said Completed, and a training job ends once) is
    // that deployment's to end. An InProgress, Failed or Stopped event handled meanwhile (EventBridge keeps
    // no order between events, each is its own invocation) would keep the claim and change the status the
    // deployment's last write is conditional on: that write refused, the job stayed `running` with no claim,
    // its slot held for good, beside the model the deployment listed.
    if (detail.TrainingJobStatus !== 'Completed' && job.deploying !== undefined) return 'stale';
    switch (detail.TrainingJobStatus) {
      case 'InProgress': {
        if (job.status !== 'queued' && job.status !== 'validating_files') return 'stale';
        const running: FineTuningJob = { ...job, status: 'running', trainingStartedAt: epochSeconds(detail.TrainingStartTime) ?? nowSeconds(), events: [jobEvent('info', `Training started (${detail.SecondaryStatus ?? 'Starting'})`), ...job.events] };
        if (!(await this.deps.jobs.update(running, job.status))) return 'stale';
        await audit('fine_tuning.data.read', 'ok', { trainingFile: job.trainingFile, ...(job.validationFile ? { validationFile: job.validationFile } : {}), readBy: tenantRoleName(job.tenantId, 'training') });
        return 'running';
      }
      case 'Failed': {
        // A job that ended already (cancelled by its user or an offboarding, succeeded) keeps its end:
        // a late or repeated Failed event would hide an offboarding's cancellation from its retirement.
        if (!isActive(job.status)) return 'stale';
        const finishedAt = nowSeconds();
        const failed: FineTuningJob = {
          ...job, ...trainingSpan(job, detail, finishedAt), status: 'failed', finishedAt,
          error: { code: 'training_failed', message: detail.FailureReason ?? 'SageMaker reported the training job as failed without a reason', param: null },
          events: [jobEvent('error', `Training failed: ${detail.FailureReason ?? 'no reason given'}`), ...job.events],
        };
        if (!(await this.deps.jobs.update(failed, job.status))) return 'stale';
        await audit('fine_tuning.job.failed', 'training_failed', { reason: failed.error!.message });
        return 'failed';
      }
      case 'Stopped': {
        if (job.status === 'cancelled') return 'stale';
        const finishedAt = nowSeconds();
        const cancelled: FineTuningJob = { ...job, ...trainingSpan(job, detail, finishedAt), status: 'cancelled', finishedAt, events: [jobEvent('warn', 'Training job stopped'), ...job.events] };
        return (await this.deps.jobs.update(cancelled, job.status)) ? 'cancelled' : 'stale';
      }
      case 'Completed':
        return this.deploy(job, detail, tenant, audit, eventId ?? `deploy-${randomBytes(12).toString('hex')}`);
      default:
        return 'stale';
    }
  }

  /**
   * Deploys a completed job's model, fenced against an offboarding's retirement
   * (retire-fine-tuned-models.ts) without timing assumptions: (1) the job is claimed for this
   * deployment (`deploying` = the event's id, a conditional write on the job, the item the
   * retirement cancels with a conditional write too), then (2) the tenant's status is read strongly
   * consistent. The offboarding writes `OFFBOARDING` before its retirement begins and the retirement
   * lists the jobs (consistent) after: so either this read sees `OFFBOARDING` (nothing is created,
   * the job is cancelled as the retirement cancels one) or the claim was written before the
   * retirement's listing, which then sees it and does not finish while it is held. The claim is
   * removed only after the SageMaker creates were answered (or given up), so the retirement's next
   * look finds what they made. A redelivered event (same id) resumes its own claim.
   */
  private async deploy(job: FineTuningJob, detail: TrainingStateChange, tenant: TenantRecord, audit: (a: string, o: string, d: AuditRecord['detail']) => Promise<void>, token: string): Promise<TrainingEventOutcome> {
    const deployable = (job.status === 'running' || job.status === 'queued') && job.modelDeletedAt === undefined;
    if (!deployable) {
      // This event's own claim, from a delivery that crashed after claiming: the job ended meanwhile
      // (an offboarding cancelled it), so nothing of this deployment goes on; the retirement looks at its name.
      if (job.deploying === token) await this.deps.jobs.releaseDeployment(job.tenantId, job.id, token);
      return 'stale';
    }
    // (1) The claim. A job that moved, or that another deployment holds (a duplicate delivery), is not deployed here.
    if (!(await this.deps.jobs.claimDeployment(job.tenantId, job.id, job.status, token))) return 'stale';
    // Training ended when SageMaker says (TrainingEndTime) or, without it, now: the deployment that follows is not training.
    // (A redelivery after an interrupted delivery keeps the end that one recorded.)
    const claimed: FineTuningJob = { ...job, ...trainingSpan(job, detail, job.trainingEndedAt ?? nowSeconds()), deploying: token };
    /** The job's next state, written only if still `job.status` and still claimed by this deployment; the claim goes with it (or alone when the job moved). */
    const settle = async (next: FineTuningJob): Promise<boolean> => {
      if (await this.deps.jobs.update({ ...next, deploying: undefined, awaitingEndpointSince: undefined }, job.status, token)) return true;
      await this.deps.jobs.releaseDeployment(job.tenantId, job.id, token);
      return false;
    };
    // (2) The tenant's status, read strongly consistent (the record `tenant` came from the gateway's eventually consistent read).
    // A tenant being offboarded gets no new endpoint: offboarding's *Retire fine-tuned models* may have
    // run already (nothing would delete it, and its network interfaces would hold the tenant's subnets
    // at the stack deletion). The job is cancelled as the retirement cancels one, which then records it.
    const status = await this.deps.tenants.tenantStatus(job.tenantId);
    if (status === undefined || status === 'OFFBOARDING' || status === 'OFFBOARDED') {
      const cancelled: FineTuningJob = {
        ...claimed, status: 'cancelled', finishedAt: nowSeconds(),
        events: [jobEvent('warn', `${OFFBOARDING_CANCEL_EVENT}: training completed, the model was not deployed`), ...afterTraining(job.events)],
      };
      if (!(await settle(cancelled))) return 'stale';
      await audit('fine_tuning.job.cancelled', 'offboarding', { reason: 'the tenant is being offboarded: the model was not deployed' });
      return 'cancelled';
    }
    // A redelivery of this event (same id) after its deployment made its creates and recorded the wait (its look threw, its
    // answer was lost): nothing is created again, the endpoint is looked at as its event or a look would (before, the creates
    // were sent again and an endpoint that had failed meanwhile failed the job as "EndpointNotUsable", without SageMaker's reason).
    if (job.deploying === token && job.awaitingEndpointSince !== undefined && job.endpointName !== undefined) return this.followEndpoint(job, tenant);
    const base = this.deps.config.fineTuning.baseModels.find((b) => b.id === job.model);
    const tier = this.deps.config.tiers[tenant.tier];
    const target = trainingTarget(tenant);
    const artifacts = detail.ModelArtifacts?.S3ModelArtifacts ?? '';
    /**
     * The job failed at its deployment: its training completed (SageMaker said so, and billed it), so its events say
     * that first, then the failure, then what was done with what the deployment had created (`cleanup`), in that order.
     */
    const fail = async (message: string, cleanup?: { event: FineTuningEvent; detail: AuditRecord['detail'] }) => {
      const failed: FineTuningJob = {
        ...claimed, status: 'failed', finishedAt: nowSeconds(), error: { code: 'deployment_failed', message, param: null },
        events: [...(cleanup ? [cleanup.event] : []), jobEvent('error', message), ...afterTraining(job.events)],
      };
      await settle(failed);
      await audit('fine_tuning.model.deployment_failed', 'deployment_failed', { reason: message, ...cleanup?.detail });
      return 'failed' as const;
    };
    const modelId = modelIdOfJob(job);
    // One model id, one endpoint: the registry lists a model once (addFineTunedModel skips an id it lists), so an
    // endpoint made for a second job of the id would run, billed, behind no model. Model ids carry their job's part and a
    // create draws an id no recorded job or listed model has, so only two legacy jobs of one suffix (created before model
    // ids had a job part, when a cancelled job's suffix was free again) meet here.
    const holder = (tenant.fineTunedModels ?? []).find((m) => m.id === modelId && m.jobId !== job.id);
    if (holder) return fail(`the registry already lists model ${modelId} for job ${holder.jobId} (endpoint ${holder.endpointName}); this job's model was not deployed: train again with another suffix`);
    if (!base || !tier) return fail(`base model ${job.model} or tier ${tenant.tier} is no longer configured`);
    if (!artifacts.startsWith(`s3://${target.bucket}/${MODEL_ARTIFACTS_PREFIX}`)) return fail(`model artifacts "${artifacts}" are not in the tenant bucket's ${MODEL_ARTIFACTS_PREFIX} prefix; not deployed`);

    const inputs = deploymentInputs(job, base, tier, target, artifacts);
    let sageMaker: SageMakerClient | undefined;
    const endpointName = inputs.endpoint.EndpointName!;
    // A redelivery of this event (Lambda's retry, a redrive from the dead-letter queue) resumes its own claim: an earlier
    // delivery may have created any of the three, whatever it recorded (its answer may have been lost).
    const resumed = job.deploying === token;
    /** Whether a create of this deployment (or of an earlier delivery of its event) was answered, or may have landed (mayHaveLanded): something of its name may exist. */
    let created = resumed;
    /**
     * The endpoint of this name, if SageMaker has one: it is this deployment's (names are one per job, the launcher's
     * tag condition keeps them to the tenant), made by an earlier delivery whose answer was lost. One that is coming up
     * or in service is followed, not created twice; one that failed (or is going) ends the deployment.
     */
    const existingEndpoint = async (): Promise<boolean> => {
      let status: string | undefined;
      if (!(await exists(async () => { status = (await sageMaker!.send(new DescribeEndpointCommand({ EndpointName: endpointName })))?.EndpointStatus; }))) return false;
      if (status !== undefined && DEAD_ENDPOINT_STATES.has(status)) {
        throw Object.assign(new Error(`endpoint ${endpointName}, created by an earlier delivery of this deployment, is ${status}`), { name: 'EndpointNotUsable' });
      }
      return true;
    };
    try {
      sageMaker = await this.deps.sageMaker(target);
      for (const command of [new CreateModelCommand(inputs.model), new CreateEndpointConfigCommand(inputs.endpointConfig), new CreateEndpointCommand(inputs.endpoint)]) {
        if (command instanceof CreateEndpointCommand && resumed && (await existingEndpoint())) break;
        try {
          await sageMaker.send(command as never);
        } catch (e) {
          // An earlier delivery of this event created it (same name, same tenant): what exists is this deployment's, and
          // reused (the endpoint is described first: one that failed is not listed).
          if (!/already exist/i.test((e as Error).message)) {
            // No answer, a 5xx, or a refusal after the SDK's own retries: this create may have landed all the same
            // (before, a CreateModel whose answer was lost left its model, listed nowhere, until the offboarding).
            if (mayHaveLanded(e)) created = true;
            throw e;
          }
          created = true;
          if (command instanceof CreateEndpointCommand && !(await existingEndpoint())) throw e;
        }
        created = true;
      }
    } catch (e) {
      const message = `could not deploy the model: ${(e as Error).name}: ${(e as Error).message}`;
      if (isTransientError(e)) {
        // A transient error (a throttling, a 5xx, a timeout) ends no job: its training completed and was billed. The job
        // keeps its claim (and so its slot, and the offboarding's retirement waits for it) and what was created; the event
        // goes back to Lambda, whose retry (the same event id) resumes the claim and the deployment where it stopped. When
        // every retry fails the event waits in the events Lambda's dead-letter queue, and `tessera dlq redrive` resumes it
        // the same way. The job's events say why it is still `running`.
        const interrupted: FineTuningJob = {
          ...claimed,
          events: [jobEvent('warn', `${DEPLOYMENT_INTERRUPTED} (${(e as Error).name}: ${(e as Error).message}); the training completed and what was created is kept: the deployment is retried`), ...afterTraining(job.events)],
        };
        if (!(await this.deps.jobs.update(interrupted, job.status, token))) {
          // The job moved meanwhile (the offboarding's retirement cancelled it): the claim goes, the retirement's next look deletes what exists.
          await this.deps.jobs.releaseDeployment(job.tenantId, job.id, token);
          return 'stale';
        }
        await audit('fine_tuning.model.deployment_interrupted', 'retrying', { reason: message, endpointName });
        throw e;
      }
      // What this deployment created (the model, when CreateEndpointConfig was refused; its config too, when CreateEndpoint
      // was) is deleted now, while the claim holds the offboarding's retirement off: no model lists it, so nothing else would
      // (models.delete cannot name it) until the tenant is offboarded. As the launcher, described first, tag-conditioned, as
      // every deletion (deleteEndpointResources); an endpoint still being created is left with its config and model, for the retirement.
      return fail(message, sageMaker && created ? await removeDeploymentLeftovers(sageMaker, endpointName) : undefined);
    }
    // The endpoint is coming up (minutes; SageMaker may yet fail it: capacity, image, model data). The job stays
    // `running` under its claim, its model not listed (a request for it would reach an endpoint not in service),
    // until the endpoint's state change (EndpointEvents) or a re-check says how it ended; it is looked at once now
    // (moto's endpoints, or a redelivery after the endpoint came up, end the wait at once).
    const awaiting: FineTuningJob = {
      ...claimed, status: 'running', endpointName, endpointInstanceType: job.endpointInstanceType ?? tier.training.endpointInstanceTypes[0], awaitingEndpointSince: job.awaitingEndpointSince ?? nowSeconds(),
      events: job.awaitingEndpointSince !== undefined ? claimed.events : [
        jobEvent('info', `Endpoint ${endpointName} (${tier.training.endpointInstanceTypes[0]}) is being created for model ${modelId}: the job succeeds once it is in service`),
        ...afterTraining(job.events),
      ],
    };
    if (!(await this.deps.jobs.update(awaiting, job.status, token))) {
      // A job cancelled meanwhile (an offboarding's retirement, which waited for this claim): the claim goes, and the retirement's next look deletes what was made.
      await this.deps.jobs.releaseDeployment(job.tenantId, job.id, token);
      return 'stale';
    }
    await audit('fine_tuning.model.endpoint_creating', 'ok', { fineTunedModel: modelId, endpointName, artifacts });
    return this.followEndpoint(awaiting, tenant, sageMaker);
  }

  /**
   * The endpoint of `awaiting` (a job whose deployment made its creates and waits for it) looked at once now (moto's
   * endpoints, or a redelivery after the endpoint came up or failed, end the wait at once); still coming up, a look is
   * scheduled, in case the endpoint's state change event never comes (endpoint-checks.ts).
   */
  private async followEndpoint(awaiting: FineTuningJob, tenant: TenantRecord, sageMaker?: SageMakerClient): Promise<TrainingEventOutcome> {
    const outcome = await new EndpointEvents(this.deps).settle(awaiting, tenant, sageMaker);
    if (outcome === 'running') await this.deps.endpointChecks?.schedule({ tenantId: awaiting.tenantId, jobId: awaiting.id, check: 1 });
    return outcome;
  }
}

/**
 * What a terminal event tells of the training's own span: its start (the event's TrainingStartTime, else the one
 * kept from the InProgress event) and its end (the event's TrainingEndTime, else `fallbackEnd`: when it was seen).
 * The terminal event's TrainingStartTime wins: the first InProgress (SecondaryStatus Starting) comes before
 * SageMaker sets it, so what that kept is when the job was seen, with the instances' start-up in it.
 * A job whose training never began (stopped while queued) gets an end only.
 */
function trainingSpan(job: FineTuningJob, detail: TrainingStateChange, fallbackEnd: number): Pick<FineTuningJob, 'trainingStartedAt' | 'trainingEndedAt'> {
  const start = epochSeconds(detail.TrainingStartTime) ?? job.trainingStartedAt;
  return { ...(start !== undefined ? { trainingStartedAt: start } : {}), trainingEndedAt: epochSeconds(detail.TrainingEndTime) ?? fallbackEnd };
}
