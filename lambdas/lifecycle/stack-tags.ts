import type { Stack } from '@aws-sdk/client-cloudformation';
import { TIER_TAG } from '../../lib/tenant-naming.js';
import { VERSION_TAG } from './blueprints.js';

/**
 * Stack statuses after an update that went through: `UPDATE_COMPLETE`, and `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS` (the
 * update done, CloudFormation deleting the resources it replaced). CloudFormation's stack status values.
 */
export const UPDATE_SUCCEEDED: ReadonlySet<string> = new Set(['UPDATE_COMPLETE', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS']);

/** The value of stack tag `key` as DescribeStacks answers it, else undefined (no such tag, or no stack). */
export function stackTag(stack: Stack | undefined, key: string): string | undefined {
  return stack?.Tags?.find((t) => t.Key === key)?.Value;
}

/**
 * The tier and blueprint version a tenant stack runs, as its `tessera:tier` and `tessera:blueprint-version` stack tags say
 * (set by the create or the change set that last went through); each undefined when the tag is not there.
 */
export function stackTierAndVersion(stack: Stack | undefined): { tier?: string; version?: string } {
  return { tier: stackTag(stack, TIER_TAG), version: stackTag(stack, VERSION_TAG) };
}
