/**
 * SageMaker training on-demand prices (USD per instance-hour, Linux, US East (N. Virginia)),
 * dated. Source: https://aws.amazon.com/sagemaker/pricing/ ("Training" tab, On-Demand). Basis
 * "list" in lib/cost/'s terms: the list prices as known to the author on the date below, not
 * re-read from the page in this session; check them before billing with them. Managed spot jobs are priced here at on-demand (an upper bound: spot saves up
 * to 90%, and the job record does not keep SageMaker's BillableTimeInSeconds).
 *
 * Owned by the statements; the cost command (lib/cost/) ships its own dated on-demand table:
 * the two should become one (see docs/operations.md, Tenant statements).
 */
export const TRAINING_PRICES = {
  region: 'us-east-1',
  date: '2026-11-01',
  basis: 'list',
  source: 'https://aws.amazon.com/sagemaker/pricing/ (Training, On-Demand, US East (N. Virginia))',
  /** instance type → GPUs per instance and USD per hour. */
  instances: {
    'ml.g5.xlarge': { gpus: 1, usdPerHour: 1.408 },
    'ml.g5.2xlarge': { gpus: 1, usdPerHour: 1.515 },
    'ml.g5.4xlarge': { gpus: 1, usdPerHour: 2.03 },
    'ml.g5.8xlarge': { gpus: 1, usdPerHour: 3.06 },
    'ml.g5.12xlarge': { gpus: 4, usdPerHour: 7.09 },
    'ml.g5.24xlarge': { gpus: 4, usdPerHour: 10.18 },
    'ml.g5.48xlarge': { gpus: 8, usdPerHour: 20.36 },
    'ml.p4d.24xlarge': { gpus: 8, usdPerHour: 37.688 },
  } as Record<string, { gpus: number; usdPerHour: number }>,
} as const;

export type TrainingPriceTable = typeof TRAINING_PRICES;
