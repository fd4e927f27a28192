import { CloudFormationClient, CreateChangeSetCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { DescribeAccountCommand, ListParentsCommand, OrganizationsClient, DescribeOrganizationalUnitCommand } from '@aws-sdk/client-organizations';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { AddRoleToInstanceProfileCommand, AttachRolePolicyCommand, CreateInstanceProfileCommand, CreatePolicyCommand, GetInstanceProfileCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand, RemoveRoleFromInstanceProfileCommand } from '@aws-sdk/client-iam';
import { EKSClient } from '@aws-sdk/client-eks';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ENV } from '../../lambdas/shared/environment.js';
import { namespaceDeployerChecks } from '../../lib/cli/doctor/namespace-deployer-checks.js';
import type { AwsClients } from '../../lib/cli/doctor/clients.js';
import type { DoctorContext } from '../../lib/cli/doctor/types.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import { API_KEYS_TABLE } from './support/platform-fixture.js';
import { processClosureQueue } from '../../lambdas/lifecycle/account-closure.js';
import { cidrClaimsOf, closures, releasedCidrs, slotHolders } from '../../lambdas/shared/control-table.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { templateUrl } from '../../lambdas/lifecycle/blueprints.js';
import { clientWith } from '../../lambdas/shared/aws-clients.js';
import { rewrite } from './support/faults.js';
import { configWithBusinessTier } from './support/business-tier.js';

// `business`: professional's network under another name (business-tier.ts); the default tiers' networks all differ.
const local = useLocalLifecycle(configWithBusinessTier());
const { config } = local;

const request = onboardRequest;

describe('suspend and resume', () => {
  it('revokes access at once by status, keeps every resource, and resumes', async () => {
    await local.workflows.run('onboard', request('oscorp', 'starter'));
    const suspended = await local.workflows.run('status', { request: { tenantId: 'oscorp', requestId: 'req-suspend-1' }, action: 'suspend' });
    expect(suspended.error).toBeUndefined();
    expect((await getTenant('oscorp'))?.status).toBe('SUSPENDED');
    const cfn = new CloudFormationClient({ credentials: await local.fixture.as(config.workloadAccountId) });
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-oscorp' }))).Stacks![0].StackStatus).toBe('UPDATE_COMPLETE'); // as onboarding left it
    const again = await local.workflows.run('status', { request: { tenantId: 'oscorp', requestId: 'req-suspend-2' }, action: 'suspend' });
    expect(again.error?.message).toMatch(/TenantConflict/);
    expect((await getTenant('oscorp'))?.status).toBe('SUSPENDED');
    const resumed = await local.workflows.run('status', { request: { tenantId: 'oscorp', requestId: 'req-resume-1' }, action: 'resume' });
    expect(resumed.error).toBeUndefined();
    expect((await getTenant('oscorp'))?.status).toBe('ACTIVE');
    const kinds = (await local.fixture.events()).filter((e) => e.detail.tenantId === 'oscorp').map((e) => e.detailType);
    expect(kinds).toEqual(expect.arrayContaining(['Tenant Suspended', 'Tenant Resumed']));
  });
});

describe('tier change', () => {
  it('updates the stack to another tier (the same tenant network) and blueprint version, and records it', async () => {
    await local.workflows.run('onboard', request('massive', 'professional'));
    const before = (await getTenant('massive'))!.usageKey!;
    const run = await local.workflows.run('change', { request: { tenantId: 'massive', requestId: 'req-change-1' }, change: { tier: 'business', blueprintVersion: '2.0.0' } });
    expect(run.error).toBeUndefined();
    const after = await getTenant('massive');
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'business', blueprintVersion: '2.0.0' });
    // the VPC kept its range, now under business's blueprint (its VpcCidr parameter takes the /20)
    const cfn = new CloudFormationClient({ credentials: await local.fixture.as(config.workloadAccountId) });
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-massive' }))).Stacks![0];
    expect(stack.Parameters).toContainEqual({ ParameterKey: 'VpcCidr', ParameterValue: after!.vpcCidr });
    expect(stack.Outputs).toContainEqual(expect.objectContaining({ OutputKey: 'Tier', OutputValue: 'business' }));
    // The usage key moved to the new tier's plan.
    expect(after!.usageKey!.id).toBe(before.id);
    expect(after!.usageKey!.plan).not.toBe(before.plan);
  });

  it('refuses a change of isolation mode, and one to a tier whose tenant network differs (starter → professional): migrations, the tenant stays ACTIVE on starter', async () => {
    await local.workflows.run('onboard', request('vandelay', 'starter'));
    const run = await local.workflows.run('change', { request: { tenantId: 'vandelay', requestId: 'req-change-2' }, change: { tier: 'enterprise' } });
    expect(run.error?.message).toMatch(/InvalidRequest/);
    // Refused before it took the tenant's lease: the refusal is on the bus and in the record's lastRefusal alone (s36b).
    const record = await getTenant('vandelay');
    expect(record?.status).toBe('ACTIVE');
    expect(record?.failure).toBeUndefined();
    expect(record?.lease).toBeUndefined();
    expect(record?.lastRefusal).toMatchObject({ kind: 'change', requestId: 'req-change-2', step: 'Begin change', reason: expect.stringMatching(/^InvalidRequest: .*isolates by account, tenant vandelay by vpc/) });
    const refusal = (await local.fixture.events()).find((e) => e.detailType === 'Tenant Lifecycle Failed' && e.detail.tenantId === 'vandelay');
    expect(refusal?.detail).toMatchObject({ refused: true, step: 'Begin change', reason: expect.stringMatching(/isolates by account, tenant vandelay by vpc/) });

    // AND a change to a tier whose tenant network differs (starter: a /22 of its pool, 2 AZs, no egress; professional: a /20, egress) is a network migration
    // (the same tenant: one more VPC tenant in this file would exceed the workload account's VPC quota of 5)
    const before = (await getTenant('vandelay'))!;
    expect(before.vpcCidr).toMatch(/\/22$/);
    const network = await local.workflows.run('change', { request: { tenantId: 'vandelay', requestId: 'req-change-3' }, change: { tier: 'professional' } });
    // refused before it took the lease, naming the tier, the fields and both values: the tenant ACTIVE on starter, the record untouched but its lastRefusal, the refusal on the bus
    expect(network.error?.message).toMatch(/InvalidRequest/);
    expect(network.states).not.toContain('Deploy blueprint');
    const { lastRefusal, ...after } = (await getTenant('vandelay'))!;
    expect(after).toEqual({ ...before, lastRefusal: undefined });
    expect(lastRefusal).toMatchObject({ kind: 'change', requestId: 'req-change-3', step: 'Begin change' });
    expect(before).toMatchObject({ status: 'ACTIVE', tier: 'starter' });
    expect(before.failure).toBeUndefined();
    expect(before.lease).toBeUndefined();
    const networkRefusal = (await local.fixture.events()).find((e) => e.detailType === 'Tenant Lifecycle Failed' && e.detail.tenantId === 'vandelay' && e.detail.requestId === 'req-change-3');
    expect(networkRefusal?.detail).toMatchObject({ refused: true, step: 'Begin change', kind: 'change' });
    const reason = networkRefusal!.detail.reason as string;
    expect(reason).toContain(`tier = "professional": its tenant network differs`);
    expect(reason).toContain(`network.tenantVpcPrefixLength is 20, tenant vandelay's 22 (its VPC ${before.vpcCidr}); network.internetEgress is true, tenant vandelay's false`);
    expect(reason).toContain('network migration (offboard and onboard)');
    // the stack as onboarding left it; and CloudFormation itself (here the emulation over moto, on a Lambda-made client) refuses professional's blueprint with this range
    const cfn = clientWith(CloudFormationClient, await local.fixture.as(config.workloadAccountId));
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-vandelay' }))).Stacks![0];
    expect(stack.StackStatus).toBe('UPDATE_COMPLETE');
    expect(stack.Parameters).toContainEqual({ ParameterKey: 'VpcCidr', ParameterValue: before.vpcCidr });
    await expect(cfn.send(new CreateChangeSetCommand({
      StackName: 'tessera-vandelay', ChangeSetName: 'to-professional', TemplateURL: templateUrl('professional', 'tenant'), Capabilities: ['CAPABILITY_NAMED_IAM'],
      Parameters: stack.Parameters!.map((p) => ({ ParameterKey: p.ParameterKey, ParameterValue: p.ParameterValue })),
    }))).rejects.toMatchObject({ name: 'ValidationError', message: 'Parameter VpcCidr failed to satisfy constraint: must be an IPv4 /20 network' });
  });
});

describe('offboarding', () => {
  it('archives the data, lifts the database protection, deletes the stack (data stores kept), defers the key while stores need it, and marks OFFBOARDED', async () => {
    // GIVEN the starter pool with one /22 left (its counter at the last of its 1,024 blocks, as after 1,023 onboardings)
    const control = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    await control.send(new PutCommand({ TableName: 'tessera-lifecycle-control', Item: { id: 'cidr-next#starter', next: 1023 } }));
    // AND a starter tenant (the real blueprint: its database has DeletionProtection) on that block, with objects in its bucket
    await local.workflows.run('onboard', request('hooli', 'starter'));
    const record = await getTenant('hooli');
    expect(record!.vpcCidr).toBe('10.79.252.0/22');
    // its namespace stack runs as its own namespace deployer, which the onboarding made (under the shared deployer's policy as its boundary)
    const iam = new IAMClient({ credentials: local.fixture.platform });
    const scope = JSON.parse(local.fixture.env[ENV.namespaceDeployerScope]) as { boundaryArn: string };
    const deployer = (await iam.send(new GetRoleCommand({ RoleName: 'tessera-hooli-namespace-deployer' }))).Role!;
    expect(deployer.PermissionsBoundary?.PermissionsBoundaryArn).toBe(scope.boundaryArn);
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: 'tessera-hooli-namespace-deployer' }))).PolicyNames).toEqual(['TenantNamespaceStack']);
    const namespaceStack = (await new CloudFormationClient({ credentials: local.fixture.platform }).send(new DescribeStacksCommand({ StackName: 'tessera-hooli-namespace' }))).Stacks![0];
    expect(namespaceStack.RoleARN).toBe(deployer.Arn);
    // doctor's namespace-deployer-policies finds its TenantNamespaceStack as the lifecycle wrote it: built from what the platform
    // publishes (the shared cluster's SSM parameters) it is the document the lifecycle built from its TESSERA_NAMESPACE_DEPLOYER_SCOPE
    const clients = { iam, ssm: new SSMClient({ credentials: local.fixture.platform }), eks: new EKSClient({ credentials: local.fixture.platform }) } as unknown as AwsClients;
    const doctor = { config, region: config.homeRegion, clientsIn: async () => ({ ok: true, clients, via: 'test' }) } as unknown as DoctorContext;
    expect((await namespaceDeployerChecks(doctor))[0]).toMatchObject({ id: 'namespace-deployer-policies', status: 'pass', detail: expect.stringContaining('as the lifecycle writes it') });
    // and policies someone else put on that deployer (s43b: IAM refused its DeleteRole, DeleteConflict, and the offboarding stopped there)
    const planted = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'eks:*', Resource: '*' }] };
    const extra = (await iam.send(new CreatePolicyCommand({ PolicyName: 'planted-on-a-deployer', PolicyDocument: JSON.stringify(planted) }))).Policy!.Arn!;
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'tessera-hooli-namespace-deployer', PolicyArn: extra }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'tessera-hooli-namespace-deployer', PolicyName: 'Planted', PolicyDocument: JSON.stringify(planted) }));
    // and an instance profile someone put it in (s43j: doctor warns; Delete tenant stacks refuses it, naming the fix, since the lifecycle
    // may not call RemoveRoleFromInstanceProfile: unit-tested in test/unit/lifecycle/namespace-deployer.test.ts)
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'planted-profile' }));
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'planted-profile', RoleName: 'tessera-hooli-namespace-deployer' }));
    // and its TenantNamespaceStack widened by hand to another tenant's bridge role (s43j: doctor read the policy's name only)
    const own = await iam.send(new GetRolePolicyCommand({ RoleName: 'tessera-hooli-namespace-deployer', PolicyName: 'TenantNamespaceStack' }));
    const widened = JSON.parse(decodeURIComponent(own.PolicyDocument!)) as { Statement: Array<{ Sid: string; Resource: string | string[] }> };
    const bridgeRole = widened.Statement.find((st) => st.Sid === 'BridgeRole')!;
    bridgeRole.Resource = [bridgeRole.Resource as string, `arn:aws:iam::${config.platformAccountId}:role/tessera-initech-pod-bridge`];
    await iam.send(new PutRolePolicyCommand({ RoleName: 'tessera-hooli-namespace-deployer', PolicyName: 'TenantNamespaceStack', PolicyDocument: JSON.stringify(widened) }));
    const [widenedLine] = await namespaceDeployerChecks(doctor);
    expect(widenedLine.status).toBe('fail');
    expect(widenedLine.detail).toContain(`tessera-hooli-namespace-deployer: managed policy ${extra} attached, inline policy Planted, TenantNamespaceStack differs from what the lifecycle writes for tenant hooli: `
      + `statement BridgeRole: Resource added arn:aws:iam::${config.platformAccountId}:role/tessera-initech-pod-bridge; in an instance profile: tessera-hooli-namespace-deployer in instance profile(s) planted-profile`);
    // the operator's fix the refusal names, before the offboarding
    await iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: 'planted-profile', RoleName: 'tessera-hooli-namespace-deployer' }));
    const tenantKey = record!.stackOutputs.KeyArn;
    const tenantCreds = await local.fixture.as(config.workloadAccountId);
    const bucket = record!.stackOutputs.BucketName;
    const s3 = new S3Client({ credentials: tenantCreds, forcePathStyle: true });
    for (const key of ['training-data/a.jsonl', 'models/m1/model.tar.gz', 'notes.txt']) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `content of ${key}` }));
    const rds = new RDSClient({ credentials: tenantCreds });
    expect((await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: record!.stackOutputs.DatabaseInstanceId }))).DBInstances![0].DeletionProtection).toBe(true);
    // and API keys of its own and of another tenant in the keys table (issue 15)
    const keysDoc = DynamoDBDocumentClient.from(new DynamoDBClient({ credentials: local.fixture.platform }));
    const keyItem = (tenantId: string, n: number) => ({ tenantId, keyHash: String(n).repeat(64), keyId: `key_${String(n).repeat(16)}`, name: `k${n}`, createdAt: '2026-11-30T12:00:00.000Z', createdBy: 'test' });
    for (const item of [keyItem('hooli', 1), keyItem('hooli', 2), keyItem('initech', 3)]) await keysDoc.send(new PutCommand({ TableName: API_KEYS_TABLE, Item: item }));
    const keyHashesOf = async (tenantId: string) => ((await keysDoc.send(new QueryCommand({ TableName: API_KEYS_TABLE, KeyConditionExpression: 'tenantId = :t', ExpressionAttributeValues: { ':t': tenantId } }))).Items ?? []).map((i) => i.keyHash as string);
    expect(await keyHashesOf('hooli')).toHaveLength(2);

    // WHEN
    const run = await local.workflows.run('offboard', { request: { tenantId: 'hooli', requestId: 'req-offboard-1' } });

    // THEN
    expect(run.error).toBeUndefined();
    const offboarded = await getTenant('hooli');
    expect(offboarded).toMatchObject({ status: 'OFFBOARDED' });
    expect(offboarded!.usageKey).toBeUndefined();
    // its API keys were deleted first thing (another tenant's kept); no pool here, so users were skipped and said so
    expect(run.states.slice(run.states.indexOf('Begin offboarding'), run.states.indexOf('Begin offboarding') + 3)).toEqual(['Begin offboarding', 'Revoke tenant identities', 'Revoke usage key']);
    expect(await keyHashesOf('hooli')).toEqual([]);
    expect(await keyHashesOf('initech')).toEqual(['3'.repeat(64)]);
    expect(run.output.identities).toMatchObject({ tenantId: 'hooli', apiKeys: { deleted: 2 }, users: { skipped: expect.stringContaining('TESSERA_USER_POOL_ID') } });
    // and recorded on the tenant, as the other steps record what they did (offboarding.identities)
    expect(offboarded!.offboarding?.identities).toEqual({
      apiKeys: { deleted: 2, checkedAt: expect.any(String) }, users: { skipped: expect.stringContaining('TESSERA_USER_POOL_ID'), checkedAt: expect.any(String) },
      executionArns: [expect.stringContaining(':execution:tessera-offboard:')],
    });
    // a tenant that never fine-tuned: *Retire fine-tuned models* found nothing (one call, no SageMaker), nothing recorded for it
    expect(run.states.filter((s) => s === 'Retire fine-tuned models')).toHaveLength(1);
    expect(run.states[run.states.indexOf('Retire fine-tuned models') + 2]).toBe('Export tenant data');
    expect(run.output.fineTuning).toEqual({ state: 'COMPLETE', cancelledJobs: [], retiredModels: [], deleted: [], deleting: [], stopped: [], checkedNames: [] });
    expect(offboarded!.offboarding?.fineTuning).toBeUndefined();

    const archive = new S3Client({ credentials: local.fixture.platform, forcePathStyle: true });
    const keys = ((await archive.send(new ListObjectsV2Command({ Bucket: 'tessera-archive', Prefix: 'hooli/' }))).Contents ?? []).map((o) => o.Key!.split('/').slice(2).join('/'));
    expect(keys.sort()).toEqual(['manifest.json', 'manifest/part-00000.jsonl', 'rds-snapshot.json', 'retained-stores.json', 's3/models/m1/model.tar.gz', 's3/notes.txt', 's3/training-data/a.jsonl']);
    const manifestKey = ((await archive.send(new ListObjectsV2Command({ Bucket: 'tessera-archive', Prefix: 'hooli/' }))).Contents ?? []).find((o) => o.Key!.endsWith('manifest.json'))!.Key!;
    const manifest = JSON.parse(await (await archive.send(new GetObjectCommand({ Bucket: 'tessera-archive', Key: manifestKey }))).Body!.transformToString());
    expect(manifest).toMatchObject({ tenantId: 'hooli', currentObjects: 3 });

    // the database's protection was lifted and recorded, the stack deleted, the database gone with CloudFormation's final snapshot
    // each protection on record once (the stack's termination protection, the database's), though Lift protections polled twice,
    // then the namespace stack's, lifted by Delete tenant stacks
    expect(offboarded!.offboarding?.liftedProtections.map((l) => `${l.type} ${l.protection} by ${l.step}`)).toEqual([
      'AWS::CloudFormation::Stack TerminationProtection by Lift protections', 'AWS::RDS::DBInstance DeletionProtection by Lift protections',
      'AWS::CloudFormation::Stack TerminationProtection by Delete tenant stacks',
    ]);
    expect(offboarded!.offboarding?.liftedProtections.map((l) => l.logicalId)).toEqual(['tessera-hooli', expect.any(String), 'tessera-hooli-namespace']);
    expect(offboarded!.offboarding?.liftedProtections[1]).toMatchObject({ physicalId: record!.stackOutputs.DatabaseInstanceId });
    expect(offboarded!.liftIntents).toBeUndefined();
    expect(run.states.filter((s) => s === 'Lift protections')).toHaveLength(2);
    const cfn = new CloudFormationClient({ credentials: tenantCreds });
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'tessera-hooli' }))).rejects.toThrow(/does not exist/);
    // the namespace stack gone, its deployer went after it
    await expect(new CloudFormationClient({ credentials: local.fixture.platform }).send(new DescribeStacksCommand({ StackName: 'tessera-hooli-namespace' }))).rejects.toThrow(/does not exist/);
    await expect(iam.send(new GetRoleCommand({ RoleName: 'tessera-hooli-namespace-deployer' }))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    // the instance profile itself is not the lifecycle's: left
    expect((await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'planted-profile' }))).InstanceProfile!.Roles).toEqual([]);
    await expect(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: record!.stackOutputs.DatabaseInstanceId }))).rejects.toThrow(/not found/i);
    const snapshots = (await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: record!.stackOutputs.DatabaseInstanceId }))).DBSnapshots ?? [];
    expect(snapshots.map((s) => s.DBSnapshotIdentifier)).toEqual(expect.arrayContaining([expect.stringMatching(/^tessera-hooli-snapshot-databaseinstance/)]));

    // every store kept states its key; the log groups under the tenant key hold it until their events expire
    const stores = offboarded!.offboarding!.retainedStores!;
    const logGroups = stores.filter((s) => s.store === 'log-group');
    expect(logGroups.map((s) => s.id).sort()).toEqual([
      '/aws/rds/instance/tessera-hooli/iam-db-auth-error', '/aws/rds/instance/tessera-hooli/postgresql', '/aws/rds/instance/tessera-hooli/upgrade',
      '/aws/vendedlogs/tessera/hooli/cache/engine-log', '/aws/vendedlogs/tessera/hooli/cache/slow-log', '/tessera/hooli/vpc-flow-logs',
    ]);
    for (const g of logGroups) expect(g).toMatchObject({ keyArn: tenantKey, holdsKey: true, disposition: 'expires' });
    expect(stores.filter((x) => x.store === 'db-snapshot' || x.id === bucket).length).toBeGreaterThanOrEqual(2);
    for (const s of stores.filter((x) => x.store === 'db-snapshot' || x.id === bucket)) expect(s.keyArn, s.id).toBeDefined();
    // the rest say how they are encrypted: the access-log bucket is SSE-S3, not under any customer key
    for (const s of stores) expect(s.keyArn ?? s.encryption, `${s.store} ${s.id}`).toBeDefined();
    expect(stores.filter((s) => s.store === 'bucket' && s.encryption === 'SSE-S3')).toHaveLength(1);
    const lastExpiry = logGroups.map((g) => g.keptUntil!).sort().at(-1);
    expect(offboarded!.offboarding?.keyDeletion).toMatchObject({ state: 'QUEUED', keyArn: tenantKey, dueAt: lastExpiry });
    // the inventory's entry for the key says the same, with KMS's deletion the pending window (7 days here) after that
    expect(stores.find((s) => s.store === 'key')).toMatchObject({ keyArn: tenantKey, disposition: 'queued', keptUntil: new Date(Date.parse(lastExpiry!) + 7 * 24 * 3600 * 1000).toISOString(), note: expect.stringContaining('7-day pending window') });
    const key = await new KMSClient({ credentials: tenantCreds }).send(new DescribeKeyCommand({ KeyId: tenantKey }));
    expect(key.KeyMetadata?.KeyState).toBe('Enabled');
    expect(run.states).not.toContain('Record failure');
    expect((await local.fixture.events()).some((e) => e.detailType === 'Tenant Offboarded' && e.detail.tenantId === 'hooli')).toBe(true);

    // its VPC range went back to the pool once the stacks were gone: its claim deleted, the block listed, the record says so
    expect(offboarded!.vpcCidr).toBeUndefined();
    expect(offboarded!.offboarding?.network).toEqual({ vpcCidr: '10.79.252.0/22', releasedAt: expect.any(String), executionArn: expect.stringContaining(':execution:tessera-offboard:') });
    expect(await cidrClaimsOf('hooli')).toEqual([]);
    expect(await releasedCidrs('starter')).toEqual(['10.79.252.0/22']);
    // AND the next starter tenant gets it (before: the pool was spent for good, NetworkPoolExhausted)
    const next = await local.workflows.run('onboard', request('piedpiper', 'starter'));
    expect(next.error).toBeUndefined();
    expect(await getTenant('piedpiper')).toMatchObject({ status: 'ACTIVE', vpcCidr: '10.79.252.0/22' });
    expect(await cidrClaimsOf('piedpiper')).toEqual(['10.79.252.0/22']);
    expect(await releasedCidrs('starter')).toEqual([]);
  });

  it('moves an account-isolated tenant to Suspended and queues its closure under the 30-day quota', async () => {
    // GIVEN ten closures already in the last 30 days: the quota (10 for an organization this small) is spent
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const recently = new Date(Date.now() - 5 * 24 * 3600 * 1000).toISOString();
    for (let i = 0; i < 10; i++) {
      const accountId = `99999999990${i}`.slice(-12);
      await doc.send(new PutCommand({ TableName: 'tessera-lifecycle-control', Item: { id: `closure#${accountId}`, accountId, tenantId: `old${i}`, status: 'CLOSED', queuedAt: recently, closedAt: recently } }));
    }
    await local.workflows.run('onboard', request('umbrella', 'enterprise'));
    const accountId = (await getTenant('umbrella'))!.accountId!;
    const vpcCidr = (await getTenant('umbrella'))!.vpcCidr!;
    // WHEN
    const run = await local.workflows.run('offboard', { request: { tenantId: 'umbrella', requestId: 'req-offboard-2' } });
    // THEN the account waits in the Suspended OU, its closure queued
    expect(run.error).toBeUndefined();
    expect(await getTenant('umbrella')).toMatchObject({ status: 'OFFBOARDED', offboarding: { network: { vpcCidr } } });
    // its /18, gone with the tenant stack in its own account, is back in the enterprise pool
    expect(await releasedCidrs('enterprise')).toEqual([vpcCidr]);
    const orgs = new OrganizationsClient({ credentials: local.fixture.management });
    const parent = (await orgs.send(new ListParentsCommand({ ChildId: accountId }))).Parents![0];
    expect((await orgs.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: parent.Id! }))).OrganizationalUnit!.Name).toBe('Suspended');
    expect((await closures()).find((c) => c.accountId === accountId)?.status).toBe('QUEUED');
    expect((await orgs.send(new DescribeAccountCommand({ AccountId: accountId }))).Account!.Status).toBe('ACTIVE');
    // AND a claim left by a run that died before it recorded CloseAccount's answer, for an account no longer in the organization
    const deadClaim = '999999999990';
    await doc.send(new PutCommand({ TableName: 'tessera-lifecycle-control', Item: { id: `closure#${deadClaim}`, accountId: deadClaim, tenantId: 'gone', status: 'CLOSING', queuedAt: recently, claimedAt: recently } }));
    // WHEN the window has moved on (31 days later), THEN the queue closes it (claimed, then recorded) and settles the dead claim
    const later = await processClosureQueue(orgs, Date.now() + 31 * 24 * 3600 * 1000);
    expect(later.closed).toEqual([deadClaim, accountId]);
    expect((await closures()).find((c) => c.accountId === accountId)).toMatchObject({ status: 'CLOSED', closedAt: expect.any(String) });
    expect((await closures()).find((c) => c.accountId === accountId)?.claimedAt).toBeUndefined();
    expect((await closures()).find((c) => c.accountId === deadClaim)?.status).toBe('CLOSED');
    expect((await orgs.send(new DescribeAccountCommand({ AccountId: accountId }))).Account!.Status).not.toBe('ACTIVE');
  });
});

describe('account-creation cap', () => {
  it('onboards 30 account-isolated tenants at once, 3 refused by Organizations: 27 ACTIVE, 3 FAILED with the reason, never more than 5 creations in flight, no slot left taken', async () => {
    // GIVEN each creation takes two polls (moto finishes at once; AWS takes minutes), and Organizations refuses three
    const refused = new Set(['burst07', 'burst15', 'burst23']);
    const polls = new Map<string, number>();
    local.cleanups.push(rewrite('slow-accounts', 'DescribeCreateAccountStatusCommand', (out, input) => {
      const n = (polls.get(input.CreateAccountRequestId) ?? 0) + 1;
      polls.set(input.CreateAccountRequestId, n);
      if (n <= 2) Object.assign(out.CreateAccountStatus, { State: 'IN_PROGRESS', AccountId: undefined });
      else if (refused.has(String(out.CreateAccountStatus?.AccountName).replace(/^tessera-/, ''))) {
        Object.assign(out.CreateAccountStatus, { State: 'FAILED', FailureReason: 'ACCOUNT_LIMIT_EXCEEDED', AccountId: undefined });
      }
    }));
    const inFlight = new Set<string>();
    let max = 0;
    local.workflows.wrap = (name, handler) => async (event: any) => {
      const tenant = event.request?.tenantId;
      if (name === 'release-account-slot' || name === 'record-failure') inFlight.delete(tenant);
      const out: any = await handler(event);
      if (name === 'acquire-account-slot' && out.acquired) {
        inFlight.add(tenant);
        max = Math.max(max, inFlight.size);
      }
      return out;
    };
    // WHEN
    const ids = Array.from({ length: 30 }, (_, i) => `burst${String(i).padStart(2, '0')}`);
    const runs = await Promise.all(ids.map((id) => local.workflows.run('onboard', request(id, 'enterprise'))));
    // THEN
    const failed = runs.flatMap((r, i) => (r.error ? [{ tenantId: ids[i], states: r.states.slice(-3), error: r.error }] : []));
    expect(failed.map((f) => f.tenantId), JSON.stringify(failed, null, 1)).toEqual([...refused]);
    const records = await Promise.all(ids.map(getTenant));
    for (const r of records) {
      if (refused.has(r!.tenantId)) {
        expect(r).toMatchObject({ status: 'FAILED', failure: { step: 'Check account', kind: 'onboard', reason: expect.stringMatching(/ACCOUNT_LIMIT_EXCEEDED/) } });
        expect(r!.lease).toBeUndefined();
        expect(r!.accountId).toBeUndefined();
      } else {
        expect(r).toMatchObject({ status: 'ACTIVE' });
      }
    }
    expect(max).toBe(5);
    expect(new Set(records.filter((r) => r!.status === 'ACTIVE').map((r) => r!.accountId)).size).toBe(27);
    expect(await slotHolders()).toEqual([]);
  }, 360_000); // 30 onboardings against one moto: ~45 s of CPU, 95-120 s of wall at a load average of 10-40 (what it checks is order and counts, not time)
});
