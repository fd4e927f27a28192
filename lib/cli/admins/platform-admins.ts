import { DescribeGroupCommand, DescribeUserCommand, type IdentitystoreClient } from '@aws-sdk/client-identitystore';
import {
  AttachCustomerManagedPolicyReferenceToPermissionSetCommand, CreateAccountAssignmentCommand, CreatePermissionSetCommand,
  DescribeAccountAssignmentCreationStatusCommand, DescribePermissionSetCommand, DescribePermissionSetProvisioningStatusCommand,
  paginateListAccountAssignments, paginateListCustomerManagedPolicyReferencesInPermissionSet, paginateListPermissionSets,
  ProvisionPermissionSetCommand, type SSOAdminClient, type StatusValues,
} from '@aws-sdk/client-sso-admin';
import { pages } from '../../aws-pages.js';
import { PLATFORM_ADMIN_POLICY_NAME } from '../../platform-admin-naming.js';
import { CliError } from '../cli-error.js';
import { clientProfile } from '../aws-errors.js';
import { awsErrorName, call } from './aws-failure.js';
import type { IdentityCenterInstance } from './identity-center.js';

/** The permission set of platform admins; `tessera doctor` looks for it by this name. */
export const PLATFORM_ADMIN_PERMISSION_SET = 'TesseraPlatformAdmin';
/** Session length of the permission set (ISO 8601; Identity Center allows PT1H to PT12H). */
export const PLATFORM_ADMIN_SESSION_DURATION = 'PT4H';

export interface Waiting {
  /** Pause between status polls. @default - 2 s */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Polls before giving up. @default 60 */
  readonly maxPolls?: number;
}
const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The ARN of the permission set named `name`, or undefined (ListPermissionSets + DescribePermissionSet). */
export async function findPermissionSet(sso: SSOAdminClient, instance: IdentityCenterInstance, name = PLATFORM_ADMIN_PERMISSION_SET): Promise<string | undefined> {
  const arns = await call('sso:ListPermissionSets', 'sso:ListPermissionSets', async () => {
    const out: string[] = [];
    for await (const page of paginateListPermissionSets(pages(sso), { InstanceArn: instance.instanceArn })) out.push(...(page.PermissionSets ?? []));
    return out;
  }, clientProfile(sso));
  for (const arn of arns) {
    const described = await call('sso:DescribePermissionSet', 'sso:DescribePermissionSet', () => sso.send(new DescribePermissionSetCommand({ InstanceArn: instance.instanceArn, PermissionSetArn: arn })), clientProfile(sso));
    if (described.PermissionSet?.Name === name) return arn;
  }
  return undefined;
}

/** What `ensurePlatformAdmin` found and did. */
export interface PlatformAdminResult {
  readonly permissionSetArn: string;
  readonly permissionSetCreated: boolean;
  readonly policyAttached: boolean;
  readonly assignmentCreated: boolean;
  readonly provisioned: boolean;
  readonly userId: string;
  readonly accountId: string;
}

/**
 * Makes `userId` a platform admin, idempotently: the permission set `TesseraPlatformAdmin` (created
 * when missing), its customer-managed policy reference `TesseraPlatformAdminAccess` (path `/`,
 * attached when missing), the user's assignment to `accountId` (created when missing, waited for),
 * then ProvisionPermissionSet to that account (waited for), so an existing permission set picks up
 * a policy reference added since. The policy itself is the platform stack's: provisioning fails
 * until TesseraPlatform is deployed in `accountId`.
 * Source: https://docs.aws.amazon.com/singlesignon/latest/userguide/permissionsetcustom.html
 * @throws CliError (1) naming the failed call and, on AccessDenied, the permission it needs.
 */
export async function ensurePlatformAdmin(sso: SSOAdminClient, instance: IdentityCenterInstance, userId: string, accountId: string, waiting: Waiting = {}): Promise<PlatformAdminResult> {
  const InstanceArn = instance.instanceArn;
  let permissionSetArn = await findPermissionSet(sso, instance);
  let permissionSetCreated = false;
  if (!permissionSetArn) {
    try {
      const out = await sso.send(new CreatePermissionSetCommand({
        InstanceArn, Name: PLATFORM_ADMIN_PERMISSION_SET, SessionDuration: PLATFORM_ADMIN_SESSION_DURATION,
        Description: `Tessera platform admins: the admin API and the TesseraPlatform outputs (policy ${PLATFORM_ADMIN_POLICY_NAME})`,
      }));
      permissionSetArn = out.PermissionSet?.PermissionSetArn;
      permissionSetCreated = true;
    } catch (e) {
      // Another run created it between our list and our create.
      if (awsErrorName(e) !== 'ConflictException') await call('sso:CreatePermissionSet', 'sso:CreatePermissionSet', () => Promise.reject(e), clientProfile(sso));
      permissionSetArn = await findPermissionSet(sso, instance);
    }
    if (!permissionSetArn) throw new CliError(`sso:CreatePermissionSet returned no permission set ARN for ${PLATFORM_ADMIN_PERMISSION_SET}: run the command again`, 1);
  }
  const PermissionSetArn = permissionSetArn;

  const references = await call('sso:ListCustomerManagedPolicyReferencesInPermissionSet', 'sso:ListCustomerManagedPolicyReferencesInPermissionSet', async () => {
    const out: Array<{ Name?: string; Path?: string }> = [];
    for await (const page of paginateListCustomerManagedPolicyReferencesInPermissionSet(pages(sso), { InstanceArn, PermissionSetArn })) out.push(...(page.CustomerManagedPolicyReferences ?? []));
    return out;
  }, clientProfile(sso));
  const policyAttached = !references.some((r) => r.Name === PLATFORM_ADMIN_POLICY_NAME && (r.Path ?? '/') === '/');
  if (policyAttached) {
    await call('sso:AttachCustomerManagedPolicyReferenceToPermissionSet', 'sso:AttachCustomerManagedPolicyReferenceToPermissionSet', () => sso.send(new AttachCustomerManagedPolicyReferenceToPermissionSetCommand({
      InstanceArn, PermissionSetArn, CustomerManagedPolicyReference: { Name: PLATFORM_ADMIN_POLICY_NAME, Path: '/' },
    })), clientProfile(sso));
  }

  const assigned = (await listAssignments(sso, instance, PermissionSetArn, accountId)).some((a) => a.principalType === 'USER' && a.principalId === userId);
  if (!assigned) {
    const created = await call('sso:CreateAccountAssignment', 'sso:CreateAccountAssignment (and iam:GetRole, iam:CreateRole, iam:AttachRolePolicy via the Identity Center service in the target account)', () => sso.send(new CreateAccountAssignmentCommand({
      InstanceArn, PermissionSetArn, PrincipalType: 'USER', PrincipalId: userId, TargetType: 'AWS_ACCOUNT', TargetId: accountId,
    })), clientProfile(sso));
    const requestId = created.AccountAssignmentCreationStatus?.RequestId;
    await waitFor(created.AccountAssignmentCreationStatus?.Status, created.AccountAssignmentCreationStatus?.FailureReason, async () => {
      const out = await call('sso:DescribeAccountAssignmentCreationStatus', 'sso:DescribeAccountAssignmentCreationStatus', () => sso.send(new DescribeAccountAssignmentCreationStatusCommand({
        InstanceArn, AccountAssignmentCreationRequestId: requestId,
      })), clientProfile(sso));
      return { status: out.AccountAssignmentCreationStatus?.Status, reason: out.AccountAssignmentCreationStatus?.FailureReason };
    }, 'the account assignment', accountId, waiting);
  }

  const provisioning = await call('sso:ProvisionPermissionSet', 'sso:ProvisionPermissionSet', () => sso.send(new ProvisionPermissionSetCommand({
    InstanceArn, PermissionSetArn, TargetType: 'AWS_ACCOUNT', TargetId: accountId,
  })), clientProfile(sso));
  const requestId = provisioning.PermissionSetProvisioningStatus?.RequestId;
  await waitFor(provisioning.PermissionSetProvisioningStatus?.Status, provisioning.PermissionSetProvisioningStatus?.FailureReason, async () => {
    const out = await call('sso:DescribePermissionSetProvisioningStatus', 'sso:DescribePermissionSetProvisioningStatus', () => sso.send(new DescribePermissionSetProvisioningStatusCommand({
      InstanceArn, ProvisionPermissionSetRequestId: requestId,
    })), clientProfile(sso));
    return { status: out.PermissionSetProvisioningStatus?.Status, reason: out.PermissionSetProvisioningStatus?.FailureReason };
  }, 'provisioning the permission set', accountId, waiting);

  return { permissionSetArn: PermissionSetArn, permissionSetCreated, policyAttached, assignmentCreated: !assigned, provisioned: true, userId, accountId };
}

/** Polls an Identity Center request until it leaves IN_PROGRESS. @throws CliError (1) on FAILED or when it takes too long. */
async function waitFor(
  first: StatusValues | string | undefined, firstReason: string | undefined,
  poll: () => Promise<{ status?: StatusValues | string; reason?: string }>, what: string, accountId: string, waiting: Waiting,
): Promise<void> {
  const sleep = waiting.sleep ?? defaultSleep;
  let status = first;
  let reason = firstReason;
  for (let i = 0; status === 'IN_PROGRESS' && i < (waiting.maxPolls ?? 60); i++) {
    await sleep(2000);
    ({ status, reason } = await poll());
  }
  if (status === 'FAILED') {
    const missingPolicy = /policy|does not exist|not found/i.test(reason ?? '');
    throw new CliError(`Identity Center failed ${what} in account ${accountId}: ${reason ?? 'no reason given'}${missingPolicy ? `\n  the permission set references the customer-managed policy ${PLATFORM_ADMIN_POLICY_NAME}: deploy TesseraPlatform to account ${accountId} first (it creates the policy), then run this again` : ''}`, 1);
  }
  if (status === 'IN_PROGRESS') throw new CliError(`Identity Center is still ${what} in account ${accountId}: run the command again in a minute (it is idempotent)`, 1);
}

/** One assignment of the permission set on one account. */
export interface PlatformAdminAssignment {
  readonly accountId: string;
  readonly principalType: string;
  readonly principalId: string;
  /** The user name or group display name, when the identity store has it. */
  readonly name?: string;
}

/** ListAccountAssignments of `permissionSetArn` on `accountId`. */
export async function listAssignments(sso: SSOAdminClient, instance: IdentityCenterInstance, permissionSetArn: string, accountId: string): Promise<PlatformAdminAssignment[]> {
  return call('sso:ListAccountAssignments', 'sso:ListAccountAssignments', async () => {
    const out: PlatformAdminAssignment[] = [];
    for await (const page of paginateListAccountAssignments(pages(sso), { InstanceArn: instance.instanceArn, AccountId: accountId, PermissionSetArn: permissionSetArn })) {
      for (const a of page.AccountAssignments ?? []) out.push({ accountId: a.AccountId ?? accountId, principalType: a.PrincipalType ?? 'USER', principalId: a.PrincipalId ?? '' });
    }
    return out;
  }, clientProfile(sso));
}

/**
 * The platform admins: assignments of `TesseraPlatformAdmin` on `accountId`, with user names and
 * group display names from the identity store (DescribeUser / DescribeGroup).
 * @returns undefined when the permission set does not exist yet.
 */
export async function listPlatformAdmins(sso: SSOAdminClient, store: IdentitystoreClient, instance: IdentityCenterInstance, accountId: string): Promise<{ permissionSetArn: string; admins: PlatformAdminAssignment[] } | undefined> {
  const permissionSetArn = await findPermissionSet(sso, instance);
  if (!permissionSetArn) return undefined;
  const assignments = await listAssignments(sso, instance, permissionSetArn, accountId);
  const admins: PlatformAdminAssignment[] = [];
  for (const a of assignments) {
    const IdentityStoreId = instance.identityStoreId;
    const name = a.principalType === 'GROUP'
      ? (await call('identitystore:DescribeGroup', 'identitystore:DescribeGroup', () => store.send(new DescribeGroupCommand({ IdentityStoreId, GroupId: a.principalId })), clientProfile(store))).DisplayName
      : (await call('identitystore:DescribeUser', 'identitystore:DescribeUser', () => store.send(new DescribeUserCommand({ IdentityStoreId, UserId: a.principalId })), clientProfile(store))).UserName;
    admins.push({ ...a, name });
  }
  return { permissionSetArn, admins };
}
