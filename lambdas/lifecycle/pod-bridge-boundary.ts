import { POD_BRIDGE_BOUNDARY_POLICY_NAME } from '../../lib/shared-cluster-parameters.js';
import { tenantRoleName } from '../../lib/tenant-naming.js';

/**
 * The pod-bridge role's permissions boundary across blueprint versions. Since the platform gives every tenant's
 * pod-bridge role (`tessera-<id>-pod-bridge`, the namespace blueprint) the boundary `TesseraPodBridgeBoundary`, its
 * namespace deployer may `CreateRole` and `AttachRolePolicy` only with that boundary (`iam:PermissionsBoundary`) and is
 * denied `DeleteRolePermissionsBoundary` (constructs/shared-cluster.ts). A namespace blueprint of a version published
 * before (0.3.0 and earlier) has no boundary on that role: CloudFormation, acting as that deployer, could not create
 * the role from it, nor take a role that has the boundary back to none, so an update of the namespace stack to such a
 * version fails and rolls back, after *Deploy blueprint* has moved the tenant stack. *Deploy blueprint* refuses it first
 * (deploy-blueprint.ts, with the other version checks).
 */

type Template = { Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }> };

/**
 * Whether a namespace blueprint gives its pod-bridge role (the AWS::IAM::Role whose `RoleName` is built as
 * tenantRoleName(<TenantId>, 'pod-bridge') renders: `tessera-` … `-pod-bridge`) a `PermissionsBoundary`; undefined when the
 * template has no such role.
 */
export function podBridgeBoundaryOf(template: Template): boolean | undefined {
  const suffix = tenantRoleName('', 'pod-bridge').replace(/^tessera-/, '');
  const roles = Object.values(template.Resources ?? {}).filter((r) => r?.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties?.RoleName ?? '').includes(`${suffix}"`));
  if (!roles.length) return undefined;
  return roles.every((r) => r.Properties?.PermissionsBoundary !== undefined);
}

/** The refusal of a move of tenant `tenantId` to `what` (tier and version), whose namespace blueprint has no boundary on the bridge role. */
export function describeBoundaryRefusal(tenantId: string, what: string, platformVersion: string): string {
  return `${what}: tenant ${tenantId}'s namespace blueprint there gives its pod-bridge role ${tenantRoleName(tenantId, 'pod-bridge')} no permissions boundary, `
    + `and this platform's namespace deployer creates and attaches policies to bridge roles only with ${POD_BRIDGE_BOUNDARY_POLICY_NAME} and may not remove it `
    + `(DeleteRolePermissionsBoundary is denied), so the namespace stack's update would fail and roll back after the tenant stack moved; nothing changed. `
    + `Move the tenant to blueprint version ${platformVersion} (the platform's) or a newer one (docs/upgrading-and-teardown.md, What cdk deploy cannot update)`;
}
