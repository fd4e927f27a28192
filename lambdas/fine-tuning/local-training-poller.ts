import { DescribeTrainingJobCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { isActive, type FineTuningStore } from './stores/job-store.js';
import type { TrainingEvents, TrainingStateChange } from './training-events.js';
import { awaitsEndpoint, type EndpointEvents } from './endpoint-events.js';
import { nowSeconds } from './job-events.js';
import { isGone } from './retire-fine-tuned-models.js';

export interface LocalTrainingPollerDeps {
  jobs: FineTuningStore;
  /** The tenants whose jobs are followed (serve's embedded registry). */
  tenants: () => Promise<TenantRecord[]>;
  events: Pick<TrainingEvents, 'handle'>;
  /** Where a job waiting for its endpoint is looked at (the "SageMaker Endpoint State Change" events' stand-in). */
  endpoints: Pick<EndpointEvents, 'settle'>;
  /** SageMaker as serve reaches it (the developer's credentials, or a moto server). */
  sageMaker: SageMakerClient;
  /** Where a failed look is reported (one line each). @default - nowhere */
  warn?: (message: string) => void;
}

/**
 * How long after a job was recorded SageMaker may still answer "Could not find training job" for it
 * without the follower saying so: the job is not visible yet. The window it covers is the creating
 * request's own (the job is recorded, `validating_files`, before its CreateTrainingJob is sent: a status
 * read, then CreateTrainingJob with the SDK's 3 attempts and their backoff, seconds in all) and then
 * SageMaker's read-after-create lag (its API is eventually consistent: a new job reads as unknown for a
 * few seconds). A minute is many times both, and 30 of serve's looks 2 s apart. A job still unknown
 * after it is not coming: serve's SageMaker (credentials, region, AWS_ENDPOINT_URL) is not the one that
 * created it, or the job was deleted, and that is reported on every look as any other failed look.
 */
export const NOT_VISIBLE_YET_SECONDS = 60;

const FORWARDED = new Set<TrainingStateChange['TrainingJobStatus']>(['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped']);

/**
 * `tessera serve --fine-tuning`'s stand-in for the "SageMaker Training Job State Change" events a
 * deployed platform receives on its bus (each blueprint's rule forwards them): one look describes the
 * training job of every active job of every tenant (`DescribeTrainingJob`) and hands a status it has
 * not handed on yet to TrainingEvents, as the events Lambda does with an event; a job whose deployment
 * waits for its endpoint has the endpoint described (EndpointEvents.settle), as an endpoint's state change
 * would. So a job moves to `running`, `succeeded` (its endpoint in service, its model listed), `failed` or
 * `cancelled` locally too; against moto, which marks a training job Completed and an endpoint InService at
 * once, within one look.
 * @returns a look (for tests) and `stop` for the interval
 */
export function localTrainingPoller(deps: LocalTrainingPollerDeps): { look(): Promise<void>; start(intervalMs: number): { stop(): void } } {
  // The status last handed on per training job: a status is handed on once, as EventBridge sends one event per change.
  const handed = new Map<string, string>();
  let looking: Promise<void> | undefined;
  const lookOnce = async () => {
    for (const tenant of await deps.tenants()) {
      if (!tenant.accountId) continue;
      for (const job of await deps.jobs.list(tenant.tenantId)) {
        if (!isActive(job.status) || !job.trainingJobName) continue;
        try {
          if (awaitsEndpoint(job)) {
            await deps.endpoints.settle(job, tenant, deps.sageMaker);
            continue;
          }
          const d = await deps.sageMaker.send(new DescribeTrainingJobCommand({ TrainingJobName: job.trainingJobName }));
          const status = d.TrainingJobStatus as TrainingStateChange['TrainingJobStatus'] | undefined;
          if (!status || !FORWARDED.has(status) || handed.get(job.trainingJobName) === status) continue;
          await deps.events.handle({
            TrainingJobName: job.trainingJobName, TrainingJobStatus: status, SecondaryStatus: d.SecondaryStatus,
            FailureReason: d.FailureReason, ModelArtifacts: d.ModelArtifacts, BillableTimeInSeconds: d.BillableTimeInSeconds,
            TrainingStartTime: d.TrainingStartTime, TrainingEndTime: d.TrainingEndTime,
          }, tenant.accountId, `local-${job.trainingJobName}-${status}`);
          handed.set(job.trainingJobName, status);
        } catch (e) {
          // Recorded moments ago: its CreateTrainingJob not answered yet, or answered and not readable yet. The next look asks again.
          if (isGone(e) && !awaitsEndpoint(job) && nowSeconds() - job.createdAt < NOT_VISIBLE_YET_SECONDS) continue;
          deps.warn?.(`fine-tuning: could not follow training job (or endpoint) ${job.trainingJobName} of ${tenant.tenantId}: ${(e as Error).name}: ${(e as Error).message}`);
        }
      }
    }
  };
  // One look at a time: a slow SageMaker never has two looks hand on the same change.
  const look = () => (looking ??= lookOnce().finally(() => { looking = undefined; }));
  return {
    look,
    start(intervalMs) {
      const timer = setInterval(() => { void look(); }, intervalMs);
      timer.unref(); // serve stops on its signals; the timer never keeps it running
      return { stop: () => clearInterval(timer) };
    },
  };
}
