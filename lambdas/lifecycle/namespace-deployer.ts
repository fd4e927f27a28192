import { CreateRoleCommand, DeleteRoleCommand, DeleteRolePolicyCommand, DetachRolePolicyCommand, GetRoleCommand, IAMClient, PutRolePolicyCommand, paginateListAttachedRolePolicies, paginateListInstanceProfilesForRole, paginateListRolePolicies, type Role } from '@aws-sdk/client-iam';
import { NAMESPACE_DEPLOYER_POLICY_NAME, namespaceDeployerPolicy, namespaceDeployerRoleName, namespaceDeployerTrust, trustsOnlyCloudFormation, type NamespaceDeployerScope } from '../../lib/namespace-deployer.js';
import { decodedPolicyDocument } from '../../lib/iam-policy-document.js';
import { TENANT_ID_TAG } from '../../lib/tenant-naming.js';
import { platformClient } from '../shared/aws-clients.js';
import { ENV, requireEnv } from '../shared/environment.js';
import { StackNotOwnedError } from '../shared/errors.js';

/**
 * The shared cluster and boundaries the platform stack hands the lifecycle (`TESSERA_NAMESPACE_DEPLOYER_SCOPE`, JSON of
 * {@link NamespaceDeployerScope}: constructs/tenant-lifecycle.ts).
 * @throws MissingEnvironment when it is unset; Error when it is not that JSON
 */
export function namespaceDeployerScope(): NamespaceDeployerScope {
  const raw = requireEnv(ENV.namespaceDeployerScope);
  const scope = JSON.parse(raw) as Partial<NamespaceDeployerScope>;
  for (const key of ['boundaryArn', 'clusterArn', 'kubectlServiceToken', 'namespaceKubectlServiceToken', 'podBridgeBoundaryArn'] as const) {
    if (typeof scope[key] !== 'string' || !scope[key].startsWith('arn:')) throw new Error(`${ENV.namespaceDeployerScope}: ${key} is not an ARN (${JSON.stringify(scope[key])})`);
  }
  return scope as NamespaceDeployerScope;
}

const notFound = (e: unknown) => (e as Error).name === 'NoSuchEntityException' || (e as Error).name === 'NoSuchEntity';

/**
 * Makes tenant `tenantId`'s namespace deployer ready to be passed as its namespace stack's `RoleARN`
 * (lib/namespace-deployer.ts): `tessera-<tenant>-namespace-deployer` in the platform account, created when absent
 * (CreateRole with the shared deployer policy as its permissions boundary, CloudFormation of the platform account as its
 * trust, tagged `tessera:tenant-id`), and its inline policy written each time (PutRolePolicy: the same document is a no-op,
 * a platform update's narrower one replaces it). A role of that name without that boundary is not Tessera's: refused
 * (StackNotOwned), nothing written (the lifecycle's PutRolePolicy is conditioned on the boundary, so IAM would refuse it too).
 * A role of that name this call did not create must trust CloudFormation alone (trustsOnlyCloudFormation): another trust is
 * refused too (StackNotOwned), nothing written. A concurrent create (EntityAlreadyExists) is taken as the role. IAM is eventually consistent: a role created a moment ago
 * may not yet be assumable by CloudFormation; the caller's CreateStack then fails and is retried (deploy-blueprint.ts).
 * @returns the role's ARN, and whether this call created it
 * @throws StackNotOwned for a role of that name with another boundary or none, or trusting a principal other than
 *   CloudFormation; the IAM client's errors otherwise
 */
export async function ensureNamespaceDeployer(tenantId: string, iam = platformClient(IAMClient)): Promise<{ roleArn: string; created: boolean }> {
  const scope = namespaceDeployerScope();
  const roleName = namespaceDeployerRoleName(tenantId);
  const account = scope.clusterArn.split(':')[4];
  let role: Role | undefined;
  let created = false;
  try {
    role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
  } catch (e) {
    if (!notFound(e)) throw e;
  }
  if (!role) {
    try {
      role = (await iam.send(new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify(namespaceDeployerTrust(account)),
        PermissionsBoundary: scope.boundaryArn,
        Description: `CloudFormation service role of tenant ${tenantId}'s namespace stack`,
        Tags: [{ Key: TENANT_ID_TAG, Value: tenantId }],
      }))).Role;
      created = true;
    } catch (e) {
      if ((e as Error).name !== 'EntityAlreadyExistsException' && (e as Error).name !== 'EntityAlreadyExists') throw e;
      role = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
    }
  }
  const boundary = role?.PermissionsBoundary?.PermissionsBoundaryArn;
  if (boundary !== scope.boundaryArn) {
    throw new StackNotOwnedError(`role ${roleName} exists with permissions boundary ${boundary ?? '(none)'}, not the namespace deployer boundary ${scope.boundaryArn}: it is not Tessera's tenant ${tenantId} namespace deployer; remove or rename it`);
  }
  // A role of that name made by someone else with the boundary but trusting another principal: the tenant's policy written
  // on it would be theirs to use (as the role, bounded by the boundary). Only a role this call did not create is asked.
  if (!created && !trustsOnlyCloudFormation(role?.AssumeRolePolicyDocument)) {
    throw new StackNotOwnedError(`role ${roleName} exists with a trust policy that lets a principal other than CloudFormation assume it (${(role?.AssumeRolePolicyDocument ? decodedPolicyDocument(role.AssumeRolePolicyDocument) : '(none)').slice(0, 300)}): it is not Tessera's tenant ${tenantId} namespace deployer; remove or rename it`);
  }
  await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: NAMESPACE_DEPLOYER_POLICY_NAME, PolicyDocument: JSON.stringify(namespaceDeployerPolicy(tenantId, scope)) }));
  return { roleArn: role!.Arn!, created };
}

/** What {@link deleteNamespaceDeployer} did. */
export interface NamespaceDeployerRemoval {
  /** `DELETED` when this call deleted the role, `ABSENT` when there was none. */
  readonly outcome: 'DELETED' | 'ABSENT';
  /**
   * What it removed that the lifecycle does not make: the ARNs of managed policies attached to the role and the names of inline
   * policies other than `TenantNamespaceStack` (someone else's, which widened the role within its boundary). Empty when none.
   */
  readonly foreign: string[];
}

/**
 * Deletes tenant `tenantId`'s namespace deployer, once its namespace stack is gone (CloudFormation deletes a stack as its
 * role: deleted before, the stack could not be). IAM refuses DeleteRole while the role has a managed policy attached, an
 * inline policy, or is in an instance profile (DeleteConflict; "Deleting roles or instance profiles", IAM User Guide: remove
 * it from its instance profiles, detach, delete inline, then delete), so it lists all three (ListInstanceProfilesForRole,
 * ListAttachedRolePolicies, ListRolePolicies, every page), detaches each managed policy (DetachRolePolicy), deletes each
 * inline policy (DeleteRolePolicy), its own `TenantNamespaceStack` and any other, then deletes the role (DeleteRole).
 * The lifecycle may detach, delete and delete the role only on `tessera-*-namespace-deployer` roles with the shared deployer
 * policy as their boundary (constructs/tenant-lifecycle.ts `RemoveNamespaceDeployers`): a role of that name without it is
 * refused (AccessDenied) at its first detach or delete. Tessera puts no deployer in an instance profile and may not take one
 * out: RemoveRoleFromInstanceProfile's one resource is the instance profile and it takes no condition key (Service
 * Authorization Reference, IAM), so it could be granted only on every instance profile of the platform account. A deployer
 * in one is refused before anything is removed, with the command that takes it out. A role, policy or attachment already gone
 * is no error (a retried step, or a tenant whose namespace stack ran as the shared deployer).
 * @returns whether it deleted the role, and what it removed that the lifecycle did not make ({@link NamespaceDeployerRemoval})
 * @throws StackNotOwned when the role is in an instance profile (nothing removed; the message names each profile and the
 *   `aws iam remove-role-from-instance-profile` to run before the offboarding is sent again); the IAM client's errors other
 *   than NoSuchEntity (AccessDenied for a role without the boundary)
 */
export async function deleteNamespaceDeployer(tenantId: string, iam = platformClient(IAMClient)): Promise<NamespaceDeployerRemoval> {
  const RoleName = namespaceDeployerRoleName(tenantId);
  const foreign: string[] = [];
  try {
    const profiles: string[] = [];
    for await (const page of paginateListInstanceProfilesForRole({ client: iam }, { RoleName })) profiles.push(...(page.InstanceProfiles ?? []).map((p) => p.InstanceProfileName!));
    if (profiles.length) {
      const fix = profiles.map((p) => `aws iam remove-role-from-instance-profile --instance-profile-name ${p} --role-name ${RoleName}`).join('; ');
      throw new StackNotOwnedError(`role ${RoleName} is in instance profile(s) ${profiles.join(', ')}, which Tessera never makes and may not change (iam:RemoveRoleFromInstanceProfile cannot be held to Tessera's roles); IAM refuses DeleteRole until it is out of them; nothing removed: run ${fix}, then send tenant ${tenantId}'s offboarding again`);
    }
    const attached: string[] = [];
    for await (const page of paginateListAttachedRolePolicies({ client: iam }, { RoleName })) attached.push(...(page.AttachedPolicies ?? []).map((p) => p.PolicyArn!));
    const inline: string[] = [];
    for await (const page of paginateListRolePolicies({ client: iam }, { RoleName })) inline.push(...(page.PolicyNames ?? []));
    for (const PolicyArn of attached) {
      await ignoreNotFound(iam.send(new DetachRolePolicyCommand({ RoleName, PolicyArn })));
      foreign.push(PolicyArn);
    }
    for (const PolicyName of inline) {
      await ignoreNotFound(iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName })));
      if (PolicyName !== NAMESPACE_DEPLOYER_POLICY_NAME) foreign.push(PolicyName);
    }
    await iam.send(new DeleteRoleCommand({ RoleName }));
    return { outcome: 'DELETED', foreign };
  } catch (e) {
    if (notFound(e)) return { outcome: 'ABSENT', foreign };
    throw e;
  }
}

/** `call`, with IAM's NoSuchEntity (the policy or attachment already gone) taken as done. */
async function ignoreNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (e) {
    if (!notFound(e)) throw e;
  }
}
