import type { EventBridgeEvent } from 'aws-lambda';
import type { TRAINING_STATE_CHANGE } from '../../lib/fine-tuning.js';
import { S3AuditSink } from '../inference/s3-audit-sink.js';
import { GATEWAY_ENV, lambdaConfig, lambdaStore, lambdaTenantClients } from '../inference/lambda-deps.js';
import { requireEnv } from '../shared/environment.js';
import { lambdaJobStore, launcherSageMaker } from './lambda-deps.js';
import { countTrainingState } from './training-state-metric.js';
import { dynamoDbTenantModels } from './stores/tenant-models.js';
import { TrainingEvents, type TrainingStateChange } from './training-events.js';

let events: Promise<TrainingEvents> | undefined;

/**
 * SageMaker training job state changes, forwarded from tenant accounts to the platform bus by each
 * blueprint's rule. `event.account` is the account the job ran in (EventBridge keeps it across
 * buses), which the handler checks against the job's tenant.
 */
export const handler = async (event: EventBridgeEvent<typeof TRAINING_STATE_CHANGE, TrainingStateChange>): Promise<{ outcome: string }> => {
  events ??= Promise.all([lambdaStore(), lambdaTenantClients()]).then(([store, clients]) => new TrainingEvents({
    config: lambdaConfig(), jobs: lambdaJobStore(), tenants: dynamoDbTenantModels(requireEnv(GATEWAY_ENV.registryTable), store, clients.documents),
    audit: new S3AuditSink(requireEnv(GATEWAY_ENV.auditBucket), 'tessera-audit/fine-tuning/'), sageMaker: launcherSageMaker,
  }));
  const outcome = await (await events).handle(event.detail, event.account);
  console.log(JSON.stringify({ level: 'INFO', message: 'training state change', trainingJobName: event.detail.TrainingJobName, status: event.detail.TrainingJobStatus, account: event.account, outcome }));
  countTrainingState(event.detail.TrainingJobStatus); // the platform dashboard's fine-tuning jobs by state
  return { outcome };
};
