import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { TenantRecord } from '../../lib/tenant-record.js';
import type { EndpointEventOutcome, EndpointEvents } from './endpoint-events.js';
import { jobEvent } from './job-events.js';
import { awaitsEndpoint, type FineTuningStore } from './stores/job-store.js';

/**
 * The re-check of a deployment's endpoint when its state change event does not come (EventBridge delivers at
 * least once, but a rule, a forwarder or a bus policy can fail it): the events Lambda's Completed handling
 * schedules a look ENDPOINT_CHECK_DELAY_SECONDS after its creates, and each look that finds the endpoint still
 * coming up schedules the next, for as long as the job waits: SageMaker documents no bound on `Creating` (SageMaker
 * API Reference, EndpointSummary.EndpointStatus), and an endpoint that comes into service once the looks had stopped,
 * its event lost, billed its instance behind a job `running` for good, with no model listed to delete nor a job to
 * cancel. After OVERDUE_ENDPOINT_CHECKS looks the job's events say the wait is overdue (once). A look that finds the
 * job no longer waiting (succeeded, failed, cancelled by an offboarding) does nothing, and schedules nothing.
 */
export const ENDPOINT_CHECK_DELAY_SECONDS = 900;

/** Looks after which the wait is overdue (OVERDUE_ENDPOINT_CHECKS × ENDPOINT_CHECK_DELAY_SECONDS = 3 h): the job's events say so, and the looks go on. */
export const OVERDUE_ENDPOINT_CHECKS = 12;

/** One scheduled look: the job, and which look it is (1-based). */
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
 * scheduled while it is still coming up; the OVERDUE_ENDPOINT_CHECKS-th look still finding it coming up also says in
 * the job's events that the wait is overdue.
 * @returns what the look did: settle's outcome, `stale` (nothing waits), or `overdue` (still coming up, said so)
 */
export async function runEndpointCheck(deps: EndpointCheckDeps, check: EndpointCheck): Promise<EndpointEventOutcome | 'overdue'> {
  const job = await deps.jobs.get(check.tenantId, check.jobId);
  if (!job || !awaitsEndpoint(job)) return 'stale';
  const tenant = await deps.tenants.getTenant(job.tenantId);
  if (!tenant) return 'stale';
  const outcome = await deps.endpoints.settle(job, tenant);
  if (outcome !== 'running') return outcome;
  // The overdue note before the next look's send, and once (a redelivery of this look finds it written): a send that
  // landed before a failure would otherwise be sent again by the redelivery, two chains of looks for one job.
  const overdue = check.check === OVERDUE_ENDPOINT_CHECKS;
  const note = `Endpoint ${job.endpointName} is still not in service after ${(OVERDUE_ENDPOINT_CHECKS * ENDPOINT_CHECK_DELAY_SECONDS) / 60} minutes of looks`;
  if (overdue && !job.events.some((e) => e.message.startsWith(note))) {
    const message = `${note}: the platform goes on looking every ${ENDPOINT_CHECK_DELAY_SECONDS / 60} minutes; the job ends when SageMaker ends the endpoint's creation (in service or failed)`;
    await deps.jobs.update({ ...job, events: [jobEvent('warn', message), ...job.events] }, 'running', job.deploying);
  }
  await deps.checks.schedule({ ...check, check: check.check + 1 });
  return overdue ? 'overdue' : 'running';
}
