import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** CloudWatch namespace, metric and dimension of fine-tuning jobs by state (the platform dashboard reads them). */
export const TRAINING_STATE_METRIC = { namespace: 'Tessera/FineTuning', service: 'tessera-fine-tuning', name: 'TrainingJobStateChanges', dimension: 'State' } as const;

/** SageMaker's TrainingJobStatus values. Anything else counts as `Other`: the detail crosses from tenant accounts, and the dimension must stay bounded. */
const STATES = new Set(['InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped']);

const metrics = new Metrics({ namespace: TRAINING_STATE_METRIC.namespace, serviceName: TRAINING_STATE_METRIC.service });

/**
 * Counts one training job state change (`TrainingJobStateChanges`, dimensions `service` and
 * `State`): one EMF line on stdout, published at once (Powertools `singleMetric`).
 */
export function countTrainingState(status: string): void {
  const state = metrics.singleMetric();
  state.addDimension(TRAINING_STATE_METRIC.dimension, STATES.has(status) ? status : 'Other');
  state.addMetric(TRAINING_STATE_METRIC.name, MetricUnit.Count, 1);
}
