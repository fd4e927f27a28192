import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/shared/environment.js';
import { defaultAppTemplates, type DefaultAppTemplates } from '../support/default-app.js';

let app: DefaultAppTemplates;
let platform: Template;
beforeAll(() => {
  app = defaultAppTemplates(); // the default app's templates, shared across files
  platform = app.platformWithPolicies; // the Lambdas' policies are in the FunctionPolicies nested stack
});

/** The statements of a lifecycle function's managed policy, by handler name (as archive-export-policy.test.ts finds them). */
function statementsOf(handler: string): Record<string, Record<string, any>> {
  const id = app.logicalIdAt(`TesseraPlatform/FunctionPolicies/Lifecycle--${handler}/Policy/Resource`);
  return Object.fromEntries(platform.toJSON().Resources[id].Properties.PolicyDocument.Statement.map((s: Record<string, any>) => [s.Sid, s]));
}

/** The shared namespace deployer policy's reference as the nested stack receives it (a parameter of FunctionPolicies). */
const boundaryRef = (s: Record<string, any>) => JSON.stringify(s.Condition?.StringEquals?.['iam:PermissionsBoundary']);

describe('the lifecycle\'s grants over the tenants\' own namespace deployers', () => {
  it('Deploy blueprint creates and writes tessera-<tenant>-namespace-deployer only with the shared deployer policy as its boundary, tags it with its tenant only, and passes it to CloudFormation only', () => {
    const s = statementsOf('deploy-blueprint');
    expect([...s.NamespaceDeployersWithTheBoundaryOnly.Action].sort()).toEqual(['iam:CreateRole', 'iam:PutRolePolicy']);
    expect(JSON.stringify(s.NamespaceDeployersWithTheBoundaryOnly.Resource)).toContain(':role/tessera-*-namespace-deployer');
    expect(boundaryRef(s.NamespaceDeployersWithTheBoundaryOnly)).toMatch(/NamespaceDeployerPolicy/);
    expect(s.TagNamespaceDeployersWithTheirTenant).toMatchObject({ Action: 'iam:TagRole', Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['tessera:tenant-id'] } } });
    expect(s.PassNamespaceDeployerRoles.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } });
    expect(JSON.stringify(s.PassNamespaceDeployerRoles.Resource)).toContain(':role/tessera-*-namespace-deployer');
    // Nothing else on those roles: no boundary change, no managed policy, no trust change.
    const actions = Object.values(s).flatMap((st) => [st.Action].flat());
    for (const a of ['iam:PutRolePermissionsBoundary', 'iam:DeleteRolePermissionsBoundary', 'iam:AttachRolePolicy', 'iam:UpdateAssumeRolePolicy', 'iam:DeleteRole']) expect(actions, a).not.toContain(a);
  });

  it('Delete tenant stacks deletes them, only with that boundary; no other handler may create or delete them', () => {
    const s = statementsOf('delete-tenant-stacks');
    expect([...s.RemoveNamespaceDeployers.Action].sort()).toEqual(['iam:DeleteRole', 'iam:DeleteRolePolicy', 'iam:DetachRolePolicy']);
    expect(boundaryRef(s.RemoveNamespaceDeployers)).toMatch(/NamespaceDeployerPolicy/);
    // s43b: a policy someone else attached (or put inline) blocked DeleteRole (DeleteConflict); it lists and removes them, on those roles only.
    // s43j: an instance profile holding it blocked DeleteRole too; it lists them, on those roles only, to refuse with the fix.
    expect([...s.ListNamespaceDeployerPolicies.Action].sort()).toEqual(['iam:ListAttachedRolePolicies', 'iam:ListInstanceProfilesForRole', 'iam:ListRolePolicies']);
    expect(JSON.stringify(s.ListNamespaceDeployerPolicies.Resource)).toContain(':role/tessera-*-namespace-deployer');
    expect(JSON.stringify(s.RemoveNamespaceDeployers.Resource)).toContain(':role/tessera-*-namespace-deployer');
    // RemoveRoleFromInstanceProfile's resource is the instance profile, with no condition key (Service Authorization Reference, IAM):
    // it could be granted only on every instance profile of the platform account (the shared cluster's nodes' among them), so it is not.
    const actions = Object.values(s).flatMap((st) => [st.Action].flat());
    expect(actions).not.toContain('iam:RemoveRoleFromInstanceProfile');
    expect(actions).not.toContain('iam:AddRoleToInstanceProfile');
    expect(JSON.stringify(Object.values(s).map((st) => st.Resource))).not.toContain(':instance-profile/');
    expect(s.NamespaceDeployersWithTheBoundaryOnly).toBeUndefined();
    for (const handler of ['check-stack', 'record-failure', 'detect-drift']) {
      const sids = Object.keys(statementsOf(handler));
      expect(sids, handler).not.toContain('NamespaceDeployersWithTheBoundaryOnly');
      expect(sids, handler).not.toContain('RemoveNamespaceDeployers');
      expect(sids, handler).not.toContain('ListNamespaceDeployerPolicies');
      expect(sids, handler).not.toContain('RemoveNamespaceDeployersFromInstanceProfiles');
    }
  });

  it('hands the lifecycle the shared cluster and the boundaries (TESSERA_NAMESPACE_DEPLOYER_SCOPE)', () => {
    const fn = Object.values(app.platform.toJSON().Resources as Record<string, any>)
      .find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.[ENV.namespaceDeployerScope]);
    expect(fn).toBeDefined();
    const scope = JSON.stringify(fn.Properties.Environment.Variables[ENV.namespaceDeployerScope]);
    for (const key of ['boundaryArn', 'clusterArn', 'kubectlServiceToken', 'podBridgeBoundaryArn']) expect(scope).toContain(key);
  });
});
