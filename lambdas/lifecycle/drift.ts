import type { StackResourceDrift } from '@aws-sdk/client-cloudformation';
import type { DriftedResource, DriftRecord, TenantRecord, UncheckedResource } from '../../lib/tenant-record.js';
import { logger } from '../shared/handler.js';
import { describeLease } from '../shared/registry.js';
import { notServiceAnswer, unparsedAnswer } from '../shared/unparsed-answer.js';
import { utf8Length, utf8Prefix } from '../shared/utf8.js';

/** Drifted resources kept in a registry record (a DynamoDB item holds at most 400 KB); the rest are counted in `truncated`. */
export const MAX_RECORDED_DRIFTS = 100;
/** Property paths kept per drifted resource. */
export const MAX_PATHS_PER_RESOURCE = 20;
/**
 * UTF-8 bytes kept of a drifted resource's physical id and of each of its property paths (clipped with `…`): neither has a
 * length CloudFormation documents (a type handler's compound identifier, a path into a policy document).
 */
export const MAX_DRIFT_FIELD_BYTES = 512;
/**
 * UTF-8 bytes of JSON the drift record's `resources` and `unchecked` keep together (drifted ones first); the rest are
 * counted in `truncated` and `uncheckedTruncated`. 100 resources of 20 paths each, unbounded in bytes, could pass 1 MB,
 * and the tenant item (DynamoDB's 400 KB, UTF-8 bytes) already holds a full history (about 310 KB at its largest) and up to
 * 64 KB of owed announcements: the drift check's write was refused (ValidationException). 16 KiB holds the 100 resources
 * of an ordinary drift (a logical id, an ARN, a few short paths: about 150 bytes each).
 */
export const MAX_DRIFT_RESOURCES_BYTES = 16 * 1024;

/**
 * UTF-8 bytes kept of a stack's reason (clipped with `…`): a DETECTION_FAILED detection's DetectionStatusReason names every
 * resource it failed on with its failure (a JSON of any length); those are in `unchecked`, each with its reason.
 */
export const MAX_STACK_REASON_BYTES = 1_000;

/** `text` within `max` UTF-8 bytes, ending in `…` when clipped. */
const clipBytes = (text: string, max: number): string => (utf8Length(text) <= max ? text : `${utf8Prefix(text, max - 3)}…`);

/** A drifted resource with its physical id and paths within MAX_DRIFT_FIELD_BYTES. */
const clippedResource = (r: DriftedResource): DriftedResource => ({
  ...r,
  ...(r.physicalId !== undefined ? { physicalId: clipBytes(r.physicalId, MAX_DRIFT_FIELD_BYTES) } : {}),
  differences: r.differences.slice(0, MAX_PATHS_PER_RESOURCE).map((d) => ({ ...d, path: clipBytes(d.path, MAX_DRIFT_FIELD_BYTES) })),
});

/**
 * The first of `items` (at most `max`) whose JSON fits in `budget.left` UTF-8 bytes, taken from it; stops at the first that
 * does not fit, so what is kept is a prefix and the count of the rest says how many follow.
 */
function withinBudget<T>(items: readonly T[], max: number, budget: { left: number }): T[] {
  const kept: T[] = [];
  for (const item of items.slice(0, max)) {
    const bytes = utf8Length(JSON.stringify(item)) + 1;
    if (bytes > budget.left) break;
    budget.left -= bytes;
    kept.push(item);
  }
  return kept;
}

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

/** Characters kept of an unchecked resource's reason. */
const MAX_UNCHECKED_REASON = 500;
const clip = (s: string) => (s.length > MAX_UNCHECKED_REASON ? `${s.slice(0, MAX_UNCHECKED_REASON - 1)}…` : s);

/**
 * The resources a DETECTION_FAILED detection names in its DetectionStatusReason, each with its
 * failure: CloudFormation writes `Stack (<arn>) failed with message: {"Summary":"Failed to detect
 * drift on resources [A,B]","Failures":[{"Resource":"A","FailureReason":"Rate exceeded"},…]}`;
 * without that JSON, the names in `resources [A,B]` (no reason of their own). Nothing for a reason
 * naming no resource.
 */
export function failedDetectionResources(reason: string | undefined): Array<{ logicalId: string; reason?: string }> {
  if (!reason) return [];
  const brace = reason.indexOf('{');
  if (brace >= 0) {
    try {
      const failures = (JSON.parse(reason.slice(brace)) as { Failures?: Array<{ Resource?: unknown; FailureReason?: unknown }> }).Failures;
      if (Array.isArray(failures)) {
        return failures.flatMap((f) => (typeof f?.Resource === 'string' && f.Resource
          ? [{ logicalId: f.Resource, ...(typeof f.FailureReason === 'string' && f.FailureReason ? { reason: f.FailureReason } : {}) }]
          : []));
      }
    } catch {
      // not JSON: the names in brackets, below
    }
  }
  const names = /resources? \[([^\]]*)\]/.exec(reason)?.[1];
  return (names ?? '').split(',').map((n) => n.trim()).filter(Boolean).map((logicalId) => ({ logicalId }));
}

/**
 * The resources of one stack its detection could not check: those DescribeStackResourceDrifts
 * returns `UNKNOWN` ("CloudFormation could not run drift detection for the resource", with its
 * DriftStatusReason), then those a failed detection's DetectionStatusReason names that are not
 * among them (type unknown). `NOT_CHECKED` is not here: DescribeStackResourceDrifts does not
 * return it (resources that do not support drift detection are left out of its answer).
 */
export function uncheckedResources(stack: string, drifts: readonly StackResourceDrift[], detectionStatusReason?: string): UncheckedResource[] {
  const unknown: UncheckedResource[] = drifts
    .filter((d) => d.StackResourceDriftStatus === 'UNKNOWN')
    .map((d) => ({
      stack,
      logicalId: d.LogicalResourceId ?? '(unnamed)',
      ...(d.ResourceType ? { type: d.ResourceType } : {}),
      ...(d.DriftStatusReason ? { reason: clip(d.DriftStatusReason) } : {}),
    }));
  const named = new Set(unknown.map((u) => u.logicalId));
  const drifted = new Set(drifts.filter((d) => d.StackResourceDriftStatus === 'MODIFIED' || d.StackResourceDriftStatus === 'DELETED').map((d) => d.LogicalResourceId));
  for (const f of failedDetectionResources(detectionStatusReason)) {
    if (named.has(f.logicalId) || drifted.has(f.logicalId)) continue;
    named.add(f.logicalId);
    unknown.push({ stack, logicalId: f.logicalId, ...(f.reason ? { reason: clip(f.reason) } : {}) });
  }
  return unknown;
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
  /** The resources its detection could not check (uncheckedResources). */
  unchecked?: UncheckedResource[];
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
 * stack was deleted, else `UNKNOWN` when a detection could not run or failed without a verdict, or
 * a resource could not be checked (`unchecked`, recorded beside the drifted ones), else `IN_SYNC`. The resources kept
 * are bounded in count (MAX_RECORDED_DRIFTS each) and in bytes (MAX_DRIFT_RESOURCES_BYTES, ids and paths clipped to
 * MAX_DRIFT_FIELD_BYTES); `truncated` and `uncheckedTruncated` count the rest.
 */
export function driftRecord(stacks: readonly StackDrift[], checkedAt: string, error?: string): DriftRecord {
  const all = stacks.flatMap((s) => s.resources);
  const unchecked = stacks.flatMap((s) => s.unchecked ?? []);
  const drifted = all.length > 0 || stacks.some((s) => s.status === 'DRIFTED' || s.status === 'DELETED');
  // A resource that could not be checked may have drifted: no IN_SYNC verdict with one.
  const unknown = !!error || unchecked.length > 0 || stacks.some((s) => s.status !== 'IN_SYNC' && s.status !== 'DRIFTED' && s.status !== 'DELETED');
  // At most MAX_RECORDED_DRIFTS of each, within MAX_DRIFT_RESOURCES_BYTES together (the drifted ones first).
  const budget = { left: MAX_DRIFT_RESOURCES_BYTES - utf8Length('{"resources":[],"unchecked":[]}') };
  const kept = withinBudget(all.map(clippedResource), MAX_RECORDED_DRIFTS, budget);
  const keptUnchecked = withinBudget(unchecked, MAX_RECORDED_DRIFTS, budget);
  return {
    status: drifted ? 'DRIFTED' : unknown ? 'UNKNOWN' : 'IN_SYNC',
    checkedAt,
    stacks: stacks.map((s) => ({ stack: s.stack, status: s.status, ...(s.detectionId ? { detectionId: s.detectionId } : {}), ...(s.reason ? { reason: clipBytes(s.reason, MAX_STACK_REASON_BYTES) } : {}) })),
    resources: kept,
    ...(all.length > kept.length ? { truncated: all.length - kept.length } : {}),
    ...(keptUnchecked.length ? { unchecked: keptUnchecked } : {}),
    ...(unchecked.length > keptUnchecked.length ? { uncheckedTruncated: unchecked.length - keptUnchecked.length } : {}),
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

/**
 * A CloudFormation call's failure as the drift check records it (Catch → check-drift.ts → the registry, `tessera tenants drift`):
 * an answer the SDK could not parse (unparsedAnswer: an emulator without the call, such as moto, which has no DetectStackDrift,
 * or a proxy) becomes an Error naming the call, CloudFormation's endpoint and the HTTP status
 * (`DetectStackDrift of tessera-acme: CloudFormation's endpoint 127.0.0.1:5000 (AWS_ENDPOINT_URL) answered HTTP 500 with a body
 * that is not a CloudFormation answer …`), the SDK's whole message (its `{error}.$response` hint) in the log only. Any other
 * error is returned as it is.
 * @param call the call and its stack, e.g. `DetectStackDrift of tessera-acme`
 */
export function cloudFormationError(call: string, e: unknown, env: NodeJS.ProcessEnv = process.env): unknown {
  const answer = unparsedAnswer(e);
  if (!answer) return e;
  logger.warn('CloudFormation answer not parsed by the AWS SDK', { call, httpStatus: answer.status, error: answer.error, detail: answer.detail });
  return new Error(`${call}: ${notServiceAnswer('CloudFormation', 'CloudFormation', answer, 'the platform', env)}`);
}
