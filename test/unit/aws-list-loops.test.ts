import { mockCostExplorer } from '../support/cost-explorer-strict.js';
import { CloudFormationClient, DescribeChangeSetCommand, DescribeStackEventsCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { CostExplorerClient, GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeVpcsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { ListPoliciesCommand, OrganizationsClient, OrganizationsServiceException } from '@aws-sdk/client-organizations';
import { ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { ListRequestedServiceQuotaChangeHistoryByQuotaCommand, ServiceQuotasClient, ServiceQuotasServiceException } from '@aws-sdk/client-service-quotas';
import { GetQueueAttributesCommand, ListQueuesCommand, ListQueueTagsCommand, SQSClient, SQSServiceException } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { mockStrict } from '../support/strict-mock.js';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { trainingJobName, TRAINING_FILES_PREFIX, type FineTuningJob } from '../../lib/fine-tuning.js';
import { listDeadLetterQueues } from '../../lib/cli/dlq/queues.js';
import { checkRegistryTiers } from '../../lib/cli/serve-registry-check.js';
import { DynamoDbJobStore } from '../../lambdas/fine-tuning/stores/dynamodb-job-store.js';
import { fileKey } from '../../lambdas/fine-tuning/stores/file-store.js';
import { S3FileStore } from '../../lambdas/fine-tuning/stores/s3-file-store.js';
import { describeChangeSet } from '../../lambdas/lifecycle/change-set-guard.js';
import { scpIdByName } from '../../lambdas/lifecycle/organization-lookup.js';
import { USAGE, usageClients } from '../../lambdas/lifecycle/quota-usage.js';
import { openRequest } from '../../lambdas/lifecycle/service-quotas.js';
import { runningOperation } from '../../lambdas/lifecycle/stack-events.js';
import { closures } from '../../lambdas/shared/control-table.js';
import { setLifecycleEnv } from './lifecycle/support.js';
import { infrastructureCost } from '../../lambdas/statements/cost-explorer.js';
import { bounded } from './bounded-answer.js';

/**
 * AWS list loops of the Lambdas and the CLI against a service that answers the page token it was
 * sent (lib/aws-pages.ts): each stops after that page instead of asking for ever (the mocks throw
 * after 5 calls: `bounded`). Before, these loops ended only on an absent token.
 */
const region = 'us-east-1';
const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };
const mocks = {
  cfn: mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException), ce: mockCostExplorer(), doc: mockClient(DynamoDBDocumentClient), ec2: mockStrict(EC2Client, 'ec2', EC2ServiceException), orgs: mockStrict(OrganizationsClient, 'organizations', OrganizationsServiceException),
  s3: mockStrict(S3Client, 's3', S3ServiceException), sq: mockStrict(ServiceQuotasClient, 'service-quotas', ServiceQuotasServiceException), sqs: mockStrict(SQSClient, 'sqs', SQSServiceException),
};
afterEach(() => Object.values(mocks).forEach((m) => m.reset()));

describe('lambdas/lifecycle', () => {
  it('describeChangeSet (change-set-guard): a DescribeChangeSet that answers the NextToken it was sent ends after that page, its changes kept', async () => {
    mocks.cfn.on(DescribeChangeSetCommand).callsFake(bounded((n) => ({ ChangeSetName: 'cs', Status: 'CREATE_COMPLETE', Changes: [{ Type: 'Resource', ResourceChange: { LogicalResourceId: `R${n}` } }], NextToken: 'page-2' })));
    const set = await describeChangeSet(new CloudFormationClient({ region, credentials }), 'tessera-acme', 'cs');
    expect(set.Changes.map((c) => c.ResourceChange?.LogicalResourceId)).toEqual(['R1', 'R2']);
    expect(mocks.cfn.commandCalls(DescribeChangeSetCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'page-2']);
  });

  it('scpIdByName (organization-lookup): a ListPolicies that repeats its token ends the search with the missing-policy error', async () => {
    mocks.orgs.on(ListPoliciesCommand).callsFake(bounded(() => ({ Policies: [{ Id: 'p-1', Name: 'other' }], NextToken: 'again' })));
    await expect(scpIdByName(new OrganizationsClient({ region, credentials }), 'tessera-quarantine')).rejects.toThrow('service control policy "tessera-quarantine" does not exist; deploy the TesseraOrganization stack');
    expect(mocks.orgs.commandCalls(ListPoliciesCommand)).toHaveLength(2);
  });

  it('openRequest (service-quotas): the request history is paged until found, and a repeated token ends it with none', async () => {
    const sq = new ServiceQuotasClient({ region, credentials });
    mocks.sq.on(ListRequestedServiceQuotaChangeHistoryByQuotaCommand)
      .resolvesOnce({ RequestedQuotas: [{ Id: 'old', Status: 'APPROVED' }], NextToken: 'p2' })
      .resolvesOnce({ RequestedQuotas: [{ Id: 'open', Status: 'PENDING', DesiredValue: 64 }], NextToken: 'p3' });
    expect(await openRequest(sq, 'ec2', 'L-1')).toEqual({ id: 'open', desired: 64, status: 'PENDING' });
    expect(mocks.sq.commandCalls(ListRequestedServiceQuotaChangeHistoryByQuotaCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'p2']);
    mocks.sq.reset();
    mocks.sq.on(ListRequestedServiceQuotaChangeHistoryByQuotaCommand).callsFake(bounded(() => ({ RequestedQuotas: [{ Id: 'old', Status: 'DENIED' }], NextToken: 'again' })));
    expect(await openRequest(sq, 'ec2', 'L-1')).toBeUndefined();
    expect(mocks.sq.commandCalls(ListRequestedServiceQuotaChangeHistoryByQuotaCommand)).toHaveLength(2);
  });
});

describe('lambdas/lifecycle paginators that had no stopOnSameToken', () => {
  it('runningOperation (stack-events): DescribeStackEvents answering its NextToken again ends the search after that page, not after maxPages', async () => {
    mocks.cfn.on(DescribeStackEventsCommand).callsFake(bounded(() => ({ StackEvents: [{ LogicalResourceId: 'Bucket', ResourceStatus: 'UPDATE_COMPLETE' }], NextToken: 'again' })));
    const stack = { StackName: 'tessera-acme', StackStatus: 'UPDATE_IN_PROGRESS' as const, CreationTime: new Date(0) };
    expect(await runningOperation(new CloudFormationClient({ region, credentials }), stack)).toBeUndefined();
    expect(mocks.cfn.commandCalls(DescribeStackEventsCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'again']);
  });

  it('quota usage vpcs-per-region: DescribeVpcs answering its NextToken again is counted once more, then stops', async () => {
    mocks.ec2.on(DescribeVpcsCommand).callsFake(bounded(() => ({ Vpcs: [{ VpcId: 'vpc-1' }], NextToken: 'again' })));
    expect(await USAGE['vpcs-per-region'](usageClients({ accessKeyId: 'ASIA', secretAccessKey: 's', sessionToken: 't' }))).toBe(2);
    expect(mocks.ec2.commandCalls(DescribeVpcsCommand)).toHaveLength(2);
  });

  it('closures (shared/control-table, a paginateScan): a Scan answering the key it was asked with ends after that page', async () => {
    setLifecycleEnv();
    mocks.doc.on(ScanCommand).callsFake(bounded(() => ({ Items: [{ id: 'closure#111122223333', accountId: '111122223333' }], LastEvaluatedKey: { id: 'closure#111122223333' } })));
    expect(await closures()).toHaveLength(2);
    expect(mocks.doc.commandCalls(ScanCommand)).toHaveLength(2);
  });
});

describe('DynamoDB Query and Scan (LastEvaluatedKey, a new object in every answer)', () => {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region, credentials }));
  const job = (id: string): FineTuningJob & { jobId: string } => ({
    id, jobId: id, tenantId: 'acme', userId: 'dev@acme', model: 'llama-3.1-8b-instruct', trainingFile: 's3://b/training-data/a.jsonl',
    hyperparameters: { n_epochs: 1, batch_size: 1, learning_rate_multiplier: 1 }, suffix: 'support', instanceType: 'ml.g5.2xlarge', spot: false,
    trainingJobName: trainingJobName('acme', id), status: 'running', createdAt: 1, events: [],
  });
  const ids = [`ftjob-${'a'.repeat(24)}`, `ftjob-${'b'.repeat(24)}`];
  const store = () => new DynamoDbJobStore('tessera-fine-tuning-jobs', async () => doc);

  it('DynamoDbJobStore.list reads every page of the tenant\'s jobs, newest id first', async () => {
    mocks.doc.on(QueryCommand).callsFake(bounded((n) => (n === 1 ? { Items: [job(ids[0])], LastEvaluatedKey: { tenantId: 'acme', jobId: ids[0] } } : { Items: [job(ids[1])] })));
    expect((await store().list('acme')).map((j) => j.id)).toEqual([ids[1], ids[0]]);
    expect(mocks.doc.commandCalls(QueryCommand).map((c) => c.args[0].input.ExclusiveStartKey)).toEqual([undefined, { tenantId: 'acme', jobId: ids[0] }]);
  });

  it('DynamoDbJobStore.list stops after a page that answers the key it was asked with', async () => {
    mocks.doc.on(QueryCommand).callsFake(bounded(() => ({ Items: [job(ids[0])], LastEvaluatedKey: { tenantId: 'acme', jobId: ids[0] } })));
    expect((await store().list('acme')).map((j) => j.id)).toEqual([ids[0], ids[0]]);
    expect(mocks.doc.commandCalls(QueryCommand)).toHaveLength(2);
  });

  it('checkRegistryTiers (lib/cli, tessera serve --dynamodb) scans every page, and stops on a repeated key', async () => {
    const tier = Object.keys(DEFAULT_CONFIG.tiers)[0];
    const tenant = (tenantId: string) => ({ tenantId, tier, status: 'ACTIVE' });
    mocks.doc.on(ScanCommand).callsFake(bounded((n) => (n === 1 ? { Items: [tenant('acme')], LastEvaluatedKey: { tenantId: 'acme' } } : { Items: [tenant('globex')] })));
    expect(await checkRegistryTiers(doc, 'tessera-tenants', DEFAULT_CONFIG, 'the config')).toBe(2);
    mocks.doc.reset();
    mocks.doc.on(ScanCommand).callsFake(bounded(() => ({ Items: [tenant('acme')], LastEvaluatedKey: { tenantId: 'acme' } })));
    expect(await checkRegistryTiers(doc, 'tessera-tenants', DEFAULT_CONFIG, 'the config')).toBe(2);
    expect(mocks.doc.commandCalls(ScanCommand)).toHaveLength(2);
  });
});

describe('S3 listings', () => {
  it('S3FileStore.list: a ListObjectsV2 that answers its ContinuationToken again (IsTruncated) ends after that page', async () => {
    const at = { tenantId: 'acme', accountId: '111122223333', bucket: 'tessera-acme-data-111122223333' };
    const key = fileKey(TRAINING_FILES_PREFIX, 'file-000000000001aaaaaaaaaaaa', 'a.jsonl');
    mocks.s3.on(ListObjectsV2Command).callsFake(bounded(() => ({ IsTruncated: true, NextContinuationToken: 'p2', Contents: [{ Key: key, Size: 7 }] })));
    const files = await new S3FileStore(TRAINING_FILES_PREFIX, async () => new S3Client({ region, credentials })).list(at);
    expect(files.map((f) => f.id)).toEqual(['file-000000000001aaaaaaaaaaaa']);
    expect(mocks.s3.commandCalls(ListObjectsV2Command).map((c) => [c.args[0].input.ContinuationToken, c.args[0].input.ExpectedBucketOwner])).toEqual([[undefined, at.accountId], ['p2', at.accountId]]);
  });
});

describe('lib/cli and operations without an SDK paginator', () => {
  const sqs = () => new SQSClient({ region, credentials });
  const dlq = (name: string) => `https://sqs.us-east-1.amazonaws.com/111122223333/${name}`;
  const empty = () => {
    mocks.sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: 'arn:aws:sqs:us-east-1:111122223333:q', ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } });
    mocks.sqs.on(ListQueueTagsCommand).resolves({});
  };

  it('listDeadLetterQueues (tessera dlq list) reads every ListQueues page, 1000 a page', async () => {
    empty();
    mocks.sqs.on(ListQueuesCommand).callsFake(bounded((n) => (n === 1 ? { QueueUrls: [dlq('tessera-b-dlq')], NextToken: 't2' } : { QueueUrls: [dlq('tessera-a-dlq')] })));
    expect((await listDeadLetterQueues(sqs(), 'tessera-')).map((q) => q.name)).toEqual(['tessera-a-dlq', 'tessera-b-dlq']);
    expect(mocks.sqs.commandCalls(ListQueuesCommand).map((c) => c.args[0].input)).toEqual([
      { QueueNamePrefix: 'tessera-', MaxResults: 1000, NextToken: undefined }, { QueueNamePrefix: 'tessera-', MaxResults: 1000, NextToken: 't2' },
    ]);
  });

  it('listDeadLetterQueues stops after a ListQueues page that answers the NextToken it was sent', async () => {
    empty();
    mocks.sqs.on(ListQueuesCommand).callsFake(bounded((n) => ({ QueueUrls: [dlq(`tessera-${n}-dlq`)], NextToken: 'again' })));
    expect((await listDeadLetterQueues(sqs(), 'tessera-')).map((q) => q.name)).toEqual(['tessera-1-dlq', 'tessera-2-dlq']);
  });

  it('infrastructureCost (statements; Cost Explorer has no paginator): a repeated NextPageToken ends the sum after that page', async () => {
    const group = { Keys: ['tessera:tenant-id$acme'], Metrics: { UnblendedCost: { Amount: '10', Unit: 'USD' } } };
    mocks.ce.on(GetCostAndUsageCommand).callsFake(bounded(() => ({ ResultsByTime: [{ Estimated: false, Groups: [group] }], NextPageToken: 'again' })));
    const cost = await infrastructureCost(new CostExplorerClient({ region, credentials }), { tenantId: 'acme', isolation: 'vpc' }, '2026-10', new Date('2026-11-02T05:00:00Z'));
    expect(cost.costUsd).toBe(20);
    expect(mocks.ce.commandCalls(GetCostAndUsageCommand).map((c) => c.args[0].input.NextPageToken)).toEqual([undefined, 'again']);
  });
});
