/**
 * AWS-managed policies the blueprints attach to their service roles, as far as the preflight needs
 * them: the actions, to evaluate against the SCPs in force while the account may be quarantined.
 *
 * An embedded excerpt, not a mirror: each entry lists actions read on the policy's page of the AWS
 * Managed Policy Reference (URL in `source`, version and date read in `read`). The SCP check only
 * needs action names (SCPs here deny by principal, region and a few named actions), so a partial
 * list can miss a denial only for an action that an SCP names explicitly; `partial` says so.
 * No npm package is used: the preflight may add only its simulator dependency.
 */
import type { PolicyJson } from './iam-eval.js';

export interface ManagedPolicyExcerpt {
  readonly source: string;
  readonly read: string;
  /** True when the list is an excerpt of the policy's actions rather than all of them. */
  readonly partial: boolean;
  readonly document: PolicyJson;
}

const allow = (actions: string[]): PolicyJson => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] });
const ref = (name: string) => `https://docs.aws.amazon.com/aws-managed-policy/latest/reference/${name}.html`;

export const AWS_MANAGED_POLICIES: Record<string, ManagedPolicyExcerpt> = {
  /** What Organizations attaches to the role it creates in a new account (the provisioning role). */
  AdministratorAccess: {
    source: ref('AdministratorAccess'),
    read: 'v1: one statement, Allow * on *',
    partial: false,
    document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  },
  AmazonEKSClusterPolicy: {
    source: ref('AmazonEKSClusterPolicy'),
    read: 'v8, 2026-11 (actions up to elasticloadbalancing:AddTags)',
    partial: true,
    document: allow([
      'autoscaling:DescribeAutoScalingGroups', 'autoscaling:UpdateAutoScalingGroup', 'ec2:AttachVolume', 'ec2:AuthorizeSecurityGroupIngress',
      'ec2:CreateRoute', 'ec2:CreateSecurityGroup', 'ec2:CreateTags', 'ec2:CreateVolume', 'ec2:DeleteRoute', 'ec2:DeleteSecurityGroup',
      'ec2:DeleteVolume', 'ec2:DescribeInstances', 'ec2:DescribeRouteTables', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets',
      'ec2:DescribeVolumes', 'ec2:DescribeVolumesModifications', 'ec2:DescribeVpcs', 'ec2:DescribeDhcpOptions', 'ec2:DescribeNetworkInterfaces',
      'ec2:DescribeAvailabilityZones', 'ec2:DetachVolume', 'ec2:ModifyInstanceAttribute', 'ec2:ModifyVolume', 'ec2:RevokeSecurityGroupIngress',
      'ec2:DescribeAccountAttributes', 'ec2:DescribeAddresses', 'ec2:DescribeInternetGateways', 'ec2:DescribeInstanceTopology',
      'elasticloadbalancing:AddTags',
    ]),
  },
  AmazonEKSWorkerNodePolicy: {
    source: ref('AmazonEKSWorkerNodePolicy'),
    read: 'not read in this session: action names as commonly published; confirm against the page',
    partial: true,
    document: allow(['ec2:DescribeInstances', 'ec2:DescribeInstanceTypes', 'ec2:DescribeRouteTables', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVolumes', 'ec2:DescribeVolumesModifications', 'ec2:DescribeVpcs', 'eks:DescribeCluster', 'eks-auth:AssumeRoleForPodIdentity']),
  },
  AmazonEC2ContainerRegistryPullOnly: {
    source: ref('AmazonEC2ContainerRegistryPullOnly'),
    read: 'not read in this session: action names as commonly published; confirm against the page',
    partial: true,
    document: allow(['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchImportUpstreamImage']),
  },
  AmazonEKS_CNI_Policy: {
    source: ref('AmazonEKS_CNI_Policy'),
    read: 'not read in this session: action names as commonly published; confirm against the page',
    partial: true,
    document: allow(['ec2:AssignPrivateIpAddresses', 'ec2:AttachNetworkInterface', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:DescribeInstances', 'ec2:DescribeTags', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeInstanceTypes', 'ec2:DescribeSubnets', 'ec2:DetachNetworkInterface', 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:UnassignPrivateIpAddresses', 'ec2:CreateTags']),
  },
  AWSBackupServiceRolePolicyForBackup: {
    source: ref('AWSBackupServiceRolePolicyForBackup'),
    read: 'not read in this session: the RDS and KMS actions a DB instance backup uses; confirm against the page',
    partial: true,
    document: allow(['rds:DescribeDBInstances', 'rds:CreateDBSnapshot', 'rds:DescribeDBSnapshots', 'rds:AddTagsToResource', 'rds:ListTagsForResource', 'rds:DeleteDBSnapshot', 'kms:DescribeKey', 'kms:CreateGrant', 'kms:GenerateDataKey', 'kms:Decrypt', 'tag:GetResources', 'backup:DescribeBackupVault', 'backup:CopyIntoBackupVault']),
  },
  AmazonRDSEnhancedMonitoringRole: {
    source: ref('AmazonRDSEnhancedMonitoringRole'),
    read: 'not read in this session: action names as commonly published; confirm against the page',
    partial: true,
    document: allow(['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams', 'logs:GetLogEvents']),
  },
};
