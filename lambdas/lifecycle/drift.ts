import type { StackResourceDrift } from '@aws-sdk/client-cloudformation';
import type { DriftedResource, DriftRecord, TenantRecord } from '../../lib/tenant-record.js';
import { describeLease } from '../shared/registry.js';

/** Drifted resources kept in a registry record (a DynamoDB item holds at most 400 KB); the rest are counted in `truncated`. */
export const MAX_RECORDED_DRIFTS = 100;
/** Property paths kept per drifted resource. */
export const MAX_PATHS_PER_RESOURCE = 20;

/**
 * The drifted resources of one stack from DescribeStackResourceDrifts (filtered to MODIFIED and
 * DELETED): logical id, type, physical id and the property paths that differ with their
 * difference type (`ADD`, `REMOVE`, `NOT_EQUAL`). Values are not kept: a drifted property may hold
 * a secret or personal data, and the console shows them to whoever may look.
 */
export function driftedResources(stack: string, drifts: readonly StackResourceDrift[]): DriftedResource[] {
  return drifts
    .filter((d) => d.StackResourceDriftStatus === 'MODIFIED' || d.StackResourceDriftStatus === 'DELETED')
    .map((d) => ({
      stack,
      logicalId: d.LogicalResourceId ?? '(unnamed)',
      type: d.ResourceType ?? 'unknown',
      ...(d.PhysicalResourceId ? { physicalId: d.PhysicalResourceId } : {}),
      status: d.StackResourceDriftStatus as 'MODIFIED' | 'DELETED',
      differences: (d.PropertyDifferences ?? []).slice(0, MAX_PATHS_PER_RESOURCE).map((p) => ({ path: p.PropertyPath ?? '', type: p.DifferenceType ?? 'NOT_EQUAL' })),
    }));
}

/** One stack's detection as the check step found it. */
export interface StackDrift {
  stack: string;
  /**
   * StackDriftStatus (`DRIFTED`, `IN_SYNC`, `UNKNOWN`, `NOT_CHECKED`), `DELETED` when the stack does
   * not exist (deletedStack), or `UNKNOWN` when the detection could not run.
   */
  status: string;
  detectionId?: string;
  reason?: string;
  resources: DriftedResource[];
}

/**
 * A tenant stack that does not exist (DetectStackDrift: ValidationError "does not exist"): status
 * `DELETED`, and the stack itself as one DELETED resource (`AWS::CloudFormation::Stack`, logical id
 * = the stack's name), so the drift record, the event and `tessera tenants drift` name it like any
 * deleted resource. Everything the stack held is gone from CloudFormation's view at once.
 */
export function deletedStack(stack: string, reason: string): StackDrift {
  return {
    stack, status: 'DELETED', reason,
    resources: [{ stack, logicalId: stack, type: 'AWS::CloudFormation::Stack', status: 'DELETED', differences: [] }],
  };
}

/**
 * The registry's DriftRecord from each stack's detection: `DRIFTED` when any resource drifted or a
 * stack was deleted, else `UNKNOWN` when a detection could not run or failed without a verdict,
 * else `IN_SYNC`.
 */
export function driftRecord(stacks: readonly StackDrift[], checkedAt: string, error?: string): DriftRecord {
  const all = stacks.flatMap((s) => s.resources);
  const drifted = all.length > 0 || stacks.some((s) => s.status === 'DRIFTED' || s.status === 'DELETED');
  const unknown = !!error || stacks.some((s) => s.status !== 'IN_SYNC' && s.status !== 'DRIFTED' && s.status !== 'DELETED');
  return {
    status: drifted ? 'DRIFTED' : unknown ? 'UNKNOWN' : 'IN_SYNC',
    checkedAt,
    stacks: stacks.map((s) => ({ stack: s.stack, status: s.status, ...(s.detectionId ? { detectionId: s.detectionId } : {}), ...(s.reason ? { reason: s.reason } : {}) })),
    resources: all.slice(0, MAX_RECORDED_DRIFTS),
    ...(all.length > MAX_RECORDED_DRIFTS ? { truncated: all.length - MAX_RECORDED_DRIFTS } : {}),
    ...(error ? { error } : {}),
  };
}

/**
 * What a check that failed after its retries (the workflow's Catch: throttling, access denied)
 * records: the tenant's previous check that ran (IN_SYNC, DRIFTED, or UNKNOWN from a detection
 * without a verdict) stays, with its time and drifted resources, and `failedCheck` says when and why
 * the later one failed; a tenant whose drift was never read (no record, or only a failed check) is
 * UNKNOWN with the error. Before, a DRIFTED tenant became UNKNOWN with no resources and dropped out of
 * `tessera tenants drift --status DRIFTED` until a check succeeded.
 */
export function failedCheckRecord(previous: DriftRecord | undefined, at: string, error: string): DriftRecord {
  if (previous && !previous.error) return { ...previous, failedCheck: { at, error } };
  return driftRecord([], at, error);
}

/** Why a tenant's drift is not checked or recorded now, or undefined: it must be ACTIVE and held by no operation. */
export function notCheckable(record: TenantRecord): string | undefined {
  if (record.status !== 'ACTIVE') return `tenant is ${record.status}: drift not checked`;
  if (record.lease) return `tenant is held by ${describeLease(record.lease)}: drift not checked`;
  return undefined;
}
