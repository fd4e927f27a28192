import {
  DeleteEndpointCommand, DeleteEndpointConfigCommand, DeleteModelCommand, DescribeEndpointCommand, DescribeEndpointConfigCommand, DescribeModelCommand,
  DescribeTrainingJobCommand, StopTrainingJobCommand, type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import { randomBytes } from 'node:crypto';
import type { FineTuningJob } from '../../lib/fine-tuning.js';
import type { RetiredFineTuning } from '../../lib/tenant-record.js';
import type { AuditRecord, AuditSink } from '../inference/audit.js';
import { jobEvent, nowSeconds } from './job-events.js';
import type { TrainingTarget } from './sagemaker-requests.js';
import { awaitsEndpoint, isActive, type FineTuningStore } from './stores/job-store.js';
import type { TenantModels } from './stores/tenant-models.js';

/** The direct invocation of the fine-tuning events Lambda by the offboarding workflow (*Retire fine-tuned models*). */
export const RETIRE_ACTION = 'retire-fine-tuned-models';

export interface RetireRequest {
  action: typeof RETIRE_ACTION;
  tenantId: string;
  /** The offboarding execution: named in the cancelled jobs' events and the audit records. */
  executionArn?: string;
  requestId?: string;
  /** The previous run's answer in this execution (`$.fineTuning`; `{}` before the first): carries `waitingSince`. */
  previous?: { waitingSince?: string };
}

/**
 * How long an offboarding waits for SageMaker (endpoints deleting, or still creating: one stuck in
 * `Creating` turns `Failed` after about an hour) before it stops, naming what is left, instead of
 * polling until the state machine's two-day timeout.
 */
export const MAX_WAIT_SECONDS = 3 * 60 * 60;

/** The start of the event a job cancelled by an offboarding carries (how a later run recognises them). */
export const OFFBOARDING_CANCEL_EVENT = 'Job cancelled: the tenant is being offboarded';

export interface RetireProgress extends RetiredFineTuning {
  /** `COMPLETE` once a run found no active job and every endpoint, endpoint config and model gone; else call again after a pause. */
  state: 'COMPLETE' | 'IN_PROGRESS';
  /** What this run deleted, as `endpoint/<name>`, `endpoint-config/<name>`, `model/<name>`. */
  deleted: string[];
  /**
   * Endpoints still there: SageMaker is deleting them (DescribeEndpoint `Deleting`), or is still
   * creating or updating them (`Creating`, `Updating`, `SystemUpdating`, `RollingBack`: SageMaker
   * refuses their deletion until they are in service or failed; a later run deletes them). Their
   * network interfaces are still in the tenant's subnets.
   */
  deleting: string[];
  /**
   * Every name (endpoint, endpoint config and model) this run made sure of, from the registry and
   * the jobs table: a retirement that had any records itself (the export step), so that a resumed
   * offboarding does not need the launcher after the stack deletion.
   */
  checkedNames: string[];
  /** Training jobs this run stopped. */
  stopped: string[];
  /**
   * Training job names of jobs a deployment has claimed (training-events.ts: `deploying`): its
   * SageMaker creates may still land, so the run is `IN_PROGRESS` until the claim is gone and a
   * later run has looked at what it made. Absent when none.
   */
  deployments?: string[];
  /**
   * Training jobs SageMaker is still stopping (`Stopping`: their instances and network interfaces are
   * still in the tenant's subnets): the run is `IN_PROGRESS` until they are stopped. Absent when none.
   */
  stopping?: string[];
  /**
   * false: the offboarding had recorded this retirement already and the tenant's launcher role could
   * not be assumed (gone with the stack): the record is answered without looking again. Absent: this
   * run looked (a re-run too).
   */
  lookedAgain?: false;
  /** When this execution's runs first answered `IN_PROGRESS` (ISO time), while they do. */
  waitingSince?: string;
}

export interface RetireDeps {
  jobs: FineTuningStore;
  tenants: Pick<TenantModels, 'getTenant'>;
  /** SageMaker in the tenant's account as its training-launcher role (only `<tenant>-ft-*` names, only with its tag). */
  sageMaker: (target: Pick<TrainingTarget, 'tenantId' | 'accountId'>) => Promise<SageMakerClient>;
  audit: AuditSink;
}

/** Names handled at once by a run (SageMaker's per-account request rates are in the tens per second; each name is up to four calls). */
export const NAME_CONCURRENCY = 8;

/** Endpoint states SageMaker refuses DeleteEndpoint in until they end (in service or failed). */
export const BUSY_ENDPOINT_STATES: ReadonlySet<string> = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack']);

/** SageMaker's answer for a name it does not know (DescribeEndpoint, Delete*): "Could not find endpoint ...". */
export const isGone = (e: unknown) => (e as Error).name === 'ValidationException' && /could not find/i.test((e as Error).message);

/** IAM's refusal (STS AssumeRole of a role that no longer exists; a Delete of an untagged, i.e. missing, name under the launcher's tag condition). */
const isAccessDenied = (e: unknown) => ['AccessDenied', 'AccessDeniedException'].includes((e as Error).name);

/** A training job's status at SageMaker, undefined when it has none of that name. */
async function describeTrainingJobStatus(sageMaker: SageMakerClient, name: string): Promise<string | undefined> {
  try {
    return (await sageMaker.send(new DescribeTrainingJobCommand({ TrainingJobName: name })))?.TrainingJobStatus;
  } catch (e) {
    if (isGone(e)) return undefined;
    throw e;
  }
}

/** Whether a Describe call finds its resource: false on SageMaker's "Could not find", any other error thrown. */
export async function exists(describe: () => Promise<unknown>): Promise<boolean> {
  try {
    await describe();
    return true;
  } catch (e) {
    if (isGone(e)) return false;
    throw e;
  }
}

/** What deleteEndpointResources did with one name. */
export interface EndpointDeletion {
  /** What it deleted, as `endpoint/<name>`, `endpoint-config/<name>`, `model/<name>`. */
  removed: string[];
  /**
   * The endpoint's status when it is still there afterwards: `Deleting` (SageMaker is deleting it, its
   * instance and network interfaces going), or one of BUSY_ENDPOINT_STATES (not deletable yet); undefined when gone.
   */
  endpointStatus?: string;
}

/**
 * Deletes the endpoint, endpoint config and model of one fine-tuned model's name (all three are
 * named after its training job: training-events.ts), as the tenant's training-launcher role. Each is
 * described first and deleted only if SageMaker has it: the launcher's Delete actions are allowed on
 * the tenant's tagged resources only, and a name that does not exist has no tag (AccessDenied on AWS,
 * not "Could not find"; the launcher describes its own names untagged: constructs/training-policies.ts
 * DescribeOwnNames). An endpoint SageMaker is still creating or updating is left (SageMaker refuses its
 * deletion); with `onlyIfEndpointDeletable`, so are its config and model, and nothing is deleted.
 * A resource already gone is success: a call run again after a crash goes on.
 * Used by the offboarding's retirement and by `DELETE /v1/models/{model}` (model-deletion.ts).
 */
export async function deleteEndpointResources(sageMaker: SageMakerClient, name: string, options: { onlyIfEndpointDeletable?: boolean } = {}): Promise<EndpointDeletion> {
  let status: string | undefined;
  try {
    status = (await sageMaker.send(new DescribeEndpointCommand({ EndpointName: name }))).EndpointStatus ?? 'Unknown';
  } catch (e) {
    if (!isGone(e)) throw e;
  }
  const removed: string[] = [];
  if (status && BUSY_ENDPOINT_STATES.has(status) && options.onlyIfEndpointDeletable) return { removed, endpointStatus: status };
  if (status && status !== 'Deleting' && !BUSY_ENDPOINT_STATES.has(status)) {
    try {
      await sageMaker.send(new DeleteEndpointCommand({ EndpointName: name }));
      removed.push(`endpoint/${name}`);
      status = 'Deleting';
    } catch (e) {
      if (isGone(e)) {
        status = undefined;
      } else {
        // Deleted by someone else between the describe and the delete (DELETE /v1/models/{model} during an
        // offboarding's retirement, or the other way round): SageMaker refuses a delete of an endpoint already
        // Deleting, and IAM one of a name gone (no tag left): looked at again, that is success.
        let now: string | undefined;
        try {
          now = (await sageMaker.send(new DescribeEndpointCommand({ EndpointName: name }))).EndpointStatus ?? 'Unknown';
        } catch (again) {
          if (!isGone(again)) throw e;
        }
        if (now !== undefined && now !== 'Deleting') throw e;
        status = now;
      }
    }
  }
  // The config and the model are not in use by anything else (each endpoint has its own, of the same name).
  const parts = [
    ['endpoint-config', () => sageMaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: name })), () => sageMaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: name }))],
    ['model', () => sageMaker.send(new DescribeModelCommand({ ModelName: name })), () => sageMaker.send(new DeleteModelCommand({ ModelName: name }))],
  ] as const;
  for (const [type, describe, remove] of parts) {
    if (!(await exists(describe))) continue;
    try {
      await remove();
      removed.push(`${type}/${name}`);
    } catch (e) {
      // Gone meanwhile (a concurrent deletion): IAM answers AccessDenied for the untagged missing name; described again, that is success.
      if (!isGone(e) && (await exists(describe))) throw e;
    }
  }
  return { removed, ...(status === 'Deleting' || (status !== undefined && BUSY_ENDPOINT_STATES.has(status)) ? { endpointStatus: status } : {}) };
}

/**
 * Retires what a tenant's fine-tuning left running in its account, for its offboarding: stops its
 * active training jobs (StopTrainingJob; the job cancelled in the jobs table with an event naming
 * the offboarding) and deletes the endpoint, endpoint config and model of each of its fine-tuned
 * models (all three are named after the job's training job: training-events.ts). The endpoint's
 * network interfaces sit in the tenant's compute subnets with its workload security group, so the
 * blueprint stack cannot delete those until SageMaker has deleted the endpoint: the caller waits
 * and calls again until `COMPLETE`.
 *
 * Names come from the registry (`fineTunedModels[].endpointName`) and from the jobs table (every
 * job that was active, succeeded, failed while deploying, or was cancelled): a job whose
 * deployment crashed before the registry write, or whose completion raced this retirement or its
 * user's cancellation, is covered too. An endpoint SageMaker is still creating or updating is not
 * deletable yet: reported in `deleting`, deleted by a later call. Idempotent: a resource already gone is success, a job no longer
 * active is left as it is, and a crash at any point is resumed by the next call. `COMPLETE` only
 * from a run that found nothing left to do, so the last call verifies the earlier ones' work.
 * A tenant without fine-tuning (no job, no model) is answered `COMPLETE` without calling SageMaker.
 * A re-run of an offboarding that recorded the retirement (registry `offboarding.fineTuning`) looks
 * again, as the first did (what a late create left, or a stack deletion that failed on its network
 * interfaces, is found and deleted); only when the launcher cannot be assumed any more (gone with the
 * tenant's stack) is the recorded result answered, `lookedAgain: false`.
 *
 * The fence against the create paths (no timing assumed; DynamoDB strongly consistent reads and
 * conditional writes): the offboarding writes the tenant `OFFBOARDING` before this step, and this
 * step lists the jobs strongly consistent after it. A job creation (fine-tuning-service.ts) records
 * its job, then reads the status consistent before CreateTrainingJob; a deployment
 * (training-events.ts) claims its job (`deploying`), then reads the status consistent before its
 * creates. So either the creator sees `OFFBOARDING` and creates nothing, or its job (and claim) was
 * written before this listing: an active job is stopped and cancelled (a CreateTrainingJob landing
 * after that is stopped by its creator, whose job is no longer validating_files; if the creator
 * died, a cancelled job's training job is looked at on every run), and a claimed job keeps the
 * retirement `IN_PROGRESS` until its deployment ended, after which a run describes what it made.
 */
export async function retireFineTunedModels(deps: RetireDeps, request: RetireRequest): Promise<RetireProgress> {
  const tenant = await deps.tenants.getTenant(request.tenantId);
  if (!tenant) throw Object.assign(new Error(`tenant "${request.tenantId}" is not in the registry`), { name: 'TenantNotFound' });
  const recorded = tenant.offboarding?.fineTuning;

  // Strongly consistent (the job store's list): every job recorded before the tenant became OFFBOARDING is here.
  const jobs = await deps.jobs.list(tenant.tenantId);
  const byOffboarding = (j: FineTuningJob) => j.status === 'cancelled' && j.events.some((e) => e.message.startsWith(OFFBOARDING_CANCEL_EVENT));
  // Every cancelled job, not only the offboarding's: a job cancelled (by its user too) while its
  // Completed event was deploying it has the endpoint that deployment made and no registry entry.
  const deployed = (j: FineTuningJob) => isActive(j.status) || j.status === 'succeeded' || (j.status === 'failed' && j.error?.code === 'deployment_failed') || j.status === 'cancelled';
  const names = [...new Set([...(tenant.fineTunedModels ?? []).map((m) => m.endpointName), ...jobs.filter(deployed).map((j) => j.trainingJobName)])].sort();
  const active = jobs.filter((j) => isActive(j.status));
  // A cancelled job's training job is looked at again: one whose CreateTrainingJob landed after its job
  // was cancelled, and whose creator did not live to stop it (fine-tuning-service.ts), is still running.
  const cancelledNames = new Set(jobs.filter((j) => j.status === 'cancelled').map((j) => j.trainingJobName));
  const progress: RetireProgress = {
    state: 'COMPLETE', cancelledJobs: [], retiredModels: (tenant.fineTunedModels ?? []).map((m) => ({ id: m.id, endpointName: m.endpointName })),
    deleted: [], deleting: [], stopped: [], checkedNames: names,
  };
  // A deployment waiting for its endpoint (awaitsEndpoint) made all its creates: it is cancelled below, its claim with
  // it, and its endpoint deleted by name as any other (waited for while SageMaker is still creating it).
  const deployments = jobs.filter((j) => j.deploying !== undefined && !awaitsEndpoint(j)).map((j) => j.trainingJobName).sort();
  if (deployments.length) progress.deployments = deployments;
  const settle = async () => {
    progress.cancelledJobs = (await deps.jobs.list(tenant.tenantId)).filter(byOffboarding).map((j) => ({ jobId: j.id, trainingJobName: j.trainingJobName })).sort((a, b) => a.jobId.localeCompare(b.jobId));
    if (progress.stopped.length || progress.deleted.length || progress.deleting.length || progress.deployments?.length || progress.stopping?.length) {
      progress.state = 'IN_PROGRESS';
      const since = request.previous?.waitingSince && !Number.isNaN(Date.parse(request.previous.waitingSince)) ? request.previous.waitingSince : new Date().toISOString();
      progress.waitingSince = since;
      // Bounded: an endpoint SageMaker never finishes deleting (or creating) stops the offboarding, named, before anything is destroyed.
      if (progress.deleting.length && Date.now() - Date.parse(since) > MAX_WAIT_SECONDS * 1000) {
        throw Object.assign(new Error(`SageMaker has not deleted endpoint(s) ${progress.deleting.join(', ')} of tenant "${tenant.tenantId}" in ${MAX_WAIT_SECONDS / 3600} h (waiting since ${since}); delete them in its account, then offboard again`), { name: 'FineTuningRetirementStuck' });
      }
      if (progress.stopping?.length && Date.now() - Date.parse(since) > MAX_WAIT_SECONDS * 1000) {
        throw Object.assign(new Error(`SageMaker has not stopped training job(s) ${progress.stopping.join(', ')} of tenant "${tenant.tenantId}" in ${MAX_WAIT_SECONDS / 3600} h (waiting since ${since}); stop them in its account, then offboard again`), { name: 'FineTuningRetirementStuck' });
      }
      // A deployment that claimed a job and never let go (its event's deliveries all failed: the events Lambda's dead-letter queue holds it).
      if (progress.deployments?.length && Date.now() - Date.parse(since) > MAX_WAIT_SECONDS * 1000) {
        throw Object.assign(new Error(`the deployment of job(s) ${progress.deployments.join(', ')} of tenant "${tenant.tenantId}" claimed them and has not ended in ${MAX_WAIT_SECONDS / 3600} h (waiting since ${since}); redrive its Completed event from the fine-tuning events Lambda's dead-letter queue (or, once no delivery of it can run, remove the job's "deploying" attribute), then offboard again`), { name: 'FineTuningRetirementStuck' });
      }
    }
    return progress;
  };
  if (!names.length && !active.length) return settle();
  if (!tenant.accountId) throw Object.assign(new Error(`tenant "${tenant.tenantId}" has fine-tuning jobs or models but no account in its registry record`), { name: 'InvalidTenantRecord' });

  // A re-run looks again (what a late deployment or job creation left is found, or what a run that failed
  // after recording left), unless the launcher cannot: assumed no more (gone with the tenant's stack) or
  // refused (its policies deleted before it by a stack deletion that then failed). Then the recorded
  // retirement is answered, saying it did not look: an operator deletes what is left, as before.
  const cannotLook = (e: unknown): RetireProgress | undefined => (recorded && isAccessDenied(e)
    ? { state: 'COMPLETE', cancelledJobs: recorded.cancelledJobs, retiredModels: recorded.retiredModels, deleted: [], deleting: [], stopped: [], checkedNames: [], lookedAgain: false }
    : undefined);
  let sageMaker: SageMakerClient;
  try {
    sageMaker = await deps.sageMaker({ tenantId: tenant.tenantId, accountId: tenant.accountId });
  } catch (e) {
    const answer = cannotLook(e);
    if (answer) return answer;
    throw e;
  }
  try {
    return await look(sageMaker, tenant);
  } catch (e) {
    const answer = cannotLook(e);
    if (answer) return answer;
    throw e;
  }

  async function look(sageMaker: SageMakerClient, tenant: NonNullable<Awaited<ReturnType<RetireDeps['tenants']['getTenant']>>>): Promise<RetireProgress> {
    const audit = (action: string, detail: AuditRecord['detail']) => deps.audit.write({
      requestId: `ftaudit-${randomBytes(12).toString('hex')}`, at: new Date().toISOString(), tenantId: tenant.tenantId, tier: tenant.tier, userId: 'tessera-offboarding',
      provider: 'sagemaker', latencyMs: 0, status: 200, outcome: 'offboarding', action,
      detail: { ...detail, ...(request.executionArn ? { executionArn: request.executionArn } : {}), ...(request.requestId ? { requestId: request.requestId } : {}) },
    });

    for (const job of active) {
      // Described first, and stopped only if SageMaker has it: the launcher may stop only its tenant's
      // tagged jobs (aws:ResourceTag), and a job SageMaker never created carries no tag, so IAM would
      // answer AccessDenied where SageMaker answers "Could not find" (the launcher describes its names
      // untagged: constructs/training-policies.ts DescribeOwnNames).
      if (await exists(() => sageMaker.send(new DescribeTrainingJobCommand({ TrainingJobName: job.trainingJobName })))) {
        try {
          await sageMaker.send(new StopTrainingJobCommand({ TrainingJobName: job.trainingJobName }));
        } catch (e) {
          // Finished or stopped at SageMaker: nothing runs; the job is cancelled all the same.
          if ((e as Error).name !== 'ValidationException') throw e;
        }
      }
      const cancelled: FineTuningJob = {
        ...job, status: 'cancelled', finishedAt: nowSeconds(),
        ...(awaitsEndpoint(job) ? { deploying: undefined, awaitingEndpointSince: undefined } : {}),
        events: [jobEvent('warn', `${OFFBOARDING_CANCEL_EVENT}${request.executionArn ? ` (${request.executionArn})` : ''}`), ...job.events],
      };
      // A job whose status moved meanwhile (a state-change event) is not overwritten: the next run sees it again.
      if (await deps.jobs.update(cancelled, job.status, job.deploying)) await audit('fine_tuning.job.cancelled', { jobId: job.id, trainingJobName: job.trainingJobName });
      progress.stopped.push(job.trainingJobName);
    }

    // One name at a time took at least three calls each (DescribeEndpoint, DeleteEndpointConfig,
    // DeleteModel), even for names long gone, on every run: a tenant with a few hundred jobs over its
    // life outlasted the Lambda's minute on every run, and the offboarding could never finish.
    // NAME_CONCURRENCY names at once; results kept in the names' order.
    const retireName = async (name: string): Promise<{ removed: string[]; present: boolean; stopped?: boolean; stopping?: boolean }> => {
      let stopped = false;
      let stopping = false;
      if (cancelledNames.has(name)) {
        const status = await describeTrainingJobStatus(sageMaker, name);
        stopping = status === 'Stopping';
        if (status === 'InProgress') {
          await sageMaker.send(new StopTrainingJobCommand({ TrainingJobName: name })).catch((e: Error) => { if (e.name !== 'ValidationException') throw e; });
          await audit('fine_tuning.job.stopped', { trainingJobName: name, reason: 'running although its job was cancelled' });
          stopped = true;
        }
      }
      const { removed, endpointStatus } = await deleteEndpointResources(sageMaker, name);
      if (removed.length) {
        const model = progress.retiredModels.find((m) => m.endpointName === name);
        await audit('fine_tuning.model.retired', { endpointName: name, deleted: removed.join(','), ...(model ? { fineTunedModel: model.id } : {}) });
      }
      return { removed, present: endpointStatus !== undefined, stopped, stopping };
    };
    const results: Array<{ removed: string[]; present: boolean; stopped?: boolean; stopping?: boolean }> = [];
    let next = 0;
    let failure: { error: unknown } | undefined;
    // A failure stops the workers taking more names; the ones in flight finish before the run answers.
    const worker = async () => {
      while (!failure && next < names.length) {
        const i = next++;
        try {
          results[i] = await retireName(names[i]!);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(NAME_CONCURRENCY, names.length) }, worker));
    if (failure) throw failure.error;
    names.forEach((name, i) => {
      progress.deleted.push(...results[i]!.removed);
      if (results[i]!.present) progress.deleting.push(name);
      if (results[i]!.stopped && !progress.stopped.includes(name)) progress.stopped.push(name);
      if (results[i]!.stopping) (progress.stopping ??= []).push(name);
    });
    return settle();
  }
}
