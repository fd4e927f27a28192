/**
 * A tenant's own namespace deployer (`tessera-<tenant>-namespace-deployer`, lib/namespace-deployer.ts) as the simulator sees
 * it: the inline policy the lifecycle writes for that tenant as its identity policy, and the platform stack's shared namespace
 * deployer policy as its permissions boundary, both instantiated for the platform account.
 */
import type { SimulationIdentityPolicy } from '@cloud-copilot/iam-simulate';
import { NAMESPACE_DEPLOYER_POLICY_NAME, namespaceDeployerPolicy, namespaceDeployerRoleName, type NamespaceDeployerScope } from '../namespace-deployer.js';
import { POD_BRIDGE_BOUNDARY_POLICY_NAME } from '../shared-cluster-parameters.js';
import { roleArn } from '../tenant-naming.js';
import type { InstantiatedTemplate } from './instantiate.js';

/** The simulator's principal of one tenant's namespace deployer. */
export interface TenantNamespaceDeployer {
  readonly roleName: string;
  readonly arn: string;
  /** Its inline policy ({@link namespaceDeployerPolicy}). */
  readonly identityPolicies: SimulationIdentityPolicy[];
  /** Its permissions boundary: the shared namespace deployer policy's document. */
  readonly permissionBoundaries: SimulationIdentityPolicy[];
  /** What the lifecycle is handed to write the policy (the same ARNs the platform stack gives it). */
  readonly scope: NamespaceDeployerScope;
}

/**
 * Tenant `tenantId`'s namespace deployer over the instantiated namespace deployer excerpt of the platform stack
 * (run.ts namespaceDeployerInstance).
 * @param platform that excerpt, instantiated for the platform account
 * @param roleLogicalId logical id of the shared `NamespaceDeployerRole` in it
 * @param parameters the namespace blueprint's SSM-held parameters (`ClusterName`, `KubectlServiceToken`, `NamespaceKubectlServiceToken`)
 * @param tenantId a tenant id
 * @throws Error when the excerpt has no policy attached to the shared deployer, or no bridge boundary
 */
export function tenantNamespaceDeployer(platform: InstantiatedTemplate, roleLogicalId: string, parameters: { ClusterName: string; KubectlServiceToken: string; NamespaceKubectlServiceToken: string }, tenantId: string): TenantNamespaceDeployer {
  const shared = platform.resources[roleLogicalId];
  const policies = Object.values(platform.resources).filter((r) => r.type === 'AWS::IAM::ManagedPolicy');
  const boundary = policies.find((r) => ((r.props.Roles as unknown[] | undefined) ?? []).includes(shared.physicalId));
  const bridgeBoundary = policies.find((r) => r.props.ManagedPolicyName === POD_BRIDGE_BOUNDARY_POLICY_NAME);
  if (!boundary || !bridgeBoundary) throw new Error('the namespace deployer excerpt has no shared deployer policy or no bridge boundary');
  const { partition, region, account } = platform.env;
  const scope: NamespaceDeployerScope = {
    boundaryArn: boundary.arn,
    clusterArn: `arn:${partition}:eks:${region}:${account}:cluster/${parameters.ClusterName}`,
    kubectlServiceToken: parameters.KubectlServiceToken,
    namespaceKubectlServiceToken: parameters.NamespaceKubectlServiceToken,
    podBridgeBoundaryArn: bridgeBoundary.arn,
  };
  const roleName = namespaceDeployerRoleName(tenantId);
  return {
    roleName,
    arn: roleArn(partition, account, roleName),
    identityPolicies: [{ name: NAMESPACE_DEPLOYER_POLICY_NAME, policy: namespaceDeployerPolicy(tenantId, scope) }],
    permissionBoundaries: [{ name: boundary.logicalId, policy: boundary.props.PolicyDocument }],
    scope,
  };
}
