import { CreateRoleCommand, DeleteConflictException, DeleteRoleCommand, DeleteRolePolicyCommand, DetachRolePolicyCommand, GetRoleCommand, IAMClient, IAMServiceException, ListAttachedRolePoliciesCommand, ListInstanceProfilesForRoleCommand, ListRolePoliciesCommand, NoSuchEntityException, EntityAlreadyExistsException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, it } from 'vitest';
import { deleteNamespaceDeployer, ensureNamespaceDeployer, namespaceDeployerScope } from '../../../lambdas/lifecycle/namespace-deployer.js';
import { untilAssumable } from '../../../lambdas/lifecycle/deploy-blueprint.js';
import { ENV } from '../../../lambdas/shared/environment.js';
import { mockStrict } from '../../support/strict-mock.js';
import { NAMESPACE_DEPLOYER_SCOPE, setLifecycleEnv, useNamespaceDeployerScope } from './support.js';

const iam = mockStrict(IAMClient, 'iam', IAMServiceException);
const ROLE = 'tessera-acme-namespace-deployer';
const ARN = `arn:aws:iam::222222222222:role/${ROLE}`;
const noSuchEntity = (what: string) => new NoSuchEntityException({ message: `The role with name ${what} cannot be found.`, $metadata: {} });
/** The trust the lifecycle gives its deployers, URL-encoded as IAM's GetRole answers a role's AssumeRolePolicyDocument. */
const TRUST = encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'CloudFormationOfThePlatformAccount', Effect: 'Allow', Principal: { Service: 'cloudformation.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': '222222222222' } } }] }));
const role = (boundary: string | null = NAMESPACE_DEPLOYER_SCOPE.boundaryArn, trust: string | null = TRUST) => ({
  Role: { RoleName: ROLE, Arn: ARN, Path: '/', RoleId: 'AROAEXAMPLE000000000', CreateDate: new Date(), ...(trust !== null ? { AssumeRolePolicyDocument: trust } : {}), ...(boundary ? { PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy' as const, PermissionsBoundaryArn: boundary } } : {}) },
});

beforeEach(() => {
  setLifecycleEnv();
  useNamespaceDeployerScope();
  iam.reset();
});

describe('ensureNamespaceDeployer', () => {
  it('creates tessera-<tenant>-namespace-deployer with the shared deployer policy as its boundary, CloudFormation of the platform account as its trust, and writes its inline policy', async () => {
    iam.on(GetRoleCommand).rejects(noSuchEntity(ROLE));
    iam.on(CreateRoleCommand).resolves(role());
    iam.on(PutRolePolicyCommand).resolves({});
    await expect(ensureNamespaceDeployer('acme')).resolves.toEqual({ roleArn: ARN, created: true });
    const create = iam.commandCalls(CreateRoleCommand)[0].args[0].input;
    expect(create).toMatchObject({ RoleName: ROLE, PermissionsBoundary: NAMESPACE_DEPLOYER_SCOPE.boundaryArn, Tags: [{ Key: 'tessera:tenant-id', Value: 'acme' }] });
    expect(JSON.parse(create.AssumeRolePolicyDocument!).Statement).toEqual([expect.objectContaining({
      Principal: { Service: 'cloudformation.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': '222222222222' } },
    })]);
    const put = iam.commandCalls(PutRolePolicyCommand)[0].args[0].input;
    expect(put).toMatchObject({ RoleName: ROLE, PolicyName: 'TenantNamespaceStack' });
    const policy = JSON.stringify(JSON.parse(put.PolicyDocument!));
    // Its tenant's names only: the bridge role by name, the bridge policy, the associations tagged with it.
    expect(policy).toContain('"arn:aws:iam::222222222222:role/tessera-acme-pod-bridge"');
    expect(policy).toContain('"arn:aws:iam::222222222222:policy/tessera-acme-namespace-NamespaceBridgePolicy*"');
    expect(policy).toContain('"aws:ResourceTag/tessera:tenant-id":"acme"');
    expect(policy).not.toMatch(/tessera-\*|role\/tessera-acme-\*/);
    // Session 46: its tenant's Kubernetes identity: its kubectl role, that role's access entry (Edit in tenant-acme only), the namespace kubectl provider.
    const sids = Object.fromEntries((JSON.parse(put.PolicyDocument!).Statement as Array<Record<string, any>>).map((st) => [st.Sid, st]));
    expect(sids.NamespaceKubectlRole.Resource).toBe('arn:aws:iam::222222222222:role/tessera-acme-namespace-kubectl');
    expect(sids.NamespaceKubectlAccessEntry.Condition.ArnLike).toEqual({ 'eks:principalArn': 'arn:aws:iam::222222222222:role/tessera-acme-namespace-kubectl' });
    expect(sids.NamespaceKubectlEditInTheTenantNamespaceOnly.Condition['ForAllValues:StringLike']).toEqual({ 'eks:namespaces': ['tenant-acme'] });
    expect(sids.NamespaceKubectlProvider.Resource).toBe(NAMESPACE_DEPLOYER_SCOPE.namespaceKubectlServiceToken);
  });

  it('writes the policy again on a role it made before (a retry, a platform update), creating nothing', async () => {
    iam.on(GetRoleCommand).resolves(role());
    iam.on(PutRolePolicyCommand).resolves({});
    await expect(ensureNamespaceDeployer('acme')).resolves.toEqual({ roleArn: ARN, created: false });
    expect(iam.commandCalls(CreateRoleCommand)).toHaveLength(0);
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(1);
  });

  it('takes a create that lost a race (EntityAlreadyExists) as the role', async () => {
    iam.on(GetRoleCommand).rejectsOnce(noSuchEntity(ROLE)).resolves(role());
    iam.on(CreateRoleCommand).rejects(new EntityAlreadyExistsException({ message: `Role with name ${ROLE} already exists.`, $metadata: {} }));
    iam.on(PutRolePolicyCommand).resolves({});
    await expect(ensureNamespaceDeployer('acme')).resolves.toEqual({ roleArn: ARN, created: false });
  });

  it.each([['no boundary', null], ['another boundary', 'arn:aws:iam::222222222222:policy/Other']])('refuses a role of that name with %s (not Tessera\'s), writing nothing', async (_what, boundary) => {
    iam.on(GetRoleCommand).resolves(role(boundary));
    await expect(ensureNamespaceDeployer('acme')).rejects.toMatchObject({ name: 'StackNotOwned', message: expect.stringContaining(`role ${ROLE} exists with permissions boundary ${boundary ?? '(none)'}`) });
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });

  // s42j: a role of that name with the boundary but another trust was taken, and the tenant's policy written on it.
  const trustOf = (...statements: object[]) => encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: statements }));
  const cfn = { Effect: 'Allow', Principal: { Service: 'cloudformation.amazonaws.com' }, Action: 'sts:AssumeRole' };
  it.each([
    ['an account\'s principal beside CloudFormation', trustOf(cfn, { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::444444444444:root' }, Action: 'sts:AssumeRole' })],
    ['CloudFormation and another service in one principal', trustOf({ ...cfn, Principal: { Service: ['cloudformation.amazonaws.com', 'lambda.amazonaws.com'] } })],
    ['anyone', trustOf({ ...cfn, Principal: '*' })],
    ['a NotPrincipal', trustOf({ Effect: 'Allow', NotPrincipal: { AWS: 'arn:aws:iam::222222222222:root' }, Action: 'sts:AssumeRole' })],
    ['no trust answered', null],
  ])('refuses a role of that name with the boundary whose trust lets in %s, writing nothing', async (_what, trust) => {
    iam.on(GetRoleCommand).resolves(role(NAMESPACE_DEPLOYER_SCOPE.boundaryArn, trust));
    await expect(ensureNamespaceDeployer('acme')).rejects.toMatchObject({ name: 'StackNotOwned', message: expect.stringContaining(`role ${ROLE} exists with a trust policy that lets a principal other than CloudFormation assume it`) });
    expect(iam.commandCalls(PutRolePolicyCommand)).toHaveLength(0);
  });

  it('takes a role whose trust is CloudFormation\'s alone however it is worded (plain JSON, a one-element list, another condition)', async () => {
    for (const trust of [decodeURIComponent(TRUST), trustOf({ ...cfn, Principal: { Service: ['cloudformation.amazonaws.com'] }, Action: ['sts:AssumeRole'] }), trustOf({ ...cfn, Condition: { StringEquals: { 'aws:SourceAccount': '222222222222' }, ArnLike: { 'aws:SourceArn': 'arn:aws:cloudformation:*:222222222222:stack/tessera-acme-namespace/*' } } })]) {
      iam.reset();
      iam.on(GetRoleCommand).resolves(role(NAMESPACE_DEPLOYER_SCOPE.boundaryArn, trust));
      iam.on(PutRolePolicyCommand).resolves({});
      await expect(ensureNamespaceDeployer('acme')).resolves.toEqual({ roleArn: ARN, created: false });
    }
  });

  it('refuses a scope that is not the platform stack\'s JSON, naming the field', () => {
    process.env[ENV.namespaceDeployerScope] = JSON.stringify({ ...NAMESPACE_DEPLOYER_SCOPE, clusterArn: 'tessera-shared' });
    expect(() => namespaceDeployerScope()).toThrow(/clusterArn is not an ARN \("tessera-shared"\)/);
    // Session 46: the namespace kubectl provider is part of it (a platform stack's scope without it is refused, not half-written).
    const { namespaceKubectlServiceToken: _, ...withoutNamespaceKubectl } = NAMESPACE_DEPLOYER_SCOPE;
    process.env[ENV.namespaceDeployerScope] = JSON.stringify(withoutNamespaceKubectl);
    expect(() => namespaceDeployerScope()).toThrow(/namespaceKubectlServiceToken is not an ARN \(undefined\)/);
    delete process.env[ENV.namespaceDeployerScope];
    expect(() => namespaceDeployerScope()).toThrow(/TESSERA_NAMESPACE_DEPLOYER_SCOPE/);
  });
});

describe('deleteNamespaceDeployer', () => {
  /** An instance profile of the platform account holding the deployer, as ListInstanceProfilesForRole answers it. */
  const profile = (name: string) => ({ InstanceProfileName: name, InstanceProfileId: 'AIPAEXAMPLE000000000', Arn: `arn:aws:iam::222222222222:instance-profile/${name}`, Path: '/', CreateDate: new Date(), Roles: [role().Role] });
  beforeEach(() => {
    iam.on(ListInstanceProfilesForRoleCommand).resolves({ InstanceProfiles: [], IsTruncated: false });
  });

  it('deletes the inline policy, then the role', async () => {
    iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [], IsTruncated: false });
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['TenantNamespaceStack'], IsTruncated: false });
    iam.on(DeleteRolePolicyCommand).resolves({});
    iam.on(DeleteRoleCommand).resolves({});
    await expect(deleteNamespaceDeployer('acme')).resolves.toEqual({ outcome: 'DELETED', foreign: [] });
    expect(iam.commandCalls(DeleteRolePolicyCommand).map((c) => c.args[0].input)).toEqual([{ RoleName: ROLE, PolicyName: 'TenantNamespaceStack' }]);
    expect(iam.commandCalls(DeleteRoleCommand)[0].args[0].input).toEqual({ RoleName: ROLE });
  });

  // s43b: a managed policy attached to the deployer, or an inline one besides the lifecycle's, was left on it, and IAM refused
  // DeleteRole (DeleteConflict, "Cannot delete entity, must detach all policies first"): the offboarding stopped there.
  it('detaches every managed policy and deletes every inline policy someone else put on it (each page), then deletes the role, naming them', async () => {
    const attached = ['arn:aws:iam::aws:policy/AdministratorAccess', 'arn:aws:iam::222222222222:policy/Extra'];
    iam.on(ListAttachedRolePoliciesCommand)
      .resolvesOnce({ AttachedPolicies: [{ PolicyName: 'AdministratorAccess', PolicyArn: attached[0] }], IsTruncated: true, Marker: 'm1' })
      .resolves({ AttachedPolicies: [{ PolicyName: 'Extra', PolicyArn: attached[1] }], IsTruncated: false });
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['Planted', 'TenantNamespaceStack'], IsTruncated: false });
    iam.on(DetachRolePolicyCommand).resolves({});
    iam.on(DeleteRolePolicyCommand).resolves({});
    // IAM's rule: a role with a policy left is not deleted.
    iam.on(DeleteRoleCommand).callsFake(() => {
      const detached = iam.commandCalls(DetachRolePolicyCommand).map((c) => c.args[0].input.PolicyArn);
      const deleted = iam.commandCalls(DeleteRolePolicyCommand).map((c) => c.args[0].input.PolicyName);
      if (attached.some((a) => !detached.includes(a)) || ['Planted', 'TenantNamespaceStack'].some((n) => !deleted.includes(n))) {
        throw new DeleteConflictException({ message: 'Cannot delete entity, must detach all policies first.', $metadata: {} });
      }
      return {};
    });
    await expect(deleteNamespaceDeployer('acme')).resolves.toEqual({ outcome: 'DELETED', foreign: [...attached, 'Planted'] });
    expect(iam.commandCalls(ListAttachedRolePoliciesCommand)[1].args[0].input).toMatchObject({ RoleName: ROLE, Marker: 'm1' });
    expect(iam.commandCalls(DetachRolePolicyCommand).map((c) => c.args[0].input)).toEqual(attached.map((PolicyArn) => ({ RoleName: ROLE, PolicyArn })));
  });

  // s43j: a deployer someone put in an instance profile was left in it, and IAM refused DeleteRole (DeleteConflict, "Cannot delete
  // entity, must remove roles from instance profile first") after its policies were gone. RemoveRoleFromInstanceProfile cannot be
  // held to Tessera's roles (its one resource is the instance profile, no condition key), so the lifecycle may not call it: it
  // stops before removing anything, naming each profile (every page) and the command that takes the role out.
  it('refuses a deployer in an instance profile (StackNotOwned), naming each profile and the command, removing nothing', async () => {
    iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [{ PolicyName: 'Extra', PolicyArn: 'arn:aws:iam::222222222222:policy/Extra' }], IsTruncated: false });
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['TenantNamespaceStack'], IsTruncated: false });
    iam.on(ListInstanceProfilesForRoleCommand)
      .resolvesOnce({ InstanceProfiles: [profile('planted-a')], IsTruncated: true, Marker: 'p1' })
      .resolves({ InstanceProfiles: [profile('planted-b')], IsTruncated: false });
    const refusal = await deleteNamespaceDeployer('acme').then(() => undefined, (e: Error) => e);
    expect(refusal).toMatchObject({ name: 'StackNotOwned', message: expect.stringContaining(`role ${ROLE} is in instance profile(s) planted-a, planted-b`) });
    for (const p of ['planted-a', 'planted-b']) expect(refusal!.message).toContain(`aws iam remove-role-from-instance-profile --instance-profile-name ${p} --role-name ${ROLE}`);
    expect(refusal!.message).toContain('nothing removed');
    expect(iam.commandCalls(ListInstanceProfilesForRoleCommand)[1].args[0].input).toMatchObject({ RoleName: ROLE, Marker: 'p1' });
    expect(iam.commandCalls(DetachRolePolicyCommand)).toHaveLength(0);
    expect(iam.commandCalls(DeleteRolePolicyCommand)).toHaveLength(0);
    expect(iam.commandCalls(DeleteRoleCommand)).toHaveLength(0);
  });

  it('answers ABSENT when there is none (a tenant on the shared deployer, a retried step)', async () => {
    iam.on(ListInstanceProfilesForRoleCommand).rejects(noSuchEntity(ROLE));
    await expect(deleteNamespaceDeployer('acme')).resolves.toEqual({ outcome: 'ABSENT', foreign: [] });
    expect(iam.commandCalls(DeleteRoleCommand)).toHaveLength(0);
  });

  it('takes a policy gone between the listing and its removal as removed', async () => {
    iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [{ PolicyName: 'Extra', PolicyArn: 'arn:aws:iam::222222222222:policy/Extra' }], IsTruncated: false });
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['TenantNamespaceStack'], IsTruncated: false });
    iam.on(DetachRolePolicyCommand).rejects(noSuchEntity('Extra'));
    iam.on(DeleteRolePolicyCommand).rejects(noSuchEntity('TenantNamespaceStack'));
    iam.on(DeleteRoleCommand).resolves({});
    await expect(deleteNamespaceDeployer('acme')).resolves.toMatchObject({ outcome: 'DELETED' });
  });

  it('passes on IAM\'s refusal of a role of that name without the boundary (AccessDenied at its first removal), deleting nothing', async () => {
    iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [{ PolicyName: 'Theirs', PolicyArn: 'arn:aws:iam::222222222222:policy/Theirs' }], IsTruncated: false });
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [], IsTruncated: false });
    const denied = new IAMServiceException({ name: 'AccessDenied', $fault: 'client', message: `User is not authorized to perform: iam:DetachRolePolicy on resource: role ${ROLE}`, $metadata: {} });
    iam.on(DetachRolePolicyCommand).rejects(denied);
    await expect(deleteNamespaceDeployer('acme')).rejects.toMatchObject({ name: 'AccessDenied' });
    expect(iam.commandCalls(DeleteRoleCommand)).toHaveLength(0);
  });
});

describe('untilAssumable', () => {
  it('answers CloudFormation\'s "cannot be assumed" of the role it passed with StackBusy (IAM\'s eventual consistency), and passes other errors on', async () => {
    const cannot = Object.assign(new Error(`Role ${ARN} is invalid or cannot be assumed`), { name: 'ValidationError' });
    await expect(untilAssumable(ARN, async () => { throw cannot; })).rejects.toMatchObject({ name: 'StackBusy', message: expect.stringContaining(`CloudFormation cannot assume ${ARN} yet`) });
    const other = Object.assign(new Error('Template format error'), { name: 'ValidationError' });
    await expect(untilAssumable(ARN, async () => { throw other; })).rejects.toBe(other);
    await expect(untilAssumable(ARN, async () => 'ok')).resolves.toBe('ok');
  });
});
