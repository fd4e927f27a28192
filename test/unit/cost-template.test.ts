import { CfnParameter, CfnResource } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3vectors from 'aws-cdk-lib/aws-s3vectors';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../lib/cli/cli-error.js';
import { loadPriceTable } from '../../lib/cost/price-table.js';
import { byKind, priceTemplate } from '../../lib/cost/price-template.js';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { newStack, template } from '../support/synth.js';

const table = loadPriceTable('us-east-1');

/** A small synthesized template with one resource of every priced kind (L1 constructs, known properties). */
function smallTemplate(overrides: { dbClass?: string } = {}): CfnTemplate {
  const stack = newStack('CostFixture');
  const gpuNodes = new CfnParameter(stack, 'NodeCount', { type: 'Number', default: 2 });
  new rds.CfnDBInstance(stack, 'Db', {
    engine: 'postgres', storageEncrypted: true, dbInstanceClass: overrides.dbClass ?? 'db.t4g.medium', multiAz: true, allocatedStorage: '20', storageType: 'gp3',
    backupRetentionPeriod: 7, enablePerformanceInsights: true, performanceInsightsRetentionPeriod: 7, monitoringInterval: 60, manageMasterUserPassword: true,
  });
  new elasticache.CfnReplicationGroup(stack, 'Cache', { replicationGroupDescription: 'x', engine: 'valkey', cacheNodeType: 'cache.t4g.small', numCacheClusters: 2, transitEncryptionEnabled: true, atRestEncryptionEnabled: true });
  new eks.CfnCluster(stack, 'Cluster', { version: '1.34', roleArn: 'arn:aws:iam::123456789012:role/x', resourcesVpcConfig: { subnetIds: ['subnet-0123456789abcdef0'] } });
  new eks.CfnNodegroup(stack, 'Nodes', {
    clusterName: 'c', nodeRole: 'arn:aws:iam::123456789012:role/n', subnets: ['subnet-0123456789abcdef0'], instanceTypes: ['m7i.xlarge', 'g5.2xlarge'], diskSize: 50,
    scalingConfig: { minSize: 0, maxSize: 4, desiredSize: gpuNodes.valueAsNumber },
  });
  new ec2.CfnNatGateway(stack, 'Nat', { subnetId: 'subnet-0123456789abcdef0' });
  new ec2.CfnEIP(stack, 'Eip', {});
  new ec2.CfnVPCEndpoint(stack, 'Sts', { vpcId: 'vpc-0123456789abcdef0', serviceName: 'com.amazonaws.us-east-1.sts', vpcEndpointType: 'Interface', subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'] });
  new ec2.CfnVPCEndpoint(stack, 'S3', { vpcId: 'vpc-0123456789abcdef0', serviceName: 'com.amazonaws.us-east-1.s3', vpcEndpointType: 'Gateway' });
  new kms.CfnKey(stack, 'Key', { enableKeyRotation: true });
  new logs.CfnLogGroup(stack, 'FlowLogs', { logGroupName: '/tessera/t/vpc-flow-logs', retentionInDays: 365 });
  new logs.CfnLogGroup(stack, 'DbLogs', { logGroupName: '/aws/rds/instance/t/postgresql' });
  new backup.CfnBackupPlan(stack, 'Plan', { backupPlan: { backupPlanName: 'p', backupPlanRule: [{ ruleName: 'daily', targetBackupVault: 'v' }] } });
  new sns.CfnTopic(stack, 'Topic', {});
  new sfn.CfnActivity(stack, 'Activity', { name: 'unpriced-example' });
  return template(stack).toJSON() as CfnTemplate;
}

const line = (lines: { resource: string; item: string; monthlyUsd: number }[], resource: string, item: RegExp) => {
  const found = lines.filter((l) => l.resource === resource && item.test(l.item));
  expect(found, `${resource} ${item}`).toHaveLength(1);
  return found[0]!.monthlyUsd;
};

describe('priceTemplate', () => {
  it('prices each resource kind of a small synthesized template, the figures added up by hand', () => {
    // GIVEN / WHEN
    const cost = priceTemplate(smallTemplate(), table);
    const l = cost.lines;
    // THEN, with the shipped us-east-1 figures and 730 h:
    // RDS db.t4g.medium Multi-AZ: 2 x 730 h x $0.065 = $94.90; 20 GiB x 2 copies x $0.115 = $4.60; backups within free storage $0;
    // Performance Insights 7 days $0; Enhanced Monitoring 0.25 GB x $0.50 = $0.125; managed secret $0.40
    expect(line(l, 'Db', /db\.t4g\.medium PostgreSQL instance, Multi-AZ/)).toBeCloseTo(94.9, 10);
    expect(line(l, 'Db', /20 GiB gp3 storage x 2 copies/)).toBeCloseTo(4.6, 10);
    expect(line(l, 'Db', /automated backups \(7 days\)/)).toBe(0);
    expect(line(l, 'Db', /Performance Insights/)).toBe(0);
    expect(line(l, 'Db', /Enhanced Monitoring/)).toBeCloseTo(0.125, 10);
    expect(line(l, 'Db', /master user secret/)).toBeCloseTo(0.4, 10);
    // ElastiCache: 2 valkey cache.t4g.small nodes x 730 h x $0.0256 = $37.376
    expect(line(l, 'Cache', /2 x cache\.t4g\.small valkey nodes/)).toBeCloseTo(37.376, 10);
    // EKS control plane: 730 h x $0.10 = $73.00
    expect(line(l, 'Cluster', /EKS control plane/)).toBeCloseTo(73, 10);
    // Node group at the parameter's default of 2, first listed type: 2 x 730 h x $0.2016 = $294.336; 2 x 50 GiB x $0.08 = $8.00
    expect(line(l, 'Nodes', /2 x m7i\.xlarge nodes at desired size \(first of m7i\.xlarge, g5\.2xlarge\)/)).toBeCloseTo(294.336, 10);
    expect(line(l, 'Nodes', /2 x 50 GiB gp3 root volume/)).toBeCloseTo(8, 10);
    // NAT: 730 h x $0.045 = $32.85, 100 GB assumed x $0.045 = $4.50; its public IPv4: 730 h x $0.005 = $3.65
    expect(line(l, 'Nat', /^NAT gateway$/)).toBeCloseTo(32.85, 10);
    expect(line(l, 'Nat', /data processed/)).toBeCloseTo(4.5, 10);
    expect(line(l, 'Eip', /public IPv4/)).toBeCloseTo(3.65, 10);
    // Interface endpoint in 2 AZs: 2 x 730 h x $0.01 = $14.60, 1 GB assumed x $0.01; the gateway endpoint is free
    expect(line(l, 'Sts', /sts interface endpoint in 2 AZs/)).toBeCloseTo(14.6, 10);
    expect(line(l, 'Sts', /data processed/)).toBeCloseTo(0.01, 10);
    expect(line(l, 'S3', /s3 gateway endpoint/)).toBe(0);
    // KMS key $1.00
    expect(line(l, 'Key', /customer managed KMS key/)).toBe(1);
    // Flow logs: 2 GB x $0.50 = $1.00 ingested, 2 GB x 12 months x $0.03 = $0.72 stored; another group 0.5 GB: $0.25 + $0.18
    expect(line(l, 'FlowLogs', /VPC flow logs ingestion/)).toBeCloseTo(1, 10);
    expect(line(l, 'FlowLogs', /VPC flow logs storage, 12 months/)).toBeCloseTo(0.72, 10);
    expect(line(l, 'DbLogs', /log group ingestion/)).toBeCloseTo(0.25, 10);
    expect(line(l, 'DbLogs', /log group storage/)).toBeCloseTo(0.18, 10);
    // Backup vault: 20 GiB allocated x 1 x $0.095 = $1.90
    expect(line(l, 'Plan', /AWS Backup vault storage \(RDS snapshots of 20 GiB allocated\)/)).toBeCloseTo(1.9, 10);
    // Total: 94.90 + 4.60 + 0.125 + 0.40 + 37.376 + 73 + 294.336 + 8 + 32.85 + 4.50 + 3.65 + 14.60 + 0.01 + 1 + 1 + 0.72 + 0.25 + 0.18 + 1.90 = 573.397
    expect(cost.monthlyUsd).toBe(573.4);
    // Where the money goes, by kind: nodes 294.336 + 8; database 94.90 + 4.60 + 0.125 + 0.40; NAT 32.85 + 4.50 + 3.65; ...
    // in whole cents adding up to the total's 573.40: floors 302.33, 100.02, ..., 37.37 sum to 573.38, and the two cents
    // left go to the largest remainders (nodes .6, cache .6), not the database's .5 (each rounded alone: 573.41)
    expect(byKind(l)).toEqual([
      { kind: 'EKS nodes', monthlyUsd: 302.34 }, { kind: 'database', monthlyUsd: 100.02 }, { kind: 'EKS control plane', monthlyUsd: 73 },
      { kind: 'NAT', monthlyUsd: 41 }, { kind: 'cache', monthlyUsd: 37.38 }, { kind: 'VPC endpoints', monthlyUsd: 14.61 },
      { kind: 'logs', monthlyUsd: 2.15 }, { kind: 'backup', monthlyUsd: 1.9 }, { kind: 'KMS', monthlyUsd: 1 },
    ]);
    expect(Math.round(byKind(l).reduce((n, k) => n + k.monthlyUsd, 0) * 100)).toBe(Math.round(cost.monthlyUsd * 100));
    // A Step Functions activity is a type the pricer does not know: reported, not silently free. An SNS topic (an
    // infrastructure budget's alerts topic) bills requests only: known, at $0.
    expect(cost.unpriced).toEqual([{ resource: 'Activity', type: 'AWS::StepFunctions::Activity' }]);
  });

  it("prices a node group's disk from its launch template's volume when the group has no DiskSize (the shared cluster's GPU nodes)", () => {
    // GIVEN a GPU node group whose 200 GiB data volume is in its launch template (EKS refuses DiskSize beside one)
    const stack = newStack('CostLaunchTemplate');
    const lt = new ec2.CfnLaunchTemplate(stack, 'Lt', { launchTemplateData: { blockDeviceMappings: [{ deviceName: '/dev/xvdb', ebs: { volumeSize: 200, volumeType: 'gp3' } }] } });
    new eks.CfnNodegroup(stack, 'Gpu', {
      clusterName: 'c', nodeRole: 'arn:aws:iam::123456789012:role/n', subnets: ['subnet-0123456789abcdef0'], instanceTypes: ['g5.2xlarge'],
      scalingConfig: { minSize: 1, maxSize: 2, desiredSize: 1 }, launchTemplate: { id: lt.ref, version: lt.attrLatestVersionNumber },
    });
    // WHEN priced, THEN the volume is the template's 200 GiB (1 x 200 GiB x $0.08 = $16.00), not EKS's 20 GiB default,
    // and the launch template itself is no unpriced resource
    const cost = priceTemplate(template(stack).toJSON() as CfnTemplate, table);
    expect(line(cost.lines, 'Gpu', /1 x 200 GiB gp3 root volume/)).toBeCloseTo(16, 10);
    expect(cost.unpriced).toEqual([]);
  });

  it('takes parameter values over defaults, and caps log storage at the group retention', () => {
    // GIVEN the node group's size passed as 0 and a 30-day flow-log retention
    const t = smallTemplate();
    (t.Resources.FlowLogs!.Properties as Record<string, unknown>).RetentionInDays = 30;
    const cost = priceTemplate(t, table, { NodeCount: 0 });
    // THEN no node is billed, and 30 days hold 30 / (365 / 12) months of 2 GB
    expect(line(cost.lines, 'Nodes', /0 x m7i\.xlarge nodes/)).toBe(0);
    expect(line(cost.lines, 'FlowLogs', /storage/)).toBeCloseTo(2 * (30 / (365 / 12)) * 0.03, 10);
  });

  it('prices a CloudWatch alarm per metric it watches: $0.10 a plain alarm, $0.20 a metric-math alarm on two metrics', () => {
    // GIVEN a template with a plain alarm and a metric-math alarm (the DLQ alarms of the blueprints are plain)
    const stack = newStack('AlarmFixture');
    new cloudwatch.CfnAlarm(stack, 'Plain', { comparisonOperator: 'GreaterThanThreshold', evaluationPeriods: 1, threshold: 0, metricName: 'ApproximateNumberOfMessagesVisible', namespace: 'AWS/SQS', period: 300, statistic: 'Maximum' });
    const stat = (id: string) => ({ id, metricStat: { metric: { metricName: 'Errors', namespace: 'AWS/Lambda' }, period: 300, stat: 'Sum' }, returnData: false });
    new cloudwatch.CfnAlarm(stack, 'Math', { comparisonOperator: 'GreaterThanThreshold', evaluationPeriods: 1, threshold: 0, metrics: [stat('a'), stat('b'), { id: 'e', expression: 'a + b', returnData: true }] });
    const cost = priceTemplate(template(stack).toJSON() as CfnTemplate, table);
    // THEN each is priced, none NOT PRICED
    expect(line(cost.lines, 'Plain', /CloudWatch alarm \(standard resolution\)/)).toBeCloseTo(0.1, 10);
    expect(line(cost.lines, 'Math', /CloudWatch alarm \(standard resolution, 2 metrics\)/)).toBeCloseTo(0.2, 10);
    expect(cost.unpriced).toEqual([]);
    expect(byKind(cost.lines)).toEqual([{ kind: 'alarms', monthlyUsd: 0.3 }]);
  });

  it('prices an S3 vector bucket at $0 while empty, one line per S3 Vectors price term (storage, PUT, queries, data processed)', () => {
    // GIVEN a template with a tenant's vector bucket (constructs/tenant-vector-bucket.ts)
    const stack = newStack('VectorFixture');
    new s3vectors.CfnVectorBucket(stack, 'Vectors', { vectorBucketName: 'tessera-acme-vectors' });
    const cost = priceTemplate(template(stack).toJSON() as CfnTemplate, table);
    // THEN it is priced, not NOT PRICED: each term at quantity 0 with the table's price and source
    expect(cost.unpriced).toEqual([]);
    expect(cost.lines.map((l) => [l.resource, l.item, l.quantity, l.unit, l.unitUsd, l.monthlyUsd, l.basis, l.source])).toEqual([
      ['Vectors', 'S3 Vectors storage (vector data, key and metadata)', 0, 'GB-months', 0.06, 0, 'published', 'https://aws.amazon.com/s3/pricing/'],
      ['Vectors', 'S3 Vectors PutVectors (logical GB written)', 0, 'GB written', 0.2, 0, 'published', 'https://aws.amazon.com/s3/pricing/'],
      ['Vectors', 'S3 Vectors QueryVectors requests', 0, 'million requests', 2.5, 0, 'published', 'https://aws.amazon.com/s3/pricing/'],
      ['Vectors', 'S3 Vectors query data processed', 0, 'TB processed', 0.004, 0, 'list', 'https://aws.amazon.com/s3/pricing/'],
    ]);
    expect(cost.lines.every((l) => l.assumption === "a quiet tenant's vector bucket is empty: vector stores fill it as they are used")).toBe(true);
    expect(cost.monthlyUsd).toBe(0);
    expect(byKind(cost.lines)).toEqual([{ kind: 'S3 Vectors', monthlyUsd: 0 }]);
  });

  it("prices a dedicated cluster's image cache: the repository's storage at the assumed image size, the rule and the manifests custom resource free", () => {
    // GIVEN a template with the Cluster Autoscaler's image cache (constructs/cluster-autoscaler.ts) and its manifests' custom resource
    const stack = newStack('ImageCacheFixture');
    new ecr.CfnPullThroughCacheRule(stack, 'Rule', { ecrRepositoryPrefix: 'tessera-registry-k8s', upstreamRegistry: 'k8s', upstreamRegistryUrl: 'registry.k8s.io' });
    new ecr.CfnRepository(stack, 'Cache', { repositoryName: 'tessera-registry-k8s/autoscaling/cluster-autoscaler' });
    new CfnResource(stack, 'Manifests', { type: 'Custom::ClusterManifests', properties: { ServiceToken: 'arn:aws:lambda:us-east-1:111111111111:function:f' } });
    const cost = priceTemplate(template(stack).toJSON() as CfnTemplate, table);
    // THEN none is NOT PRICED; one line: 0.05 GB-months x $0.10 ECR storage, assumed
    expect(cost.unpriced).toEqual([]);
    expect(cost.lines.map((l) => [l.resource, l.item, l.quantity, l.unit, l.unitUsd, l.basis, l.source])).toEqual([
      ['Cache', 'ECR image storage (images held, compressed)', 0.05, 'GB-months', 0.1, 'published', 'https://aws.amazon.com/ecr/pricing/'],
    ]);
    expect(cost.lines[0]!.assumption).toBe('0.05 GB of images held per image cache repository (imageCacheGbPerRepository)');
    expect(cost.lines[0]!.monthlyUsd).toBeCloseTo(0.005, 10);
    expect(byKind(cost.lines)).toEqual([{ kind: 'ECR', monthlyUsd: 0.01 }]);
  });

  it('refuses an instance class the table does not price, naming the resource and the key to add', () => {
    const t = smallTemplate({ dbClass: 'db.x2iedn.32xlarge' });
    expect(() => priceTemplate(t, table)).toThrow(CliError);
    expect(() => priceTemplate(t, table)).toThrow('no price for db.x2iedn.32xlarge in the us-east-1 price table (rdsPostgresInstanceHour."db.x2iedn.32xlarge"), needed by resource Db');
  });
});
