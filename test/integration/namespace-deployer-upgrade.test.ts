import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DeleteRoleCommand, DeleteRolePolicyCommand, GetRoleCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { getTenant } from '../../lambdas/shared/registry.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

const local = useLocalLifecycle();

/**
 * The upgrade path of a tenant onboarded before each tenant had its own namespace deployer (lib/namespace-deployer.ts): the
 * lifecycle made no tenant role then. Its next update that changes something (here a blueprint version change, what the
 * rolling upgrade runs) creates the role and passes it as the change set's RoleARN. (The stack here names the tenant's role
 * already: moto's UpdateStack of the namespace template with the shared role's ARN failed, so the test starts from the role
 * deleted; that AWS moves a stack to the RoleARN a change set names is the CreateChangeSet API reference's.)
 */
describe('a namespace tenant without its own namespace deployer (onboarded before session 42)', () => {
  it('gets it at its next blueprint version, and its namespace stack runs as it', async () => {
    await local.workflows.run('onboard', onboardRequest('pied', 'starter'));
    const iam = new IAMClient({ credentials: local.fixture.platform });
    // GIVEN no tenant role, as a platform before this one left the tenant
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'tessera-pied-namespace-deployer', PolicyName: 'TenantNamespaceStack' }));
    await iam.send(new DeleteRoleCommand({ RoleName: 'tessera-pied-namespace-deployer' }));
    await expect(iam.send(new GetRoleCommand({ RoleName: 'tessera-pied-namespace-deployer' }))).rejects.toMatchObject({ name: 'NoSuchEntityException' });

    // WHEN the tenant moves to the next blueprint version
    const run = await local.workflows.run('change', { request: { tenantId: 'pied', requestId: 'req-pied-change-1' }, change: { blueprintVersion: '2.0.0' } });

    // THEN its own deployer exists, with its policy, and the namespace stack runs as it
    expect(run.error).toBeUndefined();
    expect(await getTenant('pied')).toMatchObject({ status: 'ACTIVE', blueprintVersion: '2.0.0' });
    const own = (await iam.send(new GetRoleCommand({ RoleName: 'tessera-pied-namespace-deployer' }))).Role!;
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: own.RoleName }))).PolicyNames).toEqual(['TenantNamespaceStack']);
    const stack = (await new CloudFormationClient({ credentials: local.fixture.platform }).send(new DescribeStacksCommand({ StackName: 'tessera-pied-namespace' }))).Stacks![0];
    expect(stack.RoleARN).toBe(own.Arn);
    expect(stack.Tags).toContainEqual({ Key: 'tessera:blueprint-version', Value: '2.0.0' });
  });
});
