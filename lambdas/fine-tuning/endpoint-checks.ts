import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { TenantRecord } from '../../lib/tenant-record.js';
import type { EndpointEventOutcome, EndpointEvents } from './endpoint-events.js';
import { jobEvent } from './job-events.js';
import { awaitsEndpoint, type FineTuningStore } from './stores/job-store.js';

/**
 * The re-check of a deployment's endpoint when its state change event does not come (EventBridge delivers at
 * least once, but a rule, a forwarder or a bus policy can fail it): the events Lambda's Completed handling
 * schedules a look ENDPOINT_CHECK_DELAY_SECONDS after its creates, each look that finds the endpoint still
 * coming up schedules the next, up to MAX_ENDPOINT_CHECKS looks (3 hours: SageMaker ends an endpoint creation
 * that cannot finish as `Failed` within it). A look that finds the job no longer waiting does nothing.
 */
export const ENDPOINT_CHECK_DELAY_SECONDS = 900;

/** Looks before the re-check stops (MAX_ENDPOINT_CHECKS × ENDPOINT_CHECK_DELAY_SECONDS = 3 h); the job's events then say so. */
export const MAX_ENDPOINT_CHECKS = 12;

/** One scheduled look: the job, and which look of MAX_ENDPOINT_CHECKS it is (1-based). */
export interface EndpointCheck {
  tenantId: string;
  jobId: string;
  check: number;
}

/** Schedules a look at a job's endpoint ENDPOINT_CHECK_DELAY_SECONDS from now. */
export interface EndpointCheckScheduler {
  schedule(check: EndpointCheck): Promise<void>;
}

/**
 * Looks as messages of the queue `queueUrl`, each delivered ENDPOINT_CHECK_DELAY_SECONDS after its send (SQS's
 * `DelaySeconds`, at most 15 minutes) to the events Lambda (its SQS event source mapping).
 */
export function sqsEndpointChecks(queueUrl: string, sqs: () => SQSClient): EndpointCheckScheduler {
  return {
    async schedule(check) {
      await sqs().send(new SendMessageCommand({ QueueUrl: queueUrl, DelaySeconds: ENDPOINT_CHECK_DELAY_SECONDS, MessageBody: JSON.stringify(check) }));
    },
  };
}

/** A queue message's body as an EndpointCheck. @throws Error naming what is wrong (the message then goes to the dead-letter queue) */
export function parseEndpointCheck(body: string): EndpointCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error(`an endpoint check must be JSON {tenantId, jobId, check}, got: ${body.slice(0, 200)}`);
  }
  const c = parsed as Partial<EndpointCheck>;
  if (typeof c?.tenantId !== 'string' || typeof c.jobId !== 'string' || !Number.isInteger(c.check) || c.check! < 1) {
    throw new Error(`an endpoint check must be {tenantId: string, jobId: string, check: integer >= 1}, got: ${body.slice(0, 200)}`);
  }
  return { tenantId: c.tenantId, jobId: c.jobId, check: c.check! };
}

export interface EndpointCheckDeps {
  jobs: FineTuningStore;
  tenants: { getTenant(tenantId: string): Promise<TenantRecord | undefined> };
  endpoints: Pick<EndpointEvents, 'settle'>;
  checks: EndpointCheckScheduler;
}

/**
 * One look: the job's endpoint described (EndpointEvents.settle) when the job still waits for it; the next look
 * scheduled while it is still coming up, until MAX_ENDPOINT_CHECKS, after which the job's events say that the
 * platform stopped looking (the endpoint's event still ends the wait; an operator sends the queue a check).
 * @returns what the look did: settle's outcome, `stale` (nothing waits), or `gave-up`
 */
export async function runEndpointCheck(deps: EndpointCheckDeps, check: EndpointCheck): Promise<EndpointEventOutcome | 'gave-up'> {
  const job = await deps.jobs.get(check.tenantId, check.jobId);
  if (!job || !awaitsEndpoint(job)) return 'stale';
  const tenant = await deps.tenants.getTenant(job.tenantId);
  if (!tenant) return 'stale';
  const outcome = await deps.endpoints.settle(job, tenant);
  if (outcome !== 'running') return outcome;
  if (check.check < MAX_ENDPOINT_CHECKS) {
    await deps.checks.schedule({ ...check, check: check.check + 1 });
    return 'running';
  }
  const minutes = (MAX_ENDPOINT_CHECKS * ENDPOINT_CHECK_DELAY_SECONDS) / 60;
  const noted = {
    ...job,
    events: [jobEvent('warn', `Endpoint ${job.endpointName} is still not in service after ${minutes} minutes of looks: the platform stops looking; SageMaker's state change event ends the wait when the endpoint is in service or failed`), ...job.events],
  };
  await deps.jobs.update(noted, 'running', job.deploying);
  return 'gave-up';
}
