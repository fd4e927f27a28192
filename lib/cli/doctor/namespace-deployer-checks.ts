import { DescribePodIdentityAssociationCommand, paginateListPodIdentityAssociations, type PodIdentityAssociationSummary } from '@aws-sdk/client-eks';
import { GetRolePolicyCommand, paginateListAttachedRolePolicies, paginateListInstanceProfilesForRole, paginateListRolePolicies, paginateListRoles } from '@aws-sdk/client-iam';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { pages } from '../../aws-pages.js';
import { policyStatementDifferences } from '../../iam-policy-diff.js';
import { parsePolicyDocument } from '../../iam-policy-document.js';
import { NAMESPACE_DEPLOYER_POLICY_NAME, namespaceDeployerPolicy, type NamespaceDeployerPolicyScope } from '../../namespace-deployer.js';
import { POD_BRIDGE_BOUNDARY_POLICY_NAME, SHARED_CLUSTER_PARAMETERS } from '../../shared-cluster-parameters.js';
import { tenantIdReservation, TENANT_ID_PATTERN, TENANT_ID_TAG, tenantNamespace } from '../../tenant-naming.js';
import { callFailed, grantOrRerun, result, unreadable } from './results.js';
import type { AwsClients } from './clients.js';
import type { CheckResult, DoctorContext } from './types.js';

const POLICIES_ID = 'namespace-deployer-policies';
const POLICIES_TITLE = 'Tenant namespace deployers carry only their own policy, as the lifecycle writes it';
const ASSOCIATIONS_ID = 'pod-identity-associations';
const ASSOCIATIONS_TITLE = 'Pod Identity associations of the shared cluster in their tenant\'s namespace';

/** `tessera-<tenant>-namespace-deployer` (lib/namespace-deployer.ts namespaceDeployerRoleName), its tenant captured. */
const DEPLOYER_ROLE = /^tessera-(.+)-namespace-deployer$/;

/**
 * The tag value that marks an association made outside Tessera on the shared cluster as no tenant's: `platform` is a reserved
 * tenant id (RESERVED_TENANT_IDS), so no tenant's deployer policy (`aws:ResourceTag/tessera:tenant-id` = its tenant, or absent)
 * matches it, and none may tag, update or delete it.
 */
export const NO_TENANT_TAG_VALUE = 'platform';

/** Whether `value` is an id a tenant can have (TENANT_ID_PATTERN, not reserved). */
function isTenantId(value: string): boolean {
  return new RegExp(TENANT_ID_PATTERN).test(value) && tenantIdReservation(value) === undefined;
}

/**
 * Two lines on each shared-compute tenant's namespace deployer (lib/namespace-deployer.ts) and what it deploys, read in the
 * platform account with read-only calls; without a tier of shared compute, or before the first deploy (no
 * `/tessera/shared-cluster/name` for the associations), each passes saying so.
 *
 * - `namespace-deployer-policies`: every `tessera-<tenant>-namespace-deployer` role (iam:ListRoles) has no managed policy
 *   attached (iam:ListAttachedRolePolicies), no inline policy but the lifecycle's `TenantNamespaceStack` (iam:ListRolePolicies),
 *   and that one's statements as the lifecycle writes them for its tenant (iam:GetRolePolicy, compared with
 *   lib/namespace-deployer.ts namespaceDeployerPolicy over the shared cluster the platform publishes: the SSM parameters
 *   `/tessera/shared-cluster/name` and `/tessera/shared-cluster/kubectl-service-token`, and `TesseraPodBridgeBoundary`). Another
 *   policy, or that one edited (a statement, action or resource added, say another tenant's bridge role), widens the role within
 *   its permissions boundary (the shared deployer's policy: every tenant's association, bridge role and bridge policy) and is what
 *   its tenant's namespace stack runs with; it fails, naming each policy and each statement Sid, action or resource added or
 *   missing. A missing `TenantNamespaceStack` fails too (the stack cannot deploy). A role in an instance profile
 *   (iam:ListInstanceProfilesForRole) warns: nothing of Tessera puts it there, and it held up the role's deletion before s43j.
 *   (*Delete tenant stacks* removes all of it with the role at offboarding: lambdas/lifecycle/namespace-deployer.ts.)
 * - `pod-identity-associations`: every EKS Pod Identity association of the shared cluster (eks:ListPodIdentityAssociations,
 *   eks:DescribePodIdentityAssociation for its tags). IAM has no condition key on an association's namespace or service account
 *   (`eks:CreatePodIdentityAssociation` takes only `aws:RequestTag` and `aws:TagKeys`: Service Authorization Reference, Amazon
 *   EKS), so a tenant's deployer may create one tagged with its tenant in another tenant's namespace, and may tag an untagged one
 *   as its own (EKS has no key telling a tag at create from a tag later). One tagged `tessera:tenant-id` = a tenant whose
 *   namespace (`tenant-<tenant>`) is not the association's fails, naming both; one without the tag warns (any tenant's deployer may
 *   claim it), its fix the tag `tessera:tenant-id` = {@link NO_TENANT_TAG_VALUE}, which no tenant's deployer may change.
 */
export async function namespaceDeployerChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const { config, region } = ctx;
  const account = config.platformAccountId;
  const where = { account, region };
  if (!Object.values(config.tiers).some((t) => t.compute.mode === 'shared')) {
    return [
      result(POLICIES_ID, POLICIES_TITLE, 'pass', 'no tier of shared compute: no namespace deployer', where),
      result(ASSOCIATIONS_ID, ASSOCIATIONS_TITLE, 'pass', 'no tier of shared compute: no shared EKS cluster', where),
    ];
  }
  const access = await ctx.clientsIn(account);
  if (!access.ok) return [unreadable(POLICIES_ID, POLICIES_TITLE, access, account, region), unreadable(ASSOCIATIONS_ID, ASSOCIATIONS_TITLE, access, account, region)];
  return [await deployerPolicies(access.clients, where), await associations(access.clients, where)];
}

/**
 * What namespaceDeployerPolicy reads, from what the platform stack publishes in the platform account: the shared cluster's name and
 * kubectl provider (SHARED_CLUSTER_PARAMETERS, the values the lifecycle's TESSERA_NAMESPACE_DEPLOYER_SCOPE holds too: one construct
 * writes both, constructs/shared-cluster.ts) and the bridge boundary by its fixed name.
 * @returns undefined before the first deploy of a shared cluster (a parameter not found)
 * @throws the SSM client's errors but ParameterNotFound
 */
async function publishedScope(ssm: SSMClient, partition: string, { account, region }: { account: string; region: string }): Promise<NamespaceDeployerPolicyScope | undefined> {
  const read = async (Name: string) => {
    try {
      return (await ssm.send(new GetParameterCommand({ Name }))).Parameter?.Value;
    } catch (e) {
      if ((e as Error).name === 'ParameterNotFound') return undefined;
      throw e;
    }
  };
  const clusterName = await read(SHARED_CLUSTER_PARAMETERS.ClusterName);
  const kubectlServiceToken = await read(SHARED_CLUSTER_PARAMETERS.KubectlServiceToken);
  const namespaceKubectlServiceToken = await read(SHARED_CLUSTER_PARAMETERS.NamespaceKubectlServiceToken);
  if (!clusterName || !kubectlServiceToken || !namespaceKubectlServiceToken) return undefined;
  return {
    clusterArn: `arn:${partition}:eks:${region}:${account}:cluster/${clusterName}`,
    kubectlServiceToken,
    namespaceKubectlServiceToken,
    podBridgeBoundaryArn: `arn:${partition}:iam::${account}:policy/${POD_BRIDGE_BOUNDARY_POLICY_NAME}`,
  };
}

/** Whether IAM's error says the role (or its policy) is gone: deleted between the listing and this read. */
const roleGone = (e: unknown): boolean => ['NoSuchEntityException', 'NoSuchEntity'].includes((e as Error).name);

/** The AWS CLI reading of IAM call `call` on role `role`. */
const CLI: Record<string, (role: string) => string> = {
  'iam:ListRoles': () => 'aws iam list-roles',
  'iam:ListAttachedRolePolicies': (r) => `aws iam list-attached-role-policies${r}`,
  'iam:ListRolePolicies': (r) => `aws iam list-role-policies${r}`,
  'iam:ListInstanceProfilesForRole': (r) => `aws iam list-instance-profiles-for-role${r}`,
  'iam:GetRolePolicy': (r) => `aws iam get-role-policy${r} --policy-name ${NAMESPACE_DEPLOYER_POLICY_NAME}`,
};

async function deployerPolicies({ iam, ssm }: AwsClients, where: { account: string; region: string }): Promise<CheckResult> {
  let call = 'iam:ListRoles';
  let current = '';
  try {
    const roles: Array<{ name: string; tenant: string; partition: string }> = [];
    for await (const page of paginateListRoles(pages(iam), {})) {
      for (const r of page.Roles ?? []) {
        const m = DEPLOYER_ROLE.exec(r.RoleName ?? '');
        if (m) roles.push({ name: r.RoleName!, tenant: m[1], partition: r.Arn?.split(':')[1] ?? 'aws' });
      }
    }
    if (!roles.length) return result(POLICIES_ID, POLICIES_TITLE, 'pass', 'no tessera-*-namespace-deployer role yet (made at a shared-compute tenant\'s first namespace deploy)', where);
    call = 'ssm:GetParameter';
    const scope = await publishedScope(ssm, roles[0].partition, where);
    const policies: string[] = [];
    const profiled: string[] = [];
    for (const { name: RoleName, tenant } of roles.sort((a, b) => a.name.localeCompare(b.name))) {
      current = RoleName;
      call = 'iam:ListAttachedRolePolicies';
      const attached: string[] = [];
      const inline: string[] = [];
      const profiles: string[] = [];
      try {
        for await (const page of paginateListAttachedRolePolicies(pages(iam), { RoleName })) attached.push(...(page.AttachedPolicies ?? []).map((p) => p.PolicyArn!));
        call = 'iam:ListRolePolicies';
        for await (const page of paginateListRolePolicies(pages(iam), { RoleName })) inline.push(...(page.PolicyNames ?? []));
        call = 'iam:ListInstanceProfilesForRole';
        for await (const page of paginateListInstanceProfilesForRole(pages(iam), { RoleName })) profiles.push(...(page.InstanceProfiles ?? []).map((p) => p.InstanceProfileName!));
      } catch (e) {
        // Deleted since it was listed (an offboarding's Delete tenant stacks): nothing left on it to check.
        if (roleGone(e)) continue;
        throw e;
      }
      const foreign = [...attached.map((a) => `managed policy ${a} attached`), ...inline.filter((n) => n !== NAMESPACE_DEPLOYER_POLICY_NAME).map((n) => `inline policy ${n}`)];
      if (!inline.includes(NAMESPACE_DEPLOYER_POLICY_NAME)) foreign.push(`no ${NAMESPACE_DEPLOYER_POLICY_NAME} inline policy`);
      else if (scope) {
        call = 'iam:GetRolePolicy';
        const document = await iam.send(new GetRolePolicyCommand({ RoleName, PolicyName: NAMESPACE_DEPLOYER_POLICY_NAME })).then((r) => r.PolicyDocument, (e) => {
          if (roleGone(e)) return null;
          throw e;
        });
        if (document === null) continue;
        const differences = policyStatementDifferences(namespaceDeployerPolicy(tenant, scope), parsePolicyDocument(document));
        if (differences.length) foreign.push(`${NAMESPACE_DEPLOYER_POLICY_NAME} differs from what the lifecycle writes for tenant ${tenant}: ${differences.join('; ')}`);
      }
      if (foreign.length) policies.push(`${RoleName}: ${foreign.join(', ')}`);
      if (profiles.length) profiled.push(`${RoleName} in instance profile(s) ${profiles.join(', ')}`);
    }
    const unread = scope ? '' : ` (${NAMESPACE_DEPLOYER_POLICY_NAME}'s statements not compared: no ${SHARED_CLUSTER_PARAMETERS.ClusterName}, ${SHARED_CLUSTER_PARAMETERS.KubectlServiceToken} or ${SHARED_CLUSTER_PARAMETERS.NamespaceKubectlServiceToken} to build them from)`;
    const profileFix = 'aws iam remove-role-from-instance-profile --instance-profile-name <profile> --role-name <role>';
    if (policies.length) {
      return result(POLICIES_ID, POLICIES_TITLE, 'fail', `policies the lifecycle does not write, which widen a tenant's namespace deployer up to the shared deployer's boundary (every tenant's associations, bridge roles and bridge policies): ${policies.join('; ')}${profiled.length ? `; in an instance profile: ${profiled.join('; ')}` : ''}${unread}`, {
        ...where,
        fix: `remove them: aws iam detach-role-policy --role-name <role> --policy-arn <arn>, aws iam delete-role-policy --role-name <role> --policy-name <name>; a ${NAMESPACE_DEPLOYER_POLICY_NAME} edited or missing is written again as the lifecycle builds it at its tenant's next namespace deploy (npx tessera tenants update <tenant> --blueprint-version <its version>, or a rolling upgrade)${profiled.length ? `; ${profileFix}` : ''}`,
      });
    }
    if (profiled.length) {
      return result(POLICIES_ID, POLICIES_TITLE, 'warn', `in an instance profile, which nothing of Tessera makes (an EC2 instance of that profile runs as the role once its trust admits EC2): ${profiled.join('; ')}${unread}`, {
        ...where,
        fix: profileFix,
      });
    }
    return result(POLICIES_ID, POLICIES_TITLE, unread ? 'warn' : 'pass', `${roles.length} namespace deployer role(s), each with only its ${NAMESPACE_DEPLOYER_POLICY_NAME} inline policy${scope ? ', as the lifecycle writes it' : ''}${unread}`, where);
  } catch (e) {
    if (call === 'ssm:GetParameter') {
      return callFailed(POLICIES_ID, POLICIES_TITLE, call, e, grantOrRerun(e, `grant ssm:GetParameter on ${Object.values(SHARED_CLUSTER_PARAMETERS).join(' and ')} in account ${where.account}`, `aws ssm get-parameter --name ${SHARED_CLUSTER_PARAMETERS.KubectlServiceToken} --region ${where.region}`), where);
    }
    const cli = CLI[call](current ? ` --role-name ${current}` : '');
    return callFailed(POLICIES_ID, POLICIES_TITLE, call, e, grantOrRerun(e, `grant ${call} in account ${where.account}`, `in account ${where.account}: ${cli}`), where);
  }
}

async function associations({ ssm, eks }: AwsClients, where: { account: string; region: string }): Promise<CheckResult> {
  const parameter = SHARED_CLUSTER_PARAMETERS.ClusterName;
  let clusterName: string | undefined;
  try {
    clusterName = (await ssm.send(new GetParameterCommand({ Name: parameter }))).Parameter?.Value;
  } catch (e) {
    if ((e as Error).name !== 'ParameterNotFound') {
      return callFailed(ASSOCIATIONS_ID, ASSOCIATIONS_TITLE, 'ssm:GetParameter', e, grantOrRerun(e, `grant ssm:GetParameter on ${parameter} in account ${where.account}`, `aws ssm get-parameter --name ${parameter} --region ${where.region}`), where);
    }
  }
  if (!clusterName) return result(ASSOCIATIONS_ID, ASSOCIATIONS_TITLE, 'pass', `no shared cluster yet (no ${parameter})`, where);
  let call = 'eks:ListPodIdentityAssociations';
  try {
    const summaries: PodIdentityAssociationSummary[] = [];
    for await (const page of paginateListPodIdentityAssociations(pages(eks), { clusterName })) summaries.push(...(page.associations ?? []));
    call = 'eks:DescribePodIdentityAssociation';
    const across: string[] = [];
    const untagged: string[] = [];
    for (const s of summaries) {
      let tags: Record<string, string>;
      try {
        tags = (await eks.send(new DescribePodIdentityAssociationCommand({ clusterName, associationId: s.associationId! }))).association?.tags ?? {};
      } catch (e) {
        // Deleted since it was listed (a namespace stack's delete): no association left to judge.
        if ((e as Error).name === 'ResourceNotFoundException') continue;
        throw e;
      }
      const tenant = tags[TENANT_ID_TAG];
      const named = `${s.associationId} (namespace ${s.namespace}, service account ${s.serviceAccount})`;
      if (tenant === undefined) untagged.push(named);
      else if (isTenantId(tenant) && s.namespace !== tenantNamespace(tenant)) across.push(`${named} is tagged ${TENANT_ID_TAG}=${tenant}, whose namespace is ${tenantNamespace(tenant)}`);
    }
    const checked = `${summaries.length} association(s) on ${clusterName}`;
    if (across.length) {
      return result(ASSOCIATIONS_ID, ASSOCIATIONS_TITLE, 'fail', `${checked}; in another namespace than their tenant's (a tenant's namespace deployer may create one anywhere on the cluster: IAM has no key on the namespace): ${across.join('; ')}${untagged.length ? `; untagged: ${untagged.join('; ')}` : ''}`, {
        ...where,
        fix: `find which stack or person made each (CloudTrail CreatePodIdentityAssociation, its userIdentity) and delete it: aws eks delete-pod-identity-association --cluster-name ${clusterName} --association-id <id>`,
      });
    }
    if (untagged.length) {
      return result(ASSOCIATIONS_ID, ASSOCIATIONS_TITLE, 'warn', `${checked}; without a ${TENANT_ID_TAG} tag, so any tenant's namespace deployer may tag it as its own tenant's and then update or delete it: ${untagged.join('; ')}`, {
        ...where,
        fix: `mark each as no tenant's: aws eks tag-resource --resource-arn <its associationArn> --tags ${TENANT_ID_TAG}=${NO_TENANT_TAG_VALUE} ("${NO_TENANT_TAG_VALUE}" is a reserved tenant id: no tenant's deployer may tag, update or delete it then)`,
      });
    }
    return result(ASSOCIATIONS_ID, ASSOCIATIONS_TITLE, 'pass', `${checked}, each in its tenant's namespace or tagged as no tenant's`, where);
  } catch (e) {
    const cli = call === 'eks:ListPodIdentityAssociations' ? `aws eks list-pod-identity-associations --cluster-name ${clusterName}` : `aws eks describe-pod-identity-association --cluster-name ${clusterName} --association-id <id>`;
    return callFailed(ASSOCIATIONS_ID, ASSOCIATIONS_TITLE, call, e, grantOrRerun(e, `grant ${call} on cluster ${clusterName} in account ${where.account}`, `in account ${where.account}: ${cli} --region ${where.region}`), where);
  }
}
