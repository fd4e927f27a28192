/**
 * The namespace kubectl provider's guard (lambdas/namespace-kubectl/tenant_role_guard.py), run by Python: a custom resource
 * request reaches aws-eks (v1)'s kubectl handler only when its `RoleArn` (template input) is the kubectl role of the tenant whose
 * namespace stack sent it (`StackId`, CloudFormation's). Without it, tenant `acme`'s namespace template naming
 * `tessera-acme-2-namespace-kubectl` as `RoleArn` would apply and delete objects as `acme-2` in `tenant-acme-2` (the handler's
 * role may assume every `tessera-*-namespace-kubectl`). Tenant ids collide by prefix (`acme`, `acme-2`). The handler module is a
 * stand-in `index` that records the call, so the test sees what reaches it.
 */
import { describe, expect, it } from 'vitest';
import { stackName } from '../../lambdas/lifecycle/blueprints.js';
import { namespaceKubectlRoleName } from '../../lib/namespace-kubectl.js';
import { kubectlGuardOutcomes } from '../support/kubectl-guard-outcomes.js';

const ACCOUNT = '111122223333';
const stackId = (name: string, partition = 'aws') => `arn:${partition}:cloudformation:eu-west-1:${ACCOUNT}:stack/${name}/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab`;
const role = (name: string, partition = 'aws') => `arn:${partition}:iam::${ACCOUNT}:role/${name}`;

const outcomes = (events: Array<Record<string, unknown>>) => kubectlGuardOutcomes('tenant_role_guard', events);

const request = (stack: string, roleArn: unknown, requestType = 'Create', resourceType = 'Custom::AWSCDK-EKS-KubernetesResource') =>
  ({ RequestType: requestType, ResourceType: resourceType, StackId: stack, ResourceProperties: { ServiceToken: 'x', ClusterName: 'shared', RoleArn: roleArn, Manifest: '[]' } });

describe('the namespace kubectl provider runs a request only as its own stack\'s tenant', () => {
  it('passes each tenant\'s own stack with its own kubectl role to the handler, every request type, in any partition', async () => {
    // The names the lifecycle deploys and the blueprint creates (the guard's own regular expression names neither).
    expect(await outcomes([request(stackId(stackName('acme-2', 'namespace')), role(namespaceKubectlRoleName('acme-2')))])).toEqual(['handled']);
    expect(await outcomes([
      request(stackId('tessera-acme-namespace'), role('tessera-acme-namespace-kubectl')),
      request(stackId('tessera-acme-2-namespace'), role('tessera-acme-2-namespace-kubectl'), 'Update'),
      request(stackId('tessera-acme-namespace'), role('tessera-acme-namespace-kubectl'), 'Delete'),
      request(stackId('tessera-acme-namespace', 'aws-us-gov'), role('tessera-acme-namespace-kubectl', 'aws-us-gov')),
    ])).toEqual(['handled', 'handled', 'handled', 'handled']);
  });

  it('refuses another tenant\'s kubectl role, both ways and for every request and resource type of the handler', async () => {
    const foreign = [
      request(stackId('tessera-acme-namespace'), role('tessera-acme-2-namespace-kubectl')),
      request(stackId('tessera-acme-2-namespace'), role('tessera-acme-namespace-kubectl')),
      request(stackId('tessera-acme-namespace'), role('tessera-acme-2-namespace-kubectl'), 'Update'),
      request(stackId('tessera-acme-namespace'), role('tessera-acme-2-namespace-kubectl'), 'Delete'),
      ...['Custom::AWSCDK-EKS-HelmChart', 'Custom::AWSCDK-EKS-KubernetesPatch', 'Custom::AWSCDK-EKS-KubernetesObjectValue']
        .map((type) => request(stackId('tessera-acme-namespace'), role('tessera-acme-2-namespace-kubectl'), 'Create', type)),
    ];
    const got = await outcomes(foreign);
    expect(got).toHaveLength(foreign.length);
    for (const o of got) expect(o).toMatch(/^ForeignKubectlRoleError: RoleArn '.*tessera-acme(-2)?-namespace-kubectl' is not the kubectl role of stack/);
  });

  it('refuses a role that is its tenant\'s only by name (another account, a path, a partition), none, or a non-string', async () => {
    const own = stackId('tessera-acme-namespace');
    const got = await outcomes([
      request(own, `arn:aws:iam::444455556666:role/tessera-acme-namespace-kubectl`),
      request(own, role('tenants/tessera-acme-namespace-kubectl')),
      request(own, role('tessera-acme-namespace-kubectl', 'aws-cn')),
      request(own, role('TesseraNamespaceKubectlHandler')),
      request(own, undefined),
      request(own, [role('tessera-acme-namespace-kubectl')]),
    ]);
    for (const o of got) expect(o).toMatch(/^ForeignKubectlRoleError: RoleArn /);
    expect(got).toHaveLength(6);
  });

  it('refuses a request from a stack that is no tenant namespace stack (a nested stack, the platform, another name), or none', async () => {
    const got = await outcomes([
      request(stackId('tessera-acme-namespace-Nested-1ABCDEF'), role('tessera-acme-namespace-Nested-1ABCDEF-kubectl')),
      request(stackId('TesseraPlatform'), role('TesseraPlatform-kubectl')),
      request(stackId('tessera-acme'), role('tessera-acme-kubectl')),
      request(stackId('tessera-acme--x-namespace'), role('tessera-acme--x-namespace-kubectl')),
      { ...request('', role('tessera-acme-namespace-kubectl')), StackId: undefined },
    ]);
    expect(got).toHaveLength(5);
    for (const o of got) expect(o).toMatch(/^ForeignKubectlRoleError: StackId .* is not a tenant namespace stack/);
  });
});
