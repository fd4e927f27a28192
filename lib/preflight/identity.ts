/**
 * Identity policies of a role of an instantiated template: its inline `Policies`, the inline
 * policies of the template that name it (`AWS::IAM::Policy` through `Roles`, `AWS::IAM::RolePolicy`
 * through `RoleName`), the customer-managed policies of the template attached to it (through the
 * policy's `Roles` or the role's `ManagedPolicyArns`), and AWS-managed policies by ARN (from
 * ./aws-managed-policies.ts).
 */
import type { SimulationIdentityPolicy } from '@cloud-copilot/iam-simulate';
import { AWS_MANAGED_POLICIES } from './aws-managed-policies.js';
import type { InstantiatedResource, InstantiatedTemplate } from './instantiate.js';

export interface RoleIdentity {
  readonly role: InstantiatedResource;
  readonly policies: SimulationIdentityPolicy[];
  /** AWS-managed policy ARNs the role names that ./aws-managed-policies.ts does not carry. */
  readonly unknownManagedPolicies: string[];
}

/** The role of `inst` named `roleName` (physical name), if any. */
export function findRole(inst: InstantiatedTemplate, roleName: string): InstantiatedResource | undefined {
  return Object.values(inst.resources).find((r) => r.type === 'AWS::IAM::Role' && r.physicalId === roleName);
}

export function identityOf(inst: InstantiatedTemplate, role: InstantiatedResource): RoleIdentity {
  const policies: SimulationIdentityPolicy[] = [];
  const unknownManagedPolicies: string[] = [];
  for (const p of (role.props.Policies as Array<{ PolicyName: string; PolicyDocument: unknown }> | undefined) ?? []) {
    policies.push({ name: `${role.logicalId}/${p.PolicyName}`, policy: p.PolicyDocument });
  }
  const attached = new Set<string>();
  for (const r of Object.values(inst.resources)) {
    const inline = (r.type === 'AWS::IAM::Policy' && ((r.props.Roles as unknown[] | undefined) ?? []).includes(role.physicalId))
      || (r.type === 'AWS::IAM::RolePolicy' && r.props.RoleName === role.physicalId);
    if (inline) policies.push({ name: r.logicalId, policy: r.props.PolicyDocument });
    if (r.type !== 'AWS::IAM::ManagedPolicy') continue;
    const roles = (r.props.Roles as unknown[] | undefined) ?? [];
    if (roles.includes(role.physicalId)) {
      policies.push({ name: r.logicalId, policy: r.props.PolicyDocument });
      attached.add(r.physicalId);
    }
  }
  for (const arn of (role.props.ManagedPolicyArns as string[] | undefined) ?? []) {
    if (attached.has(arn)) continue;
    const local = inst.lookup(arn);
    if (local?.type === 'AWS::IAM::ManagedPolicy') {
      policies.push({ name: local.logicalId, policy: local.props.PolicyDocument });
      continue;
    }
    const name = /:policy\/(?:.*\/)?([^/]+)$/.exec(arn)?.[1] ?? arn;
    const managed = AWS_MANAGED_POLICIES[name];
    if (managed) policies.push({ name, policy: managed.document });
    else unknownManagedPolicies.push(arn);
  }
  return { role, policies, unknownManagedPolicies };
}

/** Service principals a role's trust policy admits (`eks.amazonaws.com`, …). */
export function trustedServices(role: InstantiatedResource): string[] {
  const doc = role.props.AssumeRolePolicyDocument as { Statement?: Array<{ Effect?: string; Principal?: { Service?: string | string[] } }> } | undefined;
  return (doc?.Statement ?? []).filter((s) => s.Effect === 'Allow').flatMap((s) => {
    const svc = s.Principal?.Service;
    return svc === undefined ? [] : Array.isArray(svc) ? svc : [svc];
  });
}
