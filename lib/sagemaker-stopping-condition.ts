import type { StoppingCondition } from '@aws-sdk/client-sagemaker';

/**
 * SageMaker's bounds on a training job's time (API Reference, StoppingCondition):
 * MaxRuntimeInSeconds — "The default value is 1 day. The maximum value is 28 days."; "The maximum time
 * that a TrainingJob can run in total, including any time spent publishing metrics or archiving and
 * uploading models after it has been stopped, is 30 days."; MaxWaitTimeInSeconds (managed spot) — "the
 * amount of time spent waiting for Spot capacity plus the amount of time the job can run. It must be
 * equal to or greater than MaxRuntimeInSeconds."
 */
export const MAX_TRAINING_RUNTIME_SECONDS = 28 * 24 * 3600;

/** `tiers.<name>.training.maxRuntimeHours`'s upper bound: MaxRuntimeInSeconds's 28 days, in hours (672). */
export const MAX_TRAINING_RUNTIME_HOURS = MAX_TRAINING_RUNTIME_SECONDS / 3600;

/**
 * The longest MaxWaitTimeInSeconds we ask for (seconds): 28 days, as MaxRuntimeInSeconds. Wait time runs
 * from the job's start (spot waiting plus training), and the job's whole life, its stop and the upload of
 * its model after it, must end within SageMaker's 30 days; 28 days leaves 2 for that, as the runtime
 * maximum does.
 */
export const MAX_TRAINING_WAIT_SECONDS = MAX_TRAINING_RUNTIME_SECONDS;

/**
 * The StoppingCondition of a fine-tuning training job. MaxRuntimeInSeconds is `maxRuntimeHours` × 3600;
 * with managed spot, MaxWaitTimeInSeconds is twice that (as much time again to wait for spot capacity),
 * bounded by MAX_TRAINING_WAIT_SECONDS and never below MaxRuntimeInSeconds (SageMaker's rule): at
 * `maxRuntimeHours` ≥ 336 spot leaves less than the run time to wait, at 672 none.
 * @param maxRuntimeHours the tier's `training.maxRuntimeHours`, an integer in 1..672
 * @param spot whether the job uses managed spot training
 * @throws RangeError when `maxRuntimeHours` is not an integer in 1..672 (the config schema refuses it first)
 */
export function trainingStoppingCondition(maxRuntimeHours: number, spot: boolean): StoppingCondition {
  if (!Number.isInteger(maxRuntimeHours) || maxRuntimeHours < 1 || maxRuntimeHours > MAX_TRAINING_RUNTIME_HOURS) {
    throw new RangeError(`maxRuntimeHours ${maxRuntimeHours}: SageMaker's MaxRuntimeInSeconds allows 1 to ${MAX_TRAINING_RUNTIME_HOURS} hours (28 days)`);
  }
  const MaxRuntimeInSeconds = maxRuntimeHours * 3600;
  if (!spot) return { MaxRuntimeInSeconds };
  return { MaxRuntimeInSeconds, MaxWaitTimeInSeconds: Math.max(MaxRuntimeInSeconds, Math.min(2 * MaxRuntimeInSeconds, MAX_TRAINING_WAIT_SECONDS)) };
}
