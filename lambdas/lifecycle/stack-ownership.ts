import type { Stack, Tag } from '@aws-sdk/client-cloudformation';
import { TENANT_ID_TAG, TIER_TAG } from '../../lib/tenant-naming.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { awsTags } from '../../lib/tenant-tags.js';
import { StackNotOwnedError } from '../shared/errors.js';
import { stackName, VERSION_TAG, type BlueprintKind } from './blueprints.js';
import { stackTag } from './stack-tags.js';

/** The tenant's onboarding request (TenantRecord.requestId), on every stack Tessera creates for the tenant. */
export const REQUEST_TAG = 'tessera:request-id';
/** The execution that created the stack (kept through updates), for the audit trail. */
export const CREATED_BY_TAG = 'tessera:created-by';
/** The account baseline's marker tag (`account-baseline`). */
export const COMPONENT_TAG = 'tessera:component';

/** The stacks Tessera makes for a tenant: a blueprint's, or an account customization's (`tessera-<tenant>-custom-<name>`, tagged as a tenant stack). */
export type OwnedKind = BlueprintKind | 'customization';

const tagOf = stackTag;

/**
 * Why `stack` is not one Tessera's workflow created for `record` (undefined when it is): a tenant
 * or namespace stack carries the tenant id and the tenant's onboarding request id as tags, the
 * account baseline its component tag. A stack with the tenant's name made by hand, or by another
 * tool, has neither. A tenant stack deployed before the request tag existed is recognized by the
 * tenant tag and the registry's `stackName`; its next update adds the request tag.
 */
export function ownershipProblem(stack: Stack, record: Pick<TenantRecord, 'tenantId' | 'requestId'> & { stackName?: string }, kind: OwnedKind): string | undefined {
  const shown = (v: string | undefined) => (v === undefined ? 'absent' : `"${v}"`);
  if (kind === 'baseline') {
    const component = tagOf(stack, COMPONENT_TAG);
    return component === 'account-baseline' ? undefined : `its tag ${COMPONENT_TAG} is ${shown(component)}, not "account-baseline"`;
  }
  const tenant = tagOf(stack, TENANT_ID_TAG);
  if (tenant !== record.tenantId) return `its tag ${TENANT_ID_TAG} is ${shown(tenant)}, not "${record.tenantId}"`;
  const request = tagOf(stack, REQUEST_TAG);
  // A stack deployed before the request tag existed: ours when the registry records deploying it
  // (the next update adds the tag). A stack the registry never recorded needs the tag.
  if (request === undefined && kind === 'tenant' && record.stackName === stack.StackName) return undefined;
  if (request !== record.requestId) return `its tag ${REQUEST_TAG} is ${shown(request)}, not the tenant's onboarding request "${record.requestId}"`;
  return undefined;
}

/** Throws StackNotOwned (terminal) for a stack Tessera did not create for this tenant: it is never adopted, updated or deleted. */
export function assertOwned(stack: Stack, record: TenantRecord, kind: OwnedKind): void {
  const problem = ownershipProblem(stack, record, kind);
  if (!problem) return;
  const name = stack.StackName ?? (kind === 'customization' ? '(a customization stack)' : stackName(record.tenantId, kind));
  throw new StackNotOwnedError(`stack ${name} (${stack.StackId ?? 'no id'}, ${stack.StackStatus}) exists in account ${record.accountId} but was not created by Tessera's workflow for tenant ${record.tenantId}: ${problem}; `
    + 'Tessera never adopts, updates or deletes a stack it did not create — remove or rename that stack, then retry the tenant');
}

/**
 * Tags of a tenant, namespace, DR or customization stack: tenant, tier, version, the onboarding request, and the
 * execution that created it (kept from `existing` on updates: CloudFormation replaces the tag set), then the tenant's own
 * tags (`record.tags`, lib/tenant-tags.ts: none starts `tessera:`, so ours stay). CloudFormation propagates stack tags to
 * the stack's resources (AWS CloudFormation User Guide, resource tagging), so they reach the tenant's bill.
 */
export function tenantStackTags(record: TenantRecord, tier: string, version: string, executionArn: string | undefined, existing?: Stack): Tag[] {
  const createdBy = (existing && tagOf(existing, CREATED_BY_TAG)) ?? executionArn;
  return [
    { Key: TENANT_ID_TAG, Value: record.tenantId },
    { Key: TIER_TAG, Value: tier },
    { Key: VERSION_TAG, Value: version },
    { Key: REQUEST_TAG, Value: record.requestId },
    ...(createdBy ? [{ Key: CREATED_BY_TAG, Value: createdBy }] : []),
    ...awsTags(record.tags),
  ];
}
