import { DescribePodIdentityAssociationCommand, EKSClient, EKSServiceException, ListPodIdentityAssociationsCommand } from '@aws-sdk/client-eks';
import { GetRolePolicyCommand, IAMClient, IAMServiceException, ListAttachedRolePoliciesCommand, ListInstanceProfilesForRoleCommand, ListRolePoliciesCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { GetParameterCommand, SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { namespaceDeployerChecks } from '../../../lib/cli/doctor/namespace-deployer-checks.js';
import { namespaceDeployerPolicy } from '../../../lib/namespace-deployer.js';
import { mockStrict } from '../../support/strict-mock.js';
import { accessKeyOf, awsError, mockSts, PLATFORM, testConfig, testContext } from './support.js';

/**
 * s43b: session 42 left open that a tenant's namespace deployer may create a Pod Identity association in another tenant's namespace
 * (IAM has no key on it) or claim an untagged one by tagging it, and that policies someone else puts on a deployer widen it; doctor
 * saw none of it.
 */
const iam = mockStrict(IAMClient, 'iam', IAMServiceException);
const ssm = mockStrict(SSMClient, 'ssm', SSMServiceException);
const eks = mockStrict(EKSClient, 'eks', EKSServiceException);
const CLUSTER = 'tessera-shared';
const role = (RoleName: string) => ({ RoleName, Arn: `arn:aws:iam::${PLATFORM}:role/${RoleName}`, Path: '/', RoleId: 'AROAEXAMPLE000000000', CreateDate: new Date() });
const assoc = (associationId: string, namespace: string, tags?: Record<string, string>) => ({ associationId, namespace, serviceAccount: 'workload', clusterName: CLUSTER, tags });

/** The platform account with `associations` on the shared cluster (tags answered by Describe only, as EKS does). */
function cluster(associations: Array<ReturnType<typeof assoc>>): void {
  eks.on(ListPodIdentityAssociationsCommand, { clusterName: CLUSTER }).resolves({ associations: associations.map(({ tags: _t, ...s }) => ({ ...s, associationArn: `arn:aws:eks:us-east-1:${PLATFORM}:podidentityassociation/${CLUSTER}/${s.associationId}` })) });
  for (const a of associations) eks.on(DescribePodIdentityAssociationCommand, { clusterName: CLUSTER, associationId: a.associationId }).resolves({ association: { ...a, ...(a.tags ? { tags: a.tags } : {}) } });
}

const KUBECTL = `arn:aws:lambda:us-east-1:${PLATFORM}:function:tessera-kubectl-provider`;
/** The shared cluster as the platform stack hands it to the lifecycle (TESSERA_NAMESPACE_DEPLOYER_SCOPE), for this account. */
const NAMESPACE_KUBECTL = `arn:aws:lambda:us-east-1:${PLATFORM}:function:tessera-namespace-kubectl-provider`;
const SCOPE = { clusterArn: `arn:aws:eks:us-east-1:${PLATFORM}:cluster/${CLUSTER}`, kubectlServiceToken: KUBECTL, namespaceKubectlServiceToken: NAMESPACE_KUBECTL, podBridgeBoundaryArn: `arn:aws:iam::${PLATFORM}:policy/TesseraPodBridgeBoundary` };
/** `tenant`'s TenantNamespaceStack as IAM's GetRolePolicy answers it (URL-encoded JSON), after `edit`. */
function inlinePolicy(tenant: string, edit: (document: ReturnType<typeof namespaceDeployerPolicy>) => unknown = (d) => d) {
  return { RoleName: `tessera-${tenant}-namespace-deployer`, PolicyName: 'TenantNamespaceStack', PolicyDocument: encodeURIComponent(JSON.stringify(edit(structuredClone(namespaceDeployerPolicy(tenant, SCOPE))))) };
}

beforeEach(() => {
  iam.reset();
  ssm.reset();
  eks.reset();
  mockSts();
  ssm.on(GetParameterCommand, { Name: '/tessera/shared-cluster/name' }).resolves({ Parameter: { Name: '/tessera/shared-cluster/name', Value: CLUSTER, Type: 'String' } });
  iam.on(ListRolesCommand).resolvesOnce({ Roles: [role('tessera-acme-namespace-deployer'), role('TesseraPlatform-Other')], IsTruncated: true, Marker: 'm' })
    .resolves({ Roles: [role('tessera-globex-namespace-deployer')], IsTruncated: false });
  iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [], IsTruncated: false });
  iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['TenantNamespaceStack'], IsTruncated: false });
  iam.on(ListInstanceProfilesForRoleCommand).resolves({ InstanceProfiles: [], IsTruncated: false });
  for (const tenant of ['acme', 'globex']) iam.on(GetRolePolicyCommand, { RoleName: `tessera-${tenant}-namespace-deployer`, PolicyName: 'TenantNamespaceStack' }).resolves(inlinePolicy(tenant));
  ssm.on(GetParameterCommand, { Name: '/tessera/shared-cluster/kubectl-service-token' }).resolves({ Parameter: { Name: '/tessera/shared-cluster/kubectl-service-token', Value: KUBECTL, Type: 'String' } });
  ssm.on(GetParameterCommand, { Name: '/tessera/shared-cluster/namespace-kubectl-service-token' }).resolves({ Parameter: { Name: '/tessera/shared-cluster/namespace-kubectl-service-token', Value: NAMESPACE_KUBECTL, Type: 'String' } });
  cluster([assoc('a-1', 'tenant-acme', { 'tessera:tenant-id': 'acme' }), assoc('a-2', 'tenant-globex', { 'tessera:tenant-id': 'globex' })]);
});

describe('doctor: the tenants\' namespace deployers and their associations', () => {
  it('passes deployers with only their own policy and associations in their tenant\'s namespace, read in the platform account', async () => {
    const lines = await namespaceDeployerChecks(testContext());
    expect(lines).toEqual([
      expect.objectContaining({ id: 'namespace-deployer-policies', status: 'pass', account: PLATFORM, detail: '2 namespace deployer role(s), each with only its TenantNamespaceStack inline policy, as the lifecycle writes it' }),
      expect.objectContaining({ id: 'pod-identity-associations', status: 'pass', detail: '2 association(s) on tessera-shared, each in its tenant\'s namespace or tagged as no tenant\'s' }),
    ]);
    expect(iam.commandCalls(ListRolePoliciesCommand).map((c) => c.args[0].input.RoleName)).toEqual(['tessera-acme-namespace-deployer', 'tessera-globex-namespace-deployer']);
    expect(iam.commandCalls(GetRolePolicyCommand).map((c) => c.args[0].input.RoleName)).toEqual(['tessera-acme-namespace-deployer', 'tessera-globex-namespace-deployer']);
    expect(await accessKeyOf(eks.commandCalls(ListPodIdentityAssociationsCommand)[0])).toBe(`AKIA-cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`);
  });

  it('fails a deployer with a managed policy attached or an inline policy besides TenantNamespaceStack, naming each', async () => {
    iam.on(ListAttachedRolePoliciesCommand, { RoleName: 'tessera-globex-namespace-deployer' }).resolves({ AttachedPolicies: [{ PolicyName: 'AdministratorAccess', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }], IsTruncated: false });
    iam.on(ListRolePoliciesCommand, { RoleName: 'tessera-globex-namespace-deployer' }).resolves({ PolicyNames: ['Planted', 'TenantNamespaceStack'], IsTruncated: false });
    const [line] = await namespaceDeployerChecks(testContext());
    expect(line).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('tessera-globex-namespace-deployer: managed policy arn:aws:iam::aws:policy/AdministratorAccess attached, inline policy Planted'),
      fix: expect.stringContaining('aws iam detach-role-policy --role-name <role> --policy-arn <arn>'),
    });
    expect(line.detail).not.toContain('tessera-acme-namespace-deployer');
  });

  // s43j: doctor read the inline policy's name only: a TenantNamespaceStack edited by hand (here widened to another tenant's bridge
  // role and given a statement of its own, one of the lifecycle's taken out) passed.
  it('fails a deployer whose TenantNamespaceStack differs from what the lifecycle writes for its tenant, naming each statement, action and resource added or missing', async () => {
    iam.on(GetRolePolicyCommand, { RoleName: 'tessera-globex-namespace-deployer', PolicyName: 'TenantNamespaceStack' }).resolves(inlinePolicy('globex', (d) => {
      const bridge = d.Statement.find((st) => st.Sid === 'BridgeRole')!;
      bridge.Resource = [bridge.Resource as string, `arn:aws:iam::${PLATFORM}:role/tessera-acme-pod-bridge`];
      bridge.Action = bridge.Action.filter((a) => a !== 'iam:UpdateRoleDescription').concat('iam:PutRolePolicy');
      d.Statement.push({ Sid: 'Extra', Effect: 'Allow', Action: ['eks:*'], Resource: '*' });
      return { ...d, Statement: d.Statement.filter((st) => st.Sid !== 'KubectlProvider') };
    }));
    const [line] = await namespaceDeployerChecks(testContext());
    expect(line).toMatchObject({ status: 'fail', fix: expect.stringContaining('written again as the lifecycle builds it at its tenant\'s next namespace deploy') });
    expect(line.detail).toContain('tessera-globex-namespace-deployer: TenantNamespaceStack differs from what the lifecycle writes for tenant globex: '
      + `statement BridgeRole: Action added iam:PutRolePolicy; Action missing iam:UpdateRoleDescription; Resource added arn:aws:iam::${PLATFORM}:role/tessera-acme-pod-bridge; `
      + 'statement KubectlProvider missing; statement Extra added (Allow eks:* on *)');
    expect(line.detail).not.toContain('tessera-acme-namespace-deployer');
  });

  it('takes the lifecycle\'s document in another wording IAM reads alike (a list of one as a string, other key and value order, actions in other case) as the same', async () => {
    iam.on(GetRolePolicyCommand, { RoleName: 'tessera-acme-namespace-deployer', PolicyName: 'TenantNamespaceStack' }).resolves(inlinePolicy('acme', (d) => ({
      Statement: [...d.Statement].reverse().map((st) => ({
        Resource: st.Resource, Effect: st.Effect, Sid: st.Sid, Action: st.Action.length === 1 ? st.Action[0].toUpperCase() : [...st.Action].reverse(),
        ...(st.Condition ? { Condition: st.Condition } : {}),
      })),
      Version: d.Version,
    })));
    expect((await namespaceDeployerChecks(testContext()))[0]).toMatchObject({ status: 'pass' });
  });

  it('fails a deployer without its TenantNamespaceStack', async () => {
    iam.on(ListRolePoliciesCommand, { RoleName: 'tessera-acme-namespace-deployer' }).resolves({ PolicyNames: [], IsTruncated: false });
    const [missing] = await namespaceDeployerChecks(testContext());
    expect(missing).toMatchObject({ status: 'fail', detail: expect.stringContaining('tessera-acme-namespace-deployer: no TenantNamespaceStack inline policy') });
    expect(missing.detail).not.toContain('tessera-globex-namespace-deployer');
  });

  // s43j: a deployer in an instance profile (which blocked its DeleteRole at offboarding) went unseen.
  it('warns on a deployer in an instance profile (each page), with the call that removes it', async () => {
    iam.on(ListInstanceProfilesForRoleCommand, { RoleName: 'tessera-globex-namespace-deployer' })
      .resolvesOnce({ InstanceProfiles: [{ InstanceProfileName: 'planted', InstanceProfileId: 'AIPAEXAMPLE000000000', Arn: `arn:aws:iam::${PLATFORM}:instance-profile/planted`, Path: '/', CreateDate: new Date(), Roles: [] }], IsTruncated: true, Marker: 'p' })
      .resolves({ InstanceProfiles: [{ InstanceProfileName: 'also', InstanceProfileId: 'AIPAEXAMPLE000000001', Arn: `arn:aws:iam::${PLATFORM}:instance-profile/also`, Path: '/', CreateDate: new Date(), Roles: [] }], IsTruncated: false });
    const [profiled] = await namespaceDeployerChecks(testContext());
    expect(profiled).toMatchObject({
      status: 'warn', detail: expect.stringContaining('tessera-globex-namespace-deployer in instance profile(s) planted, also'),
      fix: 'aws iam remove-role-from-instance-profile --instance-profile-name <profile> --role-name <role>',
    });
    expect(profiled.detail).not.toContain('tessera-acme-namespace-deployer');
  });

  it('says it did not compare the statements when the shared cluster\'s parameters are not there to build them from', async () => {
    ssm.on(GetParameterCommand, { Name: '/tessera/shared-cluster/kubectl-service-token' }).rejects(awsError('ParameterNotFound'));
    const [line] = await namespaceDeployerChecks(testContext());
    expect(line).toMatchObject({ status: 'warn', detail: expect.stringContaining('TenantNamespaceStack\'s statements not compared: no /tessera/shared-cluster/name, /tessera/shared-cluster/kubectl-service-token or /tessera/shared-cluster/namespace-kubectl-service-token') });
    expect(iam.commandCalls(GetRolePolicyCommand)).toHaveLength(0);
  });

  it('fails an association tagged with a tenant in another namespace (no IAM key holds it), and warns on an untagged one, with the tag that keeps every deployer off it', async () => {
    cluster([assoc('a-1', 'tenant-acme', { 'tessera:tenant-id': 'acme' }), assoc('a-9', 'tenant-globex', { 'tessera:tenant-id': 'acme' }), assoc('a-7', 'kube-system')]);
    const [, line] = await namespaceDeployerChecks(testContext());
    expect(line).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('a-9 (namespace tenant-globex, service account workload) is tagged tessera:tenant-id=acme, whose namespace is tenant-acme; untagged: a-7 (namespace kube-system, service account workload)'),
      fix: expect.stringContaining('aws eks delete-pod-identity-association --cluster-name tessera-shared --association-id <id>'),
    });
    expect(line.detail).not.toContain('a-1 ');

    cluster([assoc('a-1', 'tenant-acme', { 'tessera:tenant-id': 'acme' }), assoc('a-7', 'kube-system')]);
    const [, warned] = await namespaceDeployerChecks(testContext());
    expect(warned).toMatchObject({ status: 'warn', detail: expect.stringContaining('any tenant\'s namespace deployer may tag it as its own'), fix: expect.stringContaining('--tags tessera:tenant-id=platform') });

    // Tagged as no tenant's (a reserved id): nothing to claim.
    cluster([assoc('a-7', 'kube-system', { 'tessera:tenant-id': 'platform' })]);
    expect((await namespaceDeployerChecks(testContext()))[1]).toMatchObject({ status: 'pass' });
  });

  // s43i: a role or association deleted between the listing and its read (an offboarding while doctor runs) failed the whole line.
  it('a deployer role or an association gone between the listing and its read is skipped, not a failed call', async () => {
    iam.on(ListAttachedRolePoliciesCommand, { RoleName: 'tessera-acme-namespace-deployer' }).rejects(awsError('NoSuchEntityException', 'The role with name tessera-acme-namespace-deployer cannot be found.', 404));
    iam.on(ListAttachedRolePoliciesCommand, { RoleName: 'tessera-globex-namespace-deployer' }).resolves({ AttachedPolicies: [{ PolicyName: 'Admin', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }], IsTruncated: false });
    cluster([assoc('a-1', 'tenant-acme', { 'tessera:tenant-id': 'acme' }), assoc('a-9', 'tenant-globex', { 'tessera:tenant-id': 'acme' })]);
    eks.on(DescribePodIdentityAssociationCommand, { clusterName: CLUSTER, associationId: 'a-1' }).rejects(awsError('ResourceNotFoundException', 'No Pod Identity Association found', 404));
    const [roles, associations] = await namespaceDeployerChecks(testContext());
    expect(roles).toMatchObject({ status: 'fail', detail: expect.stringContaining('tessera-globex-namespace-deployer: managed policy arn:aws:iam::aws:policy/AdministratorAccess attached') });
    expect(roles.detail).not.toContain('tessera-acme-namespace-deployer');
    expect(associations).toMatchObject({ status: 'fail', detail: expect.stringContaining('a-9 (namespace tenant-globex, service account workload) is tagged tessera:tenant-id=acme') });
  });

  it('passes without a shared tier or before the first deploy; a refused read is its own line with the grant', async () => {
    const base = testConfig();
    expect((await namespaceDeployerChecks(testContext({ ...base, tiers: { enterprise: base.tiers.enterprise } }))).map((l) => [l.status, l.detail])).toEqual([
      ['pass', 'no tier of shared compute: no namespace deployer'], ['pass', 'no tier of shared compute: no shared EKS cluster'],
    ]);
    expect(iam.commandCalls(ListRolesCommand)).toHaveLength(0);
    ssm.on(GetParameterCommand).rejects(awsError('ParameterNotFound'));
    iam.on(ListRolesCommand).rejects(awsError('AccessDenied', 'not authorized to perform: iam:ListRoles', 403));
    const [roles, associations] = await namespaceDeployerChecks(testContext());
    expect(roles).toMatchObject({ status: 'fail', detail: expect.stringContaining('iam:ListRoles'), fix: `grant iam:ListRoles in account ${PLATFORM}` });
    expect(associations).toMatchObject({ status: 'pass', detail: 'no shared cluster yet (no /tessera/shared-cluster/name)' });
  });
});
