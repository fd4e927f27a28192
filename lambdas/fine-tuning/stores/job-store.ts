import { ACTIVE_STATUSES, type FineTuningJob, type FineTuningStatus } from '../../../lib/fine-tuning.js';

export class ConcurrentJobLimitError extends Error {
  constructor(readonly limit: number) {
    super(`concurrent fine-tuning job limit of ${limit} reached`);
  }
}

/**
 * Fine-tuning jobs by tenant, and each tenant's count of active jobs. Creating a job and taking a
 * slot of the tier's concurrent-job limit happen together or not at all; a job leaving the active
 * statuses gives its slot back in the same write. Two implementations, one semantics: in memory
 * (`tessera serve`) and DynamoDB (Lambda).
 */
export interface FineTuningStore {
  /** Throws ConcurrentJobLimitError when `maxActive` jobs of the tenant are active already. */
  create(job: FineTuningJob, maxActive: number): Promise<void>;
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

  async create(job: FineTuningJob, maxActive: number): Promise<void> {
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
