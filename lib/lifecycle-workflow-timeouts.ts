import type { LifecycleKind } from './tenant-record.js';

/**
 * Each lifecycle state machine's `TimeoutSeconds` (constructs/lifecycle-workflows.ts passes these to each
 * `sfn.StateMachine`): Step Functions ends an execution still running after it with `States.Timeout`
 * (https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html, TimeoutSeconds). Seconds.
 * - onboard 2 days: account creation alone may wait up to 8 hours for a slot and 4 hours for CreateAccount;
 * - change 1 day; status (suspend, resume) 15 minutes; offboard 2 days (fine-tuning retirement may take 3 hours);
 * - upgrade 7 days: a tier's rolling upgrade, its per-tenant runs (the Map's items) included;
 * - drift 12 hours.
 */
export const WORKFLOW_TIMEOUT_SECONDS = {
  onboard: 2 * 86_400,
  change: 86_400,
  status: 15 * 60,
  offboard: 2 * 86_400,
  upgrade: 7 * 86_400,
  drift: 12 * 3_600,
} as const;

/**
 * The longest a lifecycle operation of `kind` can run: its state machine's timeout (WORKFLOW_TIMEOUT_SECONDS; suspend and
 * resume run on the status machine, a rolling upgrade's per-tenant run inside the upgrade's execution). An operation the
 * registry still records RUNNING (or whose lease is still held) after this has outlived its execution: Step Functions has
 * ended it, and its *Record failure* did not write. Seconds.
 */
export function operationBoundSeconds(kind: LifecycleKind): number {
  return WORKFLOW_TIMEOUT_SECONDS[kind === 'suspend' || kind === 'resume' ? 'status' : kind];
}
