import { DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupEgressCommand, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { clientWith } from '../shared/aws-clients.js';
import { lifecycleHandler } from '../shared/handler.js';
import { requireTenant } from '../shared/registry.js';
import { tenantAccountCredentials } from '../shared/sessions.js';
import type { LifecycleState } from './state.js';

/**
 * Post-deploy wiring that a blueprint cannot do without a Lambda of its own: strip every rule
 * from the tenant VPC's default security group (nothing uses it; a closed default stops a
 * resource created without a group from talking to anything). EKS access entries for the
 * tenant admin role are declared in the blueprint, where CloudFormation tracks and removes them.
 */
export const handler = lifecycleHandler('Wire tenant', async (state: LifecycleState) => {
  const record = await requireTenant(state.request.tenantId);
  const groupId = record.stackOutputs.DefaultSecurityGroupId;
  if (!groupId) return { defaultSecurityGroupClosed: false };
  const ec2 = clientWith(EC2Client, await tenantAccountCredentials(record.accountId!, record.tenantId, 'wire'));
  const out = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  const group = out.SecurityGroups?.[0];
  if (group?.IpPermissions?.length) await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: group.IpPermissions }));
  if (group?.IpPermissionsEgress?.length) await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: group.IpPermissionsEgress }));
  return { defaultSecurityGroupClosed: true, groupId };
});
