import { SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { platformClient } from '../shared/aws-clients.js';
import { parseEndpointCheck, runEndpointCheck, sqsEndpointChecks } from './endpoint-checks.js';
import { FINE_TUNING_ENV } from './fine-tuning-env.js';
import { ENDPOINT_STATE_CHANGE, type TRAINING_STATE_CHANGE } from '../../lib/fine-tuning.js';
import { EndpointEvents, type EndpointStateChange } from './endpoint-events.js';
import { lambdaAuditSink, lambdaConfig } from '../inference/lambda-deps.js';
import { requireEnv } from '../shared/environment.js';
import { lambdaJobStore, lambdaTenantModels, launcherSageMaker } from './lambda-deps.js';
import { RETIRE_ACTION, retireFineTunedModels, type RetireProgress, type RetireRequest } from './retire-fine-tuned-models.js';
import { countTrainingState } from './training-state-metric.js';
import { TrainingEvents, type TrainingStateChange } from './training-events.js';
import { serviceLogger } from '../shared/service-logger.js';

const logger = serviceLogger('tessera-fine-tuning');

let events: Promise<TrainingEvents> | undefined;
let endpointEvents: Promise<EndpointEvents> | undefined;
const audit = () => lambdaAuditSink('fine-tuning');

type TrainingStateChangeEvent = EventBridgeEvent<typeof TRAINING_STATE_CHANGE, TrainingStateChange>;
type EndpointStateChangeEvent = EventBridgeEvent<typeof ENDPOINT_STATE_CHANGE, EndpointStateChange>;

/** What the training and endpoint handlers need, made once per container. */
const deps = () => lambdaTenantModels().then(async (models) => ({
  config: lambdaConfig(), jobs: lambdaJobStore(), tenants: models, audit: await audit(), sageMaker: launcherSageMaker,
  endpointChecks: sqsEndpointChecks(requireEnv(FINE_TUNING_ENV.endpointChecksQueue), () => platformClient(SQSClient)),
}));

/**
 * The delayed looks at deployments' endpoints (endpoint-checks.ts), from the endpoint checks queue: a look that fails
 * is reported (ReportBatchItemFailures), SQS delivers it again, and after the queue's maxReceiveCount it waits in
 * the dead-letter queue.
 */
async function endpointChecks(event: SQSEvent): Promise<SQSBatchResponse> {
  endpointEvents ??= deps().then((d) => new EndpointEvents(d));
  const d = await deps();
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const check = parseEndpointCheck(record.body);
      const outcome = await runEndpointCheck({ jobs: d.jobs, tenants: d.tenants, endpoints: await endpointEvents, checks: d.endpointChecks }, check);
      logger.info('endpoint check', { ...check, outcome });
    } catch (e) {
      logger.error('endpoint check failed', { messageId: record.messageId, error: `${(e as Error).name}: ${(e as Error).message}` });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}

/** The offboarding workflow's direct invocation (Step Functions LambdaInvoke): exactly these fields, a tenant id. */
function retireRequest(event: unknown): RetireRequest | undefined {
  const e = event as Partial<RetireRequest> & { source?: unknown; detail?: unknown };
  if (e?.action !== RETIRE_ACTION) return undefined;
  const previous = e.previous as { waitingSince?: unknown } | undefined;
  if (e.source !== undefined || e.detail !== undefined || typeof e.tenantId !== 'string'
    || (previous !== undefined && (typeof previous !== 'object' || previous === null || (previous.waitingSince !== undefined && typeof previous.waitingSince !== 'string')))) {
    throw Object.assign(new Error(`${RETIRE_ACTION} takes { action, tenantId, executionArn?, requestId?, previous? }`), { name: 'InvalidRequest' });
  }
  return { action: RETIRE_ACTION, tenantId: e.tenantId, executionArn: e.executionArn, requestId: e.requestId, ...(previous ? { previous: { waitingSince: previous.waitingSince as string | undefined } } : {}) };
}

/**
 * SageMaker training job and endpoint state changes, forwarded from tenant accounts to the platform bus by each
 * blueprint's rule. `event.account` is the account the job ran in (EventBridge keeps it across
 * buses), which the handler checks against the job's tenant. An endpoint's (`SageMaker Endpoint State
 * Change`) ends the wait of the job whose deployment created it (endpoint-events.ts). The endpoint checks
 * queue's messages (an SQS event: `Records`) are the delayed looks for an endpoint whose event did not come.
 *
 * Also, invoked directly by the offboarding workflow with `{ action: "retire-fine-tuned-models",
 * tenantId }`: retires the tenant's fine-tuning (retire-fine-tuned-models.ts) as its
 * training-launcher role, which trusts this function's role. No EventBridge event has a top-level
 * `action` (EventBridge sets the envelope; tenants choose only `detail`), so the two never mix.
 */
export async function handler(event: TrainingStateChangeEvent | EndpointStateChangeEvent): Promise<{ outcome: string }>;
export async function handler(event: SQSEvent): Promise<SQSBatchResponse>;
export async function handler(event: RetireRequest): Promise<RetireProgress>;
export async function handler(event: TrainingStateChangeEvent | EndpointStateChangeEvent | RetireRequest | SQSEvent): Promise<{ outcome: string } | RetireProgress | SQSBatchResponse> {
  if (Array.isArray((event as SQSEvent).Records)) return endpointChecks(event as SQSEvent);
  const retire = retireRequest(event);
  if (retire) {
    // The audit sink is made when a record is written: a tenant without fine-tuning writes none.
    const progress = await retireFineTunedModels({ jobs: lambdaJobStore(), tenants: await lambdaTenantModels(), sageMaker: launcherSageMaker, audit: { write: async (r) => (await audit()).write(r) } }, retire);
    logger.info('fine-tuning retired for offboarding', { tenantId: retire.tenantId, executionArn: retire.executionArn, state: progress.state, stopped: progress.stopped, deleted: progress.deleted, deleting: progress.deleting });
    return progress;
  }
  if ((event as EndpointStateChangeEvent)['detail-type'] === ENDPOINT_STATE_CHANGE) {
    const change = event as EndpointStateChangeEvent;
    endpointEvents ??= deps().then((d) => new EndpointEvents(d));
    const outcome = await (await endpointEvents).handle(change.detail, change.account);
    logger.info('endpoint state change', { endpointName: change.detail.EndpointName, status: change.detail.EndpointStatus, account: change.account, outcome });
    return { outcome };
  }
  const stateChange = event as TrainingStateChangeEvent;
  events ??= deps().then((d) => new TrainingEvents(d));
  const outcome = await (await events).handle(stateChange.detail, stateChange.account, stateChange.id);
  logger.info('training state change', { trainingJobName: stateChange.detail.TrainingJobName, status: stateChange.detail.TrainingJobStatus, account: stateChange.account, outcome });
  countTrainingState(stateChange.detail.TrainingJobStatus); // the platform dashboard's fine-tuning jobs by state
  return { outcome };
}
