import { ACTIVE_STATUSES, modelIdOfJob, type FineTuningJob, type FineTuningStatus } from '../../../lib/fine-tuning.js';

export class ConcurrentJobLimitError extends Error {
  constructor(readonly limit: number) {
    super(`concurrent fine-tuning job limit of ${limit} reached`);
  }
}

/** A fine-tuned model of the tenant's registry record (`fineTunedModels`): what the gateway lists and routes. */
export interface ListedModel {
  id: string;
  jobId: string;
}

/** A tenant's deployed-model slots in use (deployedModelsOf): models deployed, and active jobs that will deploy one. */
export interface DeployedModels {
  /** Model ids whose endpoint runs (or may run), oldest job first. */
  deployed: string[];
  /** Active jobs (`validating_files`, `queued`, `running`), each deploying an endpoint when its training completes; newest first. */
  training: FineTuningJob[];
}

/** The tier's `training.maxDeployedModels` is reached: `models` are what holds it. */
export class DeployedModelLimitError extends Error {
  constructor(readonly limit: number, readonly models: DeployedModels) {
    super(`deployed fine-tuned model limit of ${limit} reached (${models.deployed.length} deployed, ${models.training.length} training)`);
  }
}

/**
 * What holds a tenant's deployed-model slots (`tiers.<t>.training.maxDeployedModels`), from its jobs and its registry's
 * listed models: a job whose model was not deleted (`modelDeletedAt`) holds one if it succeeded (its endpoint runs,
 * billed hourly until the model is deleted) or is active (it deploys one when its training completes); a failed or
 * cancelled job holds none. A listed model holds one too unless its job is counted already or says the model was
 * deleted (a record read before the deletion): a model listed beside a job that ended otherwise, or whose job is not in
 * the store (`tessera serve`'s tenants file), has an endpoint all the same. Derived, not counted: a model deletion
 * (model-deletion.ts marks the job) or a job's end frees its slot with no counter to keep.
 * @param jobs the tenant's jobs, newest first
 */
export function deployedModelsOf(jobs: readonly FineTuningJob[], listed: readonly ListedModel[] = []): DeployedModels {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const succeeded = jobs.filter((j) => j.modelDeletedAt === undefined && j.status === 'succeeded');
  const deployed = [...succeeded].reverse().map((j) => j.fineTunedModel ?? modelIdOfJob(j));
  for (const m of listed) {
    const job = byId.get(m.jobId);
    if (deployed.includes(m.id) || (job && (job.modelDeletedAt !== undefined || ACTIVE_STATUSES.includes(job.status) || job.status === 'succeeded'))) continue;
    deployed.push(m.id);
  }
  return { deployed, training: jobs.filter((j) => j.modelDeletedAt === undefined && ACTIVE_STATUSES.includes(j.status)) };
}

/** Slots in use of deployedModelsOf's answer. */
export const slotsInUse = (m: DeployedModels) => m.deployed.length + m.training.length;

/** The deployed-model bound of a create (FineTuningStore.create): the tier's `training.maxDeployedModels` and the caller's record's listed models. */
export interface DeployedModelBound {
  max: number;
  listed?: readonly ListedModel[];
}

/**
 * Fine-tuning jobs by tenant, and each tenant's count of active jobs. Creating a job and taking a
 * slot of the tier's concurrent-job limit happen together or not at all; a job leaving the active
 * statuses gives its slot back in the same write. Two implementations, one semantics: in memory
 * (`tessera serve`) and DynamoDB (Lambda).
 */
export interface FineTuningStore {
  /**
   * Records a new job and takes one of the tenant's `maxActive` active-job slots, together or not at all.
   * Throws ConcurrentJobLimitError when `maxActive` jobs of the tenant are active already. With `deployed`
   * (the tier's `training.maxDeployedModels`), first throws DeployedModelLimitError when `deployed.max` slots are in use
   * already (deployedModelsOf), checked so that concurrent creates never exceed it.
   * @default deployed - no bound
   */
  create(job: FineTuningJob, maxActive: number, deployed?: DeployedModelBound): Promise<void>;
  get(tenantId: string, jobId: string): Promise<FineTuningJob | undefined>;
  /** The tenant's jobs, newest first. */
  list(tenantId: string): Promise<FineTuningJob[]>;
  findByTrainingJobName(trainingJobName: string): Promise<FineTuningJob | undefined>;
  /**
   * Replaces the job when its stored status is still `expected` and its stored deployment claim
   * (`deploying`) is still `claim` (by default the one `job` carries, as read: a writer that read the
   * job before a deployment claimed it cannot drop the claim); false (and nothing written) otherwise.
   */
  update(job: FineTuningJob, expected: FineTuningStatus, claim?: string): Promise<boolean>;
  /**
   * Claims the job for a deployment (`deploying` = `token`) when its status is still `expected`, its
   * model was not deleted, and no other deployment holds it (the same token again: a redelivered
   * event resumes its own claim). False (nothing written) otherwise.
   */
  claimDeployment(tenantId: string, jobId: string, expected: FineTuningStatus, token: string): Promise<boolean>;
  /** Removes deployment claim `token` (nothing when the job carries another or none). */
  releaseDeployment(tenantId: string, jobId: string, token: string): Promise<void>;
}

export const isActive = (status: FineTuningStatus) => ACTIVE_STATUSES.includes(status);

/**
 * A job whose deployment made its creates and waits for its endpoint to come into service (endpoint-events.ts):
 * `running`, its claim (`deploying`) held, `awaitingEndpointSince` and `endpointName` set.
 */
export const awaitsEndpoint = (job: FineTuningJob): boolean =>
  job.status === 'running' && job.deploying !== undefined && job.awaitingEndpointSince !== undefined && job.endpointName !== undefined;

export class MemoryJobStore implements FineTuningStore {
  private readonly jobs = new Map<string, FineTuningJob>();
  private readonly active = new Map<string, number>();

  async create(job: FineTuningJob, maxActive: number, deployed?: DeployedModelBound): Promise<void> {
    // Synchronous from here on: two creates in flight cannot interleave between the count and the write.
    if (deployed) {
      const models = deployedModelsOf([...this.jobs.values()].filter((j) => j.tenantId === job.tenantId).sort((a, b) => b.id.localeCompare(a.id)).map((j) => structuredClone(j)), deployed.listed);
      if (slotsInUse(models) >= deployed.max) throw new DeployedModelLimitError(deployed.max, models);
    }
    const count = this.active.get(job.tenantId) ?? 0;
    if (count >= maxActive) throw new ConcurrentJobLimitError(maxActive);
    this.active.set(job.tenantId, count + 1);
    this.jobs.set(job.id, structuredClone(job));
  }

  async get(tenantId: string, jobId: string): Promise<FineTuningJob | undefined> {
    const job = this.jobs.get(jobId);
    return job && job.tenantId === tenantId ? structuredClone(job) : undefined;
  }

  async list(tenantId: string): Promise<FineTuningJob[]> {
    return [...this.jobs.values()].filter((j) => j.tenantId === tenantId).sort((a, b) => b.id.localeCompare(a.id)).map((j) => structuredClone(j));
  }

  async findByTrainingJobName(name: string): Promise<FineTuningJob | undefined> {
    const job = [...this.jobs.values()].find((j) => j.trainingJobName === name);
    return job && structuredClone(job);
  }

  async update(job: FineTuningJob, expected: FineTuningStatus, claim: string | undefined = job.deploying): Promise<boolean> {
    const current = this.jobs.get(job.id);
    if (!current || current.status !== expected || current.deploying !== claim) return false;
    if (isActive(expected) && !isActive(job.status)) this.active.set(job.tenantId, (this.active.get(job.tenantId) ?? 1) - 1);
    this.jobs.set(job.id, structuredClone(job));
    return true;
  }

  async claimDeployment(tenantId: string, jobId: string, expected: FineTuningStatus, token: string): Promise<boolean> {
    const current = this.jobs.get(jobId);
    if (!current || current.tenantId !== tenantId || current.status !== expected || current.modelDeletedAt !== undefined) return false;
    if (current.deploying !== undefined && current.deploying !== token) return false;
    current.deploying = token;
    return true;
  }

  async releaseDeployment(tenantId: string, jobId: string, token: string): Promise<void> {
    const current = this.jobs.get(jobId);
    if (current?.tenantId === tenantId && current.deploying === token) delete current.deploying;
  }
}
