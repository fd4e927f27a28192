import {
  CloudFormationClient, CreateChangeSetCommand, CreateStackCommand, DeleteChangeSetCommand, DescribeChangeSetCommand, DescribeStackEventsCommand, DescribeStacksCommand, ExecuteChangeSetCommand,
  UpdateStackCommand, type Change, type Stack, type StackEvent, ListStackResourcesCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { DescribeAvailabilityZonesCommand, DescribeSubnetsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { STATEFUL_RESOURCE_TYPES } from '../../../lib/stateful-resources.js';
import { ACCOUNT_ZONES, blueprintObject, standingSubnets, credentials, EXECUTION_ARN, leased, ownedTags, setLifecycleEnv, state, tenant } from './support.js';
import { records, registryMock } from './registry-mock.js';

// moto's DescribeChangeSet answers each change with Action, LogicalResourceId and ResourceType
// only (moto/cloudformation/models.py ChangeSet.diff): no Replacement, Details or PolicyAction.
// What the guard decides on is therefore mocked here with CloudFormation's real shapes.
vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
// Record failure of an onboarding frees the account-creation slot (control table).
vi.mock('../../../lambdas/shared/control-table.js', () => ({ releaseSlot: vi.fn(async () => undefined) }));
const { changeSetName, describeDestructive, destructiveChanges } = await import('../../../lambdas/lifecycle/change-set-guard.js');
const { requestToken } = await import('../../../lambdas/lifecycle/deploy-blueprint.js');

const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
/** The blueprint catalog (Deploy blueprint reads the template it deploys). */
const templates = mockStrict(S3Client, 's3', S3ServiceException);
const sts = mockStrict(STSClient, 'sts', STSServiceException);
/** The tenant account's zones (Deploy blueprint chooses the VPC's). */
const zones = mockStrict(EC2Client, 'ec2', EC2ServiceException);
const bus = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);

const UPGRADE_ARN = EXECUTION_ARN;
const stack = (): { Stacks: Stack[] } => ({ Stacks: [{
  StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(),
  Parameters: [{ ParameterKey: 'DatabaseDeletionProtection', ParameterValue: 'true' }], Tags: ownedTags(),
}] });
const modify = (LogicalResourceId: string, ResourceType: string, Replacement: 'True' | 'False' | 'Conditional', cause = 'DBInstanceIdentifier'): Change => ({
  Type: 'Resource',
  ResourceChange: {
    Action: 'Modify', LogicalResourceId, ResourceType, Replacement, PhysicalResourceId: `${LogicalResourceId.toLowerCase()}-1`,
    Details: [{ Target: { Attribute: 'Properties', Name: cause, RequiresRecreation: Replacement === 'False' ? 'Never' : Replacement === 'True' ? 'Always' : 'Conditionally' }, Evaluation: 'Static', ChangeSource: 'DirectModification' }],
  },
});
const upgrade = (change: Record<string, unknown> = {}) => state('acme', { blueprint: 'tenant', kind: 'upgrade', change: { blueprintVersion: '2.0.0', ...change } });
const NAME = changeSetName(requestToken({ executionArn: UPGRADE_ARN, request: { requestId: 'req-acme-0001' } as never }, 'tenant'));

beforeEach(() => {
  setLifecycleEnv();
  records.clear();
  vi.clearAllMocks();
  for (const m of [cfn, sts, bus, zones]) m.reset();
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  zones.on(DescribeAvailabilityZonesCommand).resolves(ACCOUNT_ZONES);
  // a standing stack's subnets (a tenant without recorded zones: Deploy blueprint reads them from its stack)
  cfn.on(ListStackResourcesCommand).resolves(standingSubnets().resources);
  zones.on(DescribeSubnetsCommand).resolves(standingSubnets().subnets);
  templates.on(GetObjectCommand).resolves(blueprintObject());
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  cfn.on(DescribeStacksCommand).resolves(stack());
  cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs-id' });
  cfn.on(DeleteChangeSetCommand).resolves({});
  cfn.on(ExecuteChangeSetCommand).resolves({});
  records.set('acme', leased('upgrade', { blueprintVersion: '1.0.0' }, UPGRADE_ARN));
});

/** DescribeChangeSet in two pages (NextToken), so that a change on page 2 is only seen by paging. */
function changeSet(pages: Change[][], extra: Record<string, unknown> = { Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' }) {
  const m = cfn.on(DescribeChangeSetCommand);
  pages.forEach((Changes, i) => {
    const matcher = i === 0 ? { NextToken: undefined } : { NextToken: `page-${i}` };
    cfn.on(DescribeChangeSetCommand, matcher).resolves({ ...extra, ChangeSetName: NAME, StackName: 'tessera-acme', Changes, ...(i < pages.length - 1 ? { NextToken: `page-${i + 1}` } : {}) });
  });
  return m;
}

describe('destructiveChanges: which changes of a change set destroy a stateful resource', () => {
  it('names replacements True and Conditional, removals and dynamic actions of stateful types; lets in-place changes and stateless replacements through', () => {
    const found = destructiveChanges('tessera-acme', [
      modify('Database', 'AWS::RDS::DBInstance', 'True'),
      modify('Cache', 'AWS::ElastiCache::ReplicationGroup', 'Conditional', 'Engine'),
      modify('DataBucket', 'AWS::S3::Bucket', 'False', 'LifecycleConfiguration'),
      modify('NodeRole', 'AWS::IAM::Role', 'True', 'RoleName'),
      { Type: 'Resource', ResourceChange: { Action: 'Remove', LogicalResourceId: 'Vault', ResourceType: 'AWS::Backup::BackupVault', PolicyAction: 'Retain' } },
      { Type: 'Resource', ResourceChange: { Action: 'Dynamic', LogicalResourceId: 'Key', ResourceType: 'AWS::KMS::Key' } },
      { Type: 'Resource', ResourceChange: { Action: 'Add', LogicalResourceId: 'NewTable', ResourceType: 'AWS::DynamoDB::Table' } },
    ]);
    expect(found.map((c) => [c.logicalId, c.action, c.replacement ?? c.policyAction ?? '-'])).toEqual([
      ['Database', 'Modify', 'True'], ['Cache', 'Modify', 'Conditional'], ['Vault', 'Remove', 'Retain'], ['Key', 'Dynamic', '-'],
    ]);
    expect(found[0]).toMatchObject({ stack: 'tessera-acme', type: 'AWS::RDS::DBInstance', physicalId: 'database-1', causes: ['DBInstanceIdentifier'] });
  });

  it('treats a changed nested stack as destructive: its own changes are not inspected', () => {
    const found = destructiveChanges('tessera-acme', [
      { Type: 'Resource', ResourceChange: { Action: 'Modify', LogicalResourceId: 'Data', ResourceType: 'AWS::CloudFormation::Stack', Replacement: 'False' } },
      { Type: 'Resource', ResourceChange: { Action: 'Add', LogicalResourceId: 'Extra', ResourceType: 'AWS::CloudFormation::Stack' } },
    ]);
    expect(found).toEqual([expect.objectContaining({ logicalId: 'Data', action: 'Modify', causes: ['nested stack: its changes are not inspected'] })]);
  });

  it('knows the data stores of the blueprints', () => {
    expect(STATEFUL_RESOURCE_TYPES).toEqual(expect.arrayContaining(['AWS::RDS::DBInstance', 'AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::ElastiCache::ReplicationGroup', 'AWS::Backup::BackupVault', 'AWS::EKS::Cluster', 'AWS::DynamoDB::Table']));
  });

  // s37a: the list missed data holders a blueprint or an account customization (updated through this guard) may hold: an
  // S3 Vectors index (the vectors), a Cognito user pool (users and passwords cannot be exported), an ECR repository (its
  // images), and other data stores; their replacement or removal went through.
  it('knows the data holders an account customization or a vector store adds: user pool, ECR repository, S3 Vectors index, search, document and graph databases, streams, file systems', () => {
    const found = destructiveChanges('tessera-acme-custom-security', [
      modify('Users', 'AWS::Cognito::UserPool', 'True', 'UsernameAttributes'),
      { Type: 'Resource', ResourceChange: { Action: 'Remove', LogicalResourceId: 'Images', ResourceType: 'AWS::ECR::Repository', PolicyAction: 'Delete' } },
      modify('Index', 'AWS::S3Vectors::Index', 'True', 'Dimension'),
      modify('Search', 'AWS::OpenSearchService::Domain', 'True', 'DomainName'),
      modify('Documents', 'AWS::DocDB::DBCluster', 'True', 'DBClusterIdentifier'),
      modify('Graph', 'AWS::Neptune::DBCluster', 'True', 'DBClusterIdentifier'),
      modify('Events', 'AWS::Kinesis::Stream', 'True', 'Name'),
      modify('Files', 'AWS::FSx::FileSystem', 'True', 'SubnetIds'),
    ]);
    expect(found.map((c) => [c.logicalId, c.action])).toEqual([
      ['Users', 'Modify'], ['Images', 'Remove'], ['Index', 'Modify'], ['Search', 'Modify'], ['Documents', 'Modify'], ['Graph', 'Modify'], ['Events', 'Modify'], ['Files', 'Modify'],
    ]);
  });

  // s37n: the customization data stores listed by s37a left out others of the same kind: a Redshift cluster's removal (a
  // renamed logical id) or a MemoryDB cluster's replacement went through the guard, the data with them.
  it('knows the other data stores an account customization may hold: warehouses, in-memory databases, volumes, directory and table buckets, time-series and Cassandra tables, Kafka clusters, elastic document clusters, Git repositories', () => {
    const stores = ['AWS::Redshift::Cluster', 'AWS::RedshiftServerless::Namespace', 'AWS::MemoryDB::Cluster', 'AWS::EC2::Volume', 'AWS::S3Express::DirectoryBucket', 'AWS::S3Tables::TableBucket',
      'AWS::Timestream::Table', 'AWS::Cassandra::Table', 'AWS::MSK::Cluster', 'AWS::DocDBElastic::Cluster', 'AWS::CodeCommit::Repository'];
    const found = destructiveChanges('tessera-acme-custom-data', stores.flatMap((type, i) => [
      { Type: 'Resource' as const, ResourceChange: { Action: 'Remove' as const, LogicalResourceId: `Gone${i}`, ResourceType: type, PolicyAction: 'Delete' as const } },
      modify(`Replaced${i}`, type, 'True', 'Name'),
    ]));
    expect(found.map((c) => [c.logicalId, c.type, c.action])).toEqual(stores.flatMap((type, i) => [[`Gone${i}`, type, 'Remove'], [`Replaced${i}`, type, 'Modify']]));
  });

  // s22i17: the issue's "key" and "Backup vault" have more than one CloudFormation type: a multi-Region key's replica
  // (the issue's other choice for the DR key) and a logically air-gapped vault; their removal or replacement went through.
  it('knows every CloudFormation type of a key and a Backup vault: a multi-Region replica key, a logically air-gapped vault', () => {
    const found = destructiveChanges('tessera-acme-dr', [
      { Type: 'Resource', ResourceChange: { Action: 'Remove', LogicalResourceId: 'DrReplicaKey', ResourceType: 'AWS::KMS::ReplicaKey', PolicyAction: 'Retain' } },
      modify('AirGappedVault', 'AWS::Backup::LogicallyAirGappedBackupVault', 'True', 'BackupVaultName'),
    ]);
    expect(found.map((c) => [c.logicalId, c.type, c.action])).toEqual([
      ['DrReplicaKey', 'AWS::KMS::ReplicaKey', 'Remove'], ['AirGappedVault', 'AWS::Backup::LogicallyAirGappedBackupVault', 'Modify'],
    ]);
  });

  // s23: a namespace tier's Kubernetes manifest (the Namespace with its quota and everything in it, PVCs included) was not
  // on the stateful list: a version that removed it, or renamed it (Remove of the old logical id), deleted the tenant's namespace.
  it('guards the namespace tier\'s Kubernetes manifest: Remove, Replacement True and Dynamic refused; an in-place change (a quota) passes, Conditional too', () => {
    const KUBE = 'Custom::AWSCDK-EKS-KubernetesResource';
    const found = destructiveChanges('tessera-acme-namespace', [
      { Type: 'Resource', ResourceChange: { Action: 'Remove', LogicalResourceId: 'NamespaceObjects59854E8F', ResourceType: KUBE, PhysicalResourceId: 'ns-objects-1', PolicyAction: 'Delete' } },
      modify('RenamedObjects', KUBE, 'True', 'ServiceToken'),
      { Type: 'Resource', ResourceChange: { Action: 'Dynamic', LogicalResourceId: 'DynamicObjects', ResourceType: KUBE } },
      // the quota changes: the kubectl provider's Update applies it in place (no new physical id), whatever CloudFormation says it may do
      modify('QuotaChanged', KUBE, 'False', 'Manifest'),
      modify('QuotaMaybe', KUBE, 'Conditional', 'Manifest'),
      { Type: 'Resource', ResourceChange: { Action: 'Add', LogicalResourceId: 'NewObjects', ResourceType: KUBE } },
    ]);
    expect(found.map((c) => [c.logicalId, c.action])).toEqual([['NamespaceObjects59854E8F', 'Remove'], ['RenamedObjects', 'Modify'], ['DynamicObjects', 'Dynamic']]);
    expect(describeDestructive(found[0])).toBe(`NamespaceObjects59854E8F (${KUBE}): Remove, removal, policy Delete`);
    // a Conditional of the other stateful types is still refused
    expect(destructiveChanges('tessera-acme', [modify('Cache', 'AWS::ElastiCache::ReplicationGroup', 'Conditional', 'Engine')])).toHaveLength(1);
  });

  // s22i17: the offboarding keeps the data stores through their DeletionPolicy (key, buckets, logs Retain; database and cache
  // Snapshot: delete-tenant-stacks.ts), and an allowed replacement keeps the old one through UpdateReplacePolicy. A version
  // that changed either went through as an in-place Modify (Replacement False); the next offboarding then deleted the store.
  // CloudFormation names such a change in Details (ResourceTargetDefinition.Attribute DeletionPolicy | UpdateReplacePolicy),
  // without the values unless the change set was created with IncludePropertyValues: the guard refuses either way.
  it('names a change of a stateful resource\'s DeletionPolicy or UpdateReplacePolicy (in place, Replacement False); not of a stateless one', () => {
    const policy = (LogicalResourceId: string, ResourceType: string, Attribute: 'DeletionPolicy' | 'UpdateReplacePolicy'): Change => ({
      Type: 'Resource',
      ResourceChange: {
        Action: 'Modify', LogicalResourceId, ResourceType, Replacement: 'False', PhysicalResourceId: `${LogicalResourceId.toLowerCase()}-1`,
        Details: [{ Target: { Attribute, AttributeChangeType: 'Modify' }, Evaluation: 'Static', ChangeSource: 'DirectModification' }],
      },
    });
    const found = destructiveChanges('tessera-acme', [
      policy('Database', 'AWS::RDS::DBInstance', 'DeletionPolicy'),
      policy('Key', 'AWS::KMS::Key', 'UpdateReplacePolicy'),
      policy('NodeRole', 'AWS::IAM::Role', 'DeletionPolicy'),
    ]);
    expect(found).toEqual([
      expect.objectContaining({ logicalId: 'Database', type: 'AWS::RDS::DBInstance', action: 'Modify', replacement: 'False', causes: ['DeletionPolicy'] }),
      expect.objectContaining({ logicalId: 'Key', type: 'AWS::KMS::Key', action: 'Modify', replacement: 'False', causes: ['UpdateReplacePolicy'] }),
    ]);
    expect(describeDestructive(found[0])).toBe('Database (AWS::RDS::DBInstance): Modify, its DeletionPolicy changes (what a stack deletion or a replacement does with it) (DeletionPolicy)');
  });

  it('refuses an allowReplacement reason without words: zero-width or format characters, punctuation alone', async () => {
    const { AllowReplacement } = await import('../../../lib/tenant-record.js');
    for (const reason of ['\u200b'.repeat(8), '\u2060'.repeat(10), 'ok\u200b\u200b\u200b\u200b\u200b\u200b', '--------', '!!!! ????']) {
      expect(AllowReplacement.safeParse({ reason }).success, JSON.stringify(reason)).toBe(false);
    }
    expect(AllowReplacement.safeParse({ reason: 'restore OPS-412' }).success).toBe(true);
  });
});

describe('Begin change checks an allowReplacement it is started with (a StartExecution of tessera-change from the console or the CLI)', async () => {
  const begin = (await import('../../../lambdas/lifecycle/begin-change.js')).handler;

  // s22i17: the admin API and the CLI refuse a reason without words (AllowReplacement), the rolling upgrade's input is parsed
  // (UpgradeRequest), but Begin change passed any truthy allowReplacement on to the change-set guard: a change started
  // directly with { reason: '' } or { reason: '   ' } (or none) let a database replacement through, recorded with no reason.
  it('refuses one without a reason in words with InvalidRequest naming change.allowReplacement and the value, before the lease', async () => {
    const active = tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0' });
    for (const [allowReplacement, why] of [
      [{ reason: '' }, /change\.allowReplacement\.reason = "": must say why \(at least 8 characters\)/],
      [{ reason: '        ' }, /change\.allowReplacement\.reason = " {8}": must say why \(at least 8 characters\)/],
      [{}, /change\.allowReplacement\.reason/],
      [true, /change\.allowReplacement = true/],
      [{ reason: 'restore OPS-412', by: 'ops' }, /change\.allowReplacement.*by/],
    ] as const) {
      records.set('acme', active);
      await expect(begin({ ...state(), change: { blueprintVersion: '2.0.0', allowReplacement: allowReplacement as never } }), JSON.stringify(allowReplacement)).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(why) });
      expect(records.get('acme')).toEqual(active);
    }
  });

  it('carries one with a reason on to Deploy blueprint', async () => {
    records.set('acme', tenant({ status: 'ACTIVE', blueprintVersion: '1.0.0' }));
    await expect(begin({ ...state(), change: { blueprintVersion: '2.0.0', allowReplacement: { reason: 'restore OPS-412' } } })).resolves.toMatchObject({ blueprintVersion: '2.0.0', allowReplacement: { reason: 'restore OPS-412' } });
  });
});

describe('Deploy blueprint updates a tenant stack through an inspected change set (change, upgrade)', async () => {
  const deploy = (await import('../../../lambdas/lifecycle/deploy-blueprint.js')).handler;
  const recordFailure = (await import('../../../lambdas/lifecycle/record-failure.js')).handler;

  it('refuses a blueprint change that replaces the database: change set deleted, stack untouched, registry and bus name the resource', async () => {
    // GIVEN version 2.0.0 renames the database instance (replacement), found on the second page
    changeSet([[modify('Network', 'AWS::EC2::VPC', 'False', 'Tags')], [modify('Database', 'AWS::RDS::DBInstance', 'True')]]);
    // WHEN
    const error = await deploy(upgrade()).catch((e: Error) => e);
    // THEN the step fails with ChangeRefused naming the database
    expect(error).toMatchObject({ name: 'ChangeRefused', message: expect.stringContaining('Database (AWS::RDS::DBInstance): Modify, replacement True (DBInstanceIdentifier)') });
    // and says how to let it through, as the operator starts it (s18: it said "send allowReplacement with a reason", whatever the operation)
    expect((error as Error).message).toMatch(/; to let it through, start the rolling upgrade again with "allowReplacement": \{ "reason": "<reason>" \} in its input \(for every tenant of the run\), or change this tenant alone: tessera tenants update acme --blueprint-version 2\.0\.0 --allow-replacement "<reason>"$/);
    expect(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input).toMatchObject({ StackName: 'tessera-acme', ChangeSetName: NAME, ChangeSetType: 'UPDATE', TemplateURL: expect.stringContaining('/blueprints/2.0.0/starter.template.json') });
    expect(cfn.commandCalls(DeleteChangeSetCommand).map((c) => c.args[0].input)).toEqual([{ StackName: 'tessera-acme', ChangeSetName: NAME }]);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
    expect(records.get('acme')!.changeSetRefusal).toMatchObject({
      kind: 'upgrade', executionArn: UPGRADE_ARN, stack: 'tessera-acme', changeSetName: NAME, blueprintVersion: '2.0.0',
      resources: [{ logicalId: 'Database', type: 'AWS::RDS::DBInstance', action: 'Modify', replacement: 'True', physicalId: 'database-1' }],
    });

    // AND WHEN Record failure catches it, the tenant stays ACTIVE on 1.0.0 with the failure recorded and the event names the database
    const out = await recordFailure({ ...upgrade(), kind: 'upgrade', error: { Error: 'ChangeRefused', Cause: JSON.stringify({ errorType: 'ChangeRefused', errorMessage: (error as Error).message }) }, failedStep: 'Deploy blueprint' });
    expect(out).toMatchObject({ status: 'ACTIVE', changeSetRefused: true, refusedChanges: [{ logicalId: 'Database' }] });
    const after = records.get('acme')!;
    expect(after).toMatchObject({ status: 'ACTIVE', blueprintVersion: '1.0.0', failure: { step: 'Deploy blueprint', kind: 'upgrade', reason: expect.stringContaining('Database (AWS::RDS::DBInstance)') } });
    expect(after.lease).toBeUndefined();
    const event = bus.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]).find((e) => e.DetailType === 'Tenant Lifecycle Failed')!;
    expect(JSON.parse(event.Detail!)).toMatchObject({ tenantId: 'acme', kind: 'upgrade', changeSetRefused: true, refusedChanges: [{ logicalId: 'Database', type: 'AWS::RDS::DBInstance', replacement: 'True' }] });
  });

  it('names the command that lets a refused change or repair through: the same flags with --allow-replacement', async () => {
    changeSet([[modify('Database', 'AWS::RDS::DBInstance', 'True')]]);
    records.set('acme', leased('change', { blueprintVersion: '1.0.0' }, EXECUTION_ARN));
    const change = await deploy(state('acme', { blueprint: 'tenant', change: { tier: 'starter', blueprintVersion: '2.0.0' } })).catch((e: Error) => e);
    expect(change).toMatchObject({ name: 'ChangeRefused', message: expect.stringMatching(/; to let it through, send the change again with a reason: tessera tenants update acme --tier starter --blueprint-version 2\.0\.0 --allow-replacement "<reason>" \(admin API: "allowReplacement": \{ "reason": "<reason>" \}\)$/) });
    const repair = await deploy(state('acme', { blueprint: 'tenant', change: { repair: true, blueprintVersion: '1.0.0' } })).catch((e: Error) => e);
    expect(repair).toMatchObject({ name: 'ChangeRefused', message: expect.stringContaining('send the change again with a reason: tessera tenants update acme --repair --allow-replacement "<reason>"') });
  });

  it('executes a harmless change set with the execution\'s token (a replay is the same operation) and RetainExceptOnCreate', async () => {
    changeSet([[modify('DataBucket', 'AWS::S3::Bucket', 'False', 'LifecycleConfiguration'), modify('NodeRole', 'AWS::IAM::Role', 'True', 'RoleName')]]);
    const out = await deploy(upgrade());
    expect(out).toMatchObject({ stackName: 'tessera-acme', changeSet: { name: NAME, outcome: 'EXECUTED' } });
    const token = requestToken({ executionArn: UPGRADE_ARN, request: { requestId: 'req-acme-0001' } as never }, 'tenant');
    expect(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input.ClientToken).toBe(token);
    expect(cfn.commandCalls(ExecuteChangeSetCommand).map((c) => c.args[0].input)).toEqual([{ StackName: 'tessera-acme', ChangeSetName: NAME, ClientRequestToken: token, RetainExceptOnCreate: true }]);
    expect(records.get('acme')!.changeSetRefusal).toBeUndefined();
  });

  it('takes an empty change set ("didn\'t contain changes") as success: deleted, nothing executed', async () => {
    changeSet([[]], { Status: 'FAILED', ExecutionStatus: 'UNAVAILABLE', StatusReason: 'The submitted information didn\'t contain changes. Submit different information to create a change set.' });
    await expect(deploy(upgrade())).resolves.toMatchObject({ changeSet: { outcome: 'UNCHANGED' } });
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it('fails with CloudFormation\'s reason when a change set fails for another cause', async () => {
    changeSet([[]], { Status: 'FAILED', ExecutionStatus: 'UNAVAILABLE', StatusReason: 'Parameters: [GpuNodesMinSize] must have values' });
    await expect(deploy(upgrade())).rejects.toMatchObject({ name: 'StackFailed', message: expect.stringContaining('GpuNodesMinSize') });
  });

  it('lets the replacing change through with allowReplacement and records the reason with the resources', async () => {
    changeSet([[modify('Database', 'AWS::RDS::DBInstance', 'True')]]);
    await expect(deploy(upgrade({ allowReplacement: { reason: 'restore from snapshot rds:acme-2026-11-30 (ticket OPS-412)' } }))).resolves.toMatchObject({ changeSet: { outcome: 'EXECUTED' } });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
    expect(records.get('acme')!.allowedReplacements).toEqual([expect.objectContaining({
      reason: 'restore from snapshot rds:acme-2026-11-30 (ticket OPS-412)', changeSetName: NAME, executionArn: UPGRADE_ARN,
      resources: [expect.objectContaining({ logicalId: 'Database', type: 'AWS::RDS::DBInstance', replacement: 'True' })],
    })]);
  });

  it('waits for a change set still being created (ChangeSetPending, retried by the state machine); the retry finds the same change set and runs it once', async () => {
    cfn.on(DescribeChangeSetCommand).resolvesOnce({ Status: 'CREATE_IN_PROGRESS', ExecutionStatus: 'UNAVAILABLE', Changes: [] })
      .resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE', Changes: [] });
    await expect(deploy(upgrade())).rejects.toMatchObject({ name: 'ChangeSetPending' });
    cfn.on(CreateChangeSetCommand).rejects(Object.assign(new Error(`ChangeSet ${NAME} already exists`), { name: 'AlreadyExistsException' }));
    await expect(deploy(upgrade())).resolves.toMatchObject({ changeSet: { outcome: 'EXECUTED' } });
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'EXECUTE_IN_PROGRESS', Changes: [] });
    await expect(deploy(upgrade())).resolves.toMatchObject({ changeSet: { outcome: 'ALREADY_EXECUTED' } });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
  });

  it('never creates a live tenant\'s stack again when it was deleted outside Tessera: a repair, a change or an upgrade is refused (ChangeRefused), no CreateStack (hops)', async () => {
    // GIVEN the tenant stack deleted by hand (drift recorded it DELETED; the drift view offered --repair)
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id tessera-acme does not exist'), { name: 'ValidationError' }));
    cfn.on(CreateStackCommand).resolves({ StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/2' });
    for (const change of [{ repair: true, blueprintVersion: '1.0.0' }, { blueprintVersion: '2.0.0' }]) {
      // WHEN
      const error = await deploy(upgrade(change)).catch((e: Error) => e);
      // THEN refused, naming the stack and why: a new stack would start with an empty database and bucket under a new key, past the change-set guard
      expect(error, JSON.stringify(change)).toMatchObject({ name: 'ChangeRefused', message: expect.stringMatching(/^stack tessera-acme does not exist \(deleted outside Tessera\): a (repair|blueprint change) does not create a live tenant's stack again/) });
    }
    expect(cfn.commandCalls(CreateStackCommand)).toHaveLength(0);
    // hlc4: Begin change names the tier in every change, an upgrade's too (its own): the refusal called each one a tier change
    const named = (change: Record<string, unknown>) => deploy(upgrade(change)).catch((e: Error) => e.message.match(/: a ([a-z ]+?) does not create/)?.[1]);
    expect(await named({ tier: 'starter', previousTier: 'starter' })).toBe('blueprint change');
    expect(await named({ tier: 'professional', previousTier: 'starter' })).toBe('tier change');
  });

  it('repairs drift through a drift-aware change set (DeploymentMode REVERT_DRIFT), still guarded', async () => {
    changeSet([[modify('Database', 'AWS::RDS::DBInstance', 'Conditional', 'StorageEncrypted')]]);
    await expect(deploy(upgrade({ repair: true, blueprintVersion: '1.0.0' }))).rejects.toMatchObject({ name: 'ChangeRefused' });
    expect(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input).toMatchObject({ DeploymentMode: 'REVERT_DRIFT', TemplateURL: expect.stringContaining('/blueprints/1.0.0/') });
  });

  /** A failed onboarding (e.g. at wiring) left a working stack made at 1.0.0; the platform is now on 2.0.0. */
  const rerun = () => {
    process.env.TESSERA_BLUEPRINT_VERSION = '2.0.0';
    records.set('acme', leased('onboard', { status: 'PROVISIONING', executions: [
      { kind: 'onboard', status: 'FAILED', requestId: 'req-acme-0001', executionArn: 'arn:aws:states:us-east-1:222222222222:execution:tessera-onboard:0', startedAt: '2026-11-22T00:00:00.000Z' },
      { kind: 'onboard', status: 'RUNNING', requestId: 'req-acme-0001', executionArn: EXECUTION_ARN, startedAt: '2026-11-23T00:00:00.000Z' },
    ] }));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ ...stack().Stacks[0], StackStatus: 'CREATE_COMPLETE', Tags: [...ownedTags(), { Key: 'tessera:blueprint-version', Value: '1.0.0' }] }] });
  };

  it('updates the stack a re-run onboarding finds standing through the same guard, never UpdateStack', async () => {
    rerun();
    changeSet([[modify('DataBucket', 'AWS::S3::Bucket', 'False', 'LifecycleConfiguration')]]);
    await expect(deploy(state('acme', { blueprint: 'tenant' }))).resolves.toMatchObject({ stackName: 'tessera-acme', changeSet: { name: NAME, outcome: 'EXECUTED' } });
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
    expect(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input).toMatchObject({ StackName: 'tessera-acme', ChangeSetType: 'UPDATE', TemplateURL: expect.stringContaining('/blueprints/2.0.0/starter.template.json') });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)[0].args[0].input).toMatchObject({ ChangeSetName: NAME, RetainExceptOnCreate: true });
  });

  it('refuses a re-run onboarding\'s update that would replace the database, and records it (kind onboard); the onboarding fails, the stack untouched', async () => {
    rerun();
    changeSet([[modify('Database', 'AWS::RDS::DBInstance', 'True')]]);
    const error = await deploy(state('acme', { blueprint: 'tenant' })).catch((e: Error) => e);
    expect(error).toMatchObject({ name: 'ChangeRefused', message: expect.stringContaining('Database (AWS::RDS::DBInstance): Modify, replacement True') });
    // an onboarding has no allowReplacement: the reason does not offer one (s18: it said "send allowReplacement with a reason")
    expect((error as Error).message).not.toContain('--allow-replacement');
    expect((error as Error).message).toMatch(/; an onboarding cannot let it through \(tessera tenants retry takes no allowReplacement, and a change needs an ACTIVE tenant\): to start again, offboard the tenant \(tessera tenants delete acme --yes: its bucket exported, its database snapshotted\) and onboard it anew$/);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(UpdateStackCommand)).toHaveLength(0);
    expect(records.get('acme')!.changeSetRefusal).toMatchObject({ kind: 'onboard', executionArn: EXECUTION_ARN, stack: 'tessera-acme', blueprintVersion: '2.0.0', resources: [{ logicalId: 'Database' }] });
    const out = await recordFailure({ ...state('acme', { blueprint: 'tenant' }), kind: 'onboard', error: { Error: 'ChangeRefused', Cause: JSON.stringify({ errorType: 'ChangeRefused', errorMessage: (error as Error).message }) }, failedStep: 'Deploy blueprint' });
    expect(out).toMatchObject({ status: 'FAILED', changeSetRefused: true, refusedChanges: [{ logicalId: 'Database' }] });
    expect(records.get('acme')).toMatchObject({ status: 'FAILED', failure: { step: 'Deploy blueprint', reason: expect.stringContaining('Database (AWS::RDS::DBInstance)') } });
  });
  /**
   * Found by the drift review (s16): a stack update started by someone else (the console, another tool), still
   * UPDATE_IN_PROGRESS when a `--repair` or a change ran, was taken by *Deploy blueprint* for its own retry ("already
   * being created or updated"): no change set of ours ran, and the repair was recorded SUCCEEDED. Ours and theirs are
   * told apart by the ClientRequestToken CloudFormation puts on every event of an operation (DescribeStackEvents).
   */
  describe('a stack operation in progress: ours (a retry of the step) or someone else\'s', () => {
    const TOKEN = requestToken({ executionArn: UPGRADE_ARN, request: { requestId: 'req-acme-0001' } as never }, 'tenant');
    const STACK_ID = stack().Stacks[0].StackId!;
    const own = (status: string, ClientRequestToken: string | undefined, minute = 5): StackEvent => ({
      StackId: STACK_ID, StackName: 'tessera-acme', EventId: `stack-${status}-${minute}`, LogicalResourceId: 'tessera-acme', PhysicalResourceId: STACK_ID,
      ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: status as StackEvent['ResourceStatus'], ResourceStatusReason: 'User Initiated', Timestamp: new Date(`2026-12-03T08:0${minute}:00.000Z`), ...(ClientRequestToken ? { ClientRequestToken } : {}),
    });
    /** A resource's event of the same operation, and a nested stack's (type AWS::CloudFormation::Stack, another logical id). */
    const resource = (i: number, ClientRequestToken?: string): StackEvent => ({
      StackId: STACK_ID, StackName: 'tessera-acme', EventId: `r-${i}`, LogicalResourceId: i % 2 ? 'Nested' : `Resource${i}`, ResourceType: i % 2 ? 'AWS::CloudFormation::Stack' : 'AWS::IAM::Role',
      ResourceStatus: 'UPDATE_IN_PROGRESS', Timestamp: new Date('2026-12-03T08:06:00.000Z'), ...(ClientRequestToken ? { ClientRequestToken } : {}),
    });
    const inProgress = (status: string) => cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ ...stack().Stacks[0], StackStatus: status as Stack['StackStatus'] }] });
    /** Events newest first in two pages: the operation's resources on page 1, the stack's own event that started it on page 2. */
    const events = (first: StackEvent[], second: StackEvent[]) => {
      cfn.on(DescribeStackEventsCommand, { NextToken: undefined }).resolves({ StackEvents: first, NextToken: 'events-2' });
      cfn.on(DescribeStackEventsCommand, { NextToken: 'events-2' }).resolves({ StackEvents: second });
    };
    const repair = () => upgrade({ repair: true, blueprintVersion: '1.0.0' });

    it('waits for an update started from the console (StackBusy naming it), then runs its own drift-aware change set; never succeeds with none of ours run', async () => {
      // GIVEN someone updates acme's stack from the console; its first event (with the token) is on the second page
      inProgress('UPDATE_IN_PROGRESS');
      events([resource(1, 'Console-UpdateStack-7f59c3cf-00d3-40c7-b2ff-e75db0987002'), resource(2, 'Console-UpdateStack-7f59c3cf-00d3-40c7-b2ff-e75db0987002')],
        [own('UPDATE_IN_PROGRESS', 'Console-UpdateStack-7f59c3cf-00d3-40c7-b2ff-e75db0987002'), own('UPDATE_COMPLETE', 'tessera-deploy-tenant-earlier', 1)]);
      // WHEN the repair's Deploy blueprint runs
      const error = await deploy(repair()).catch((e: Error) => e);
      // THEN it is not taken for ours: StackBusy (retried by the state machine), naming the console's operation; nothing created or executed
      expect(error).toMatchObject({ name: 'StackBusy', message: expect.stringMatching(/^stack tessera-acme is UPDATE_IN_PROGRESS since 2026-12-03T08:05:00.000Z: an operation started from the AWS console \(ClientRequestToken Console-UpdateStack-7f59c3cf-[^)]*\), not this execution's; the step waits for it to end \(retried on StackBusy for about an hour: a failure with this reason means it still ran when the retries ran out\)/) });
      expect(cfn.commandCalls(DescribeStackEventsCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'events-2']);
      expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
      expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);

      // AND WHEN the retry finds the console's update done, its own repair runs through the guard
      inProgress('UPDATE_COMPLETE');
      changeSet([[modify('DataBucket', 'AWS::S3::Bucket', 'False', 'LifecycleConfiguration')]]);
      await expect(deploy(repair())).resolves.toMatchObject({ changeSet: { name: NAME, outcome: 'EXECUTED' } });
      expect(cfn.commandCalls(CreateChangeSetCommand)[0].args[0].input).toMatchObject({ DeploymentMode: 'REVERT_DRIFT' });
      expect(cfn.commandCalls(ExecuteChangeSetCommand).map((c) => c.args[0].input.ClientRequestToken)).toEqual([TOKEN]);
    });

    it('takes an operation without a token, another execution\'s or a rollback someone else asked for as foreign; events that do not show the operation yet as well', async () => {
      for (const [status, first, why] of [
        ['UPDATE_IN_PROGRESS', own('UPDATE_IN_PROGRESS', undefined), /an operation whose stack events carry no ClientRequestToken \(Tessera passes one with every call, so likely not Tessera's: the AWS CLI or an SDK without one; a CloudFormation emulator such as moto records none\), not this/],
        ['UPDATE_IN_PROGRESS', own('UPDATE_IN_PROGRESS', 'tessera-deploy-tenant-0123456789abcdef01234567'), /another Tessera execution's operation \(ClientRequestToken tessera-deploy-tenant-0123/],
        // ContinueUpdateRollback or RollbackStack by an operator: a call of its own, with its own token
        ['UPDATE_ROLLBACK_IN_PROGRESS', own('UPDATE_ROLLBACK_IN_PROGRESS', 'sceptre-rollback-42'), /an operation started by another tool \(ClientRequestToken sceptre-rollback-42\)/],
        // DescribeStacks already says UPDATE_IN_PROGRESS, the newest event of the stack is still the last update's end (ours)
        ['UPDATE_IN_PROGRESS', own('UPDATE_COMPLETE', TOKEN), /an operation whose stack events are not readable yet/],
      ] as const) {
        cfn.resetHistory();
        inProgress(status);
        events([resource(2, first.ClientRequestToken)], [first]);
        await expect(deploy(repair()), why.source).rejects.toMatchObject({ name: 'StackBusy', message: expect.stringMatching(why) });
        expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
      }
    });

    it('leaves its own operation to finish (a retry of the step after ExecuteChangeSet went through), its rollback too: the check step waits for it', async () => {
      for (const status of ['UPDATE_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS']) {
        cfn.resetHistory();
        inProgress(status);
        events([resource(1, TOKEN), resource(2, TOKEN)], [own(status, TOKEN), own('UPDATE_IN_PROGRESS', TOKEN, 4)]);
        await expect(deploy(repair()), status).resolves.toEqual({ stackName: 'tessera-acme', kind: 'tenant' });
        expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
        expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
      }
    });
  });
});
