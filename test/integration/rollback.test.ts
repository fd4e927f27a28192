import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, CreateLogGroupCommand, DeleteLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/shared/environment.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { publishVariant } from './support/blueprint-catalog.js';
import type { RollbackRecord } from './support/cloudformation-emulation.js';
import type { CfnTemplate } from './support/derive-moto-blueprint.js';
import { inject } from './support/faults.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import { evaluateString, namedResourceExists, namedResourcesExisting } from './support/named-resources.js';

const local = useLocalLifecycle();
const { config } = local;

/**
 * A blueprint create that fails and rolls back, on the real starter blueprint (derived for moto),
 * with CloudFormation's rollback emulated (support/cloudformation-emulation.ts): what the rollback
 * keeps decides whether the same onboarding can run again with the same names.
 */

const starter = () => local.fixture.catalog.find((b) => b.name === 'starter' && b.version === '1.0.0')!.derived;
const logicalIdOf = (template: CfnTemplate, type: string) => Object.keys(template.Resources).find((id) => template.Resources[id].Type === type)!;
/** The blueprint's named log groups, in template order: logical id and the name a tenant gets. */
const logGroups = (template: CfnTemplate, tenantId: string) => Object.entries(template.Resources)
  .filter(([, r]) => r.Type === 'AWS::Logs::LogGroup')
  .map(([id, r]) => ({ id, name: evaluateString(r.Properties?.LogGroupName, { TenantId: tenantId })! }));

const workload = () => local.fixture.as(config.workloadAccountId);
async function logGroupExists(name: string): Promise<boolean> {
  const out = await new CloudWatchLogsClient({ credentials: await workload() }).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
  return (out.logGroups ?? []).some((g) => g.logGroupName === name);
}
async function stackStatus(name: string): Promise<string> {
  try {
    return (await new CloudFormationClient({ credentials: await workload() }).send(new DescribeStacksCommand({ StackName: name }))).Stacks![0].StackStatus!;
  } catch (e) {
    if (/does not exist/.test((e as Error).message)) return 'NONE';
    throw e;
  }
}
const rollbackOf = (stackName: string, nth = 0) => local.fixture.cloudFormation.rollbacks.filter((r) => r.stackName === stackName)[nth];
async function describeStack(name: string): Promise<Stack> {
  return (await new CloudFormationClient({ credentials: await workload() }).send(new DescribeStacksCommand({ StackName: name }))).Stacks![0];
}
/** The tenant databases of `tenantId` in the workload account (identifier `tessera-<tenant>`, or generated from it). */
async function databasesOf(tenantId: string) {
  const all = (await new RDSClient({ credentials: await workload() }).send(new DescribeDBInstancesCommand({}))).DBInstances ?? [];
  return all.filter((d) => d.DBInstanceIdentifier === `tessera-${tenantId}` || d.DBInstanceIdentifier!.startsWith(`tessera-${tenantId}-`));
}
/** Whether the physical resource a rollback saw still exists (the RetainExceptOnCreate types of the starter blueprint). */
async function stillExists(r: RollbackRecord['resources'][number]): Promise<boolean> {
  const credentials = await workload();
  const gone = (e: unknown) => /NotFound|NoSuchBucket|does not exist|not found/i.test(`${(e as Error).name} ${(e as Error).message}`);
  try {
    switch (r.type) {
      case 'AWS::Logs::LogGroup': return await logGroupExists(r.physicalId);
      case 'AWS::S3::Bucket': await new S3Client({ credentials, forcePathStyle: true }).send(new HeadBucketCommand({ Bucket: r.physicalId })); return true;
      case 'AWS::KMS::Key': return (await new KMSClient({ credentials }).send(new DescribeKeyCommand({ KeyId: r.physicalId }))).KeyMetadata?.KeyState !== 'PendingDeletion';
      case 'AWS::RDS::DBInstance': await new RDSClient({ credentials }).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: r.physicalId })); return true;
      default: throw new Error(`no existence check for ${r.type}`);
    }
  } catch (e) {
    if (gone(e)) return false;
    throw e;
  }
}
const parameter = (stack: Stack, key: string) => stack.Parameters?.find((p) => p.ParameterKey === key)?.ParameterValue;
const ENDPOINT_QUOTA = 'Resource handler returned message: "The maximum number of VPC endpoints has been reached. (Service: Ec2, Status Code: 400)" (HandlerErrorCode: ServiceLimitExceeded)';
const endpointOf = (template: CfnTemplate) => logicalIdOf(template, 'AWS::EC2::VPCEndpoint');
const EXECUTION_ROLE = () => `arn:aws:iam::${config.workloadAccountId}:role/${config.roles.blueprintExecutionRoleName}`;

const QUOTA = 'Resource handler returned message: "DB instance quota exceeded (Service: Rds, Status Code: 400)" (HandlerErrorCode: ServiceLimitExceeded)';

describe('a blueprint create that rolls back (real starter blueprint, CloudFormation rollback emulated)', () => {
  it('rolls back, removes the dead stack, and the same onboarding then succeeds with the same names and VPC range', async () => {
    // GIVEN the database of the first create fails (the account is at its RDS instance quota)
    const database = logicalIdOf(starter(), 'AWS::RDS::DBInstance');
    local.fixture.cloudFormation.failCreate('tessera-wayne', database, QUOTA);
    // WHEN
    const run = await local.workflows.run('onboard', onboardRequest('wayne', 'starter'));
    // THEN the onboarding failed at the check, naming the resource and AWS's reason
    expect(run.error?.message).toMatch(/StackFailed/);
    const failed = await getTenant('wayne');
    expect(failed).toMatchObject({ status: 'FAILED', failure: { step: 'Check blueprint' } });
    expect(failed!.failure!.reason).toContain(`tessera-wayne is ROLLBACK_COMPLETE: ${database} CREATE_FAILED: ${QUOTA}`);
    // and the rollback deleted everything it created: the create ran with RetainExceptOnCreate
    const rollback = rollbackOf('tessera-wayne');
    expect(rollback).toMatchObject({ status: 'ROLLBACK_COMPLETE', retainExceptOnCreate: true, failure: { logicalId: database, injected: true } });
    expect(rollback.plan.survive).toEqual([]);
    expect(rollback.plan.created).toEqual(expect.arrayContaining(logGroups(starter(), 'wayne').map((g) => g.id)));
    for (const g of logGroups(starter(), 'wayne')) expect(await logGroupExists(g.name), g.name).toBe(false);
    expect(await stackStatus('tessera-wayne')).toBe('NONE'); // Record failure deleted the ROLLBACK_COMPLETE stack

    // WHEN the same request runs again
    const rerun = await local.workflows.run('onboard', onboardRequest('wayne', 'starter'));
    // THEN it resumes with the same range, creates the stack with the same names, and activates
    expect(rerun.error).toBeUndefined();
    const active = await getTenant('wayne');
    expect(active).toMatchObject({ status: 'ACTIVE', vpcCidr: failed!.vpcCidr, stackName: 'tessera-wayne' });
    expect(active?.failure).toBeUndefined();
    expect(active?.executions.map((e) => e.status)).toEqual(['FAILED', 'SUCCEEDED']);
    expect(await stackStatus('tessera-wayne')).toBe('UPDATE_COMPLETE'); // created, then updated to protect the database
    for (const g of logGroups(starter(), 'wayne')) expect(await logGroupExists(g.name), g.name).toBe(true);
  });

  it('negative control: a named log group on plain Retain, created without RetainExceptOnCreate, survives the rollback and the re-run fails on it', async () => {
    // GIVEN the starter blueprint with its first named log group switched to plain Retain, published as its own version
    const [flowLogs] = logGroups(starter(), 'oscorp');
    const version = '1.0.0-retain-control';
    await publishVariant(new S3Client({ credentials: local.fixture.platform, forcePathStyle: true }), 'tessera-blueprints', local.fixture.catalog, {
      from: '1.0.0', version, name: 'starter', change: (t) => void (t.Resources[flowLogs.id].DeletionPolicy = 'Retain'),
    });
    const previous = process.env[ENV.blueprintVersion];
    process.env[ENV.blueprintVersion] = version;
    local.cleanups.push(() => void (process.env[ENV.blueprintVersion] = previous));
    // and the tenant stack created without the RetainExceptOnCreate parameter (as before decision 1 of issue 9)
    local.cleanups.push(inject('no-retain-except-on-create', (next, context) => async (args) => {
      if (context.commandName === 'CreateStackCommand' && args.input.StackName === 'tessera-oscorp') delete args.input.RetainExceptOnCreate;
      return next(args);
    }));
    // and the first create fails at the database
    local.fixture.cloudFormation.failCreate('tessera-oscorp', logicalIdOf(starter(), 'AWS::RDS::DBInstance'), QUOTA);

    // WHEN the onboarding runs
    await local.workflows.run('onboard', onboardRequest('oscorp', 'starter'));
    // THEN the log group outlived the rolled-back stack
    expect(rollbackOf('tessera-oscorp')).toMatchObject({ retainExceptOnCreate: false, status: 'ROLLBACK_COMPLETE' });
    expect(rollbackOf('tessera-oscorp').plan.survive).toContain(flowLogs.id);
    expect(await logGroupExists(flowLogs.name)).toBe(true);
    expect(await stackStatus('tessera-oscorp')).toBe('NONE');

    // WHEN the same request runs again
    const rerun = await local.workflows.run('onboard', onboardRequest('oscorp', 'starter'));
    // THEN moto itself refuses the log group's name (not an injected failure), and the onboarding fails on it;
    // the database created alongside is rolled back with the rest (it is created unprotected)
    expect(rerun.error?.message).toMatch(/StackFailed/);
    expect(rollbackOf('tessera-oscorp', 1)).toMatchObject({ status: 'ROLLBACK_COMPLETE', failure: { logicalId: flowLogs.id, injected: false, reason: 'The specified log group already exists' } });
    expect(rollbackOf('tessera-oscorp', 1).plan.refused).toEqual([]);
    const record = await getTenant('oscorp');
    expect(record).toMatchObject({ status: 'FAILED', failure: { step: 'Check blueprint' } });
    expect(record!.failure!.reason).toContain(`tessera-oscorp is ROLLBACK_COMPLETE: ${flowLogs.id} CREATE_FAILED: The specified log group already exists`);
    expect(await logGroupExists(flowLogs.name)).toBe(true);
    expect(await databasesOf('oscorp')).toEqual([]);
  });

  it('a create that fails after the database exists rolls the database back (created unprotected); the re-run succeeds and protects it; offboarding meets and lifts that protection', async () => {
    // GIVEN a VPC endpoint of the first create fails (the account is at its endpoint quota): the database, which does not need it, was created
    const database = logicalIdOf(starter(), 'AWS::RDS::DBInstance');
    local.fixture.cloudFormation.failCreate('tessera-initech', endpointOf(starter()), ENDPOINT_QUOTA);
    // WHEN
    const run = await local.workflows.run('onboard', onboardRequest('initech', 'starter'));
    // THEN the rollback deleted the database with everything else, the RetainExceptOnCreate resources included
    expect(run.error?.message).toMatch(/StackFailed/);
    const rollback = rollbackOf('tessera-initech');
    expect(rollback).toMatchObject({ status: 'ROLLBACK_COMPLETE', retainExceptOnCreate: true, failure: { logicalId: endpointOf(starter()), injected: true } });
    expect(rollback.plan).toMatchObject({ refused: [], held: [], survive: [] });
    expect(rollback.plan.created).toContain(database);
    expect(rollback.snapshots).toHaveLength(1); // DeletionPolicy Snapshot: the rollback's final snapshot
    const retained = rollback.resources.filter((r) => starter().Resources[r.logicalId].DeletionPolicy === 'RetainExceptOnCreate' && r.physicalId);
    expect(retained.map((r) => r.type).sort()).toEqual(['AWS::KMS::Key', ...Array(6).fill('AWS::Logs::LogGroup'), 'AWS::S3::Bucket', 'AWS::S3::Bucket']);
    for (const r of [...retained, rollback.resources.find((x) => x.logicalId === database)!]) expect(await stillExists(r), `${r.logicalId} ${r.physicalId}`).toBe(false);
    expect(await databasesOf('initech')).toEqual([]);
    expect(await getTenant('initech')).toMatchObject({ status: 'FAILED', failure: { step: 'Check blueprint' } });
    expect(await stackStatus('tessera-initech')).toBe('NONE');

    // WHEN the same request runs again
    const rerun = await local.workflows.run('onboard', onboardRequest('initech', 'starter'));
    // THEN it succeeds with the same names, and the protecting update ran: the database IS protected
    expect(rerun.error).toBeUndefined();
    const active = await getTenant('initech');
    expect(active).toMatchObject({ status: 'ACTIVE' });
    expect(rerun.states.filter((s) => s === 'Check blueprint').length).toBeGreaterThanOrEqual(2);
    const stack = await describeStack('tessera-initech');
    expect(stack).toMatchObject({ StackStatus: 'UPDATE_COMPLETE', RoleARN: EXECUTION_ROLE() });
    expect(parameter(stack, 'DatabaseDeletionProtection')).toBe('true');
    expect(parameter(stack, 'TenantId')).toBe('initech');
    const instance = (await new RDSClient({ credentials: await workload() }).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: active!.stackOutputs.DatabaseInstanceId }))).DBInstances![0];
    expect(instance.DeletionProtection).toBe(true);

    // WHEN the tenant is offboarded
    const offboard = await local.workflows.run('offboard', { request: { tenantId: 'initech', requestId: 'req-offboard-initech' } });
    // THEN offboarding met that protection and lifted it, once (and the namespace stack's termination protection, Delete tenant stacks)
    expect(offboard.error).toBeUndefined();
    const offboarded = await getTenant('initech');
    expect(offboarded).toMatchObject({ status: 'OFFBOARDED' });
    expect(offboarded!.offboarding!.liftedProtections.map((l) => `${l.type} ${l.physicalId} ${l.protection}`)).toEqual([
      `AWS::CloudFormation::Stack ${stack.StackId} TerminationProtection`,
      `AWS::RDS::DBInstance ${instance.DBInstanceIdentifier} DeletionProtection`,
      expect.stringMatching(/^AWS::CloudFormation::Stack arn:aws:cloudformation:[^ ]+:stack\/tessera-initech-namespace\/[^ ]+ TerminationProtection$/),
    ]);
    expect(await databasesOf('initech')).toEqual([]);
  });

  it('a stack left ROLLBACK_FAILED by a database created protected: Record failure lifts its protections, records them, deletes it, and the re-run succeeds', async () => {
    // GIVEN a starter blueprint whose database is protected from its creation (no parameter decides it), published as its own version
    const database = logicalIdOf(starter(), 'AWS::RDS::DBInstance');
    const version = '1.0.0-protected-database';
    const platformS3 = new S3Client({ credentials: local.fixture.platform, forcePathStyle: true });
    await publishVariant(platformS3, 'tessera-blueprints', local.fixture.catalog, {
      from: '1.0.0', version, name: 'starter', change: (t) => void (t.Resources[database].Properties!.DeletionProtection = true),
    });
    const previous = { version: process.env[ENV.blueprintVersion], audit: process.env[ENV.auditBucket] };
    process.env[ENV.blueprintVersion] = version;
    // and the platform's audit bucket
    await platformS3.send(new CreateBucketCommand({ Bucket: 'tessera-audit-rollback', ObjectLockEnabledForBucket: true }));
    process.env[ENV.auditBucket] = 'tessera-audit-rollback';
    local.cleanups.push(() => {
      process.env[ENV.blueprintVersion] = previous.version;
      if (previous.audit === undefined) delete process.env[ENV.auditBucket];
      else process.env[ENV.auditBucket] = previous.audit;
    });
    // and a VPC endpoint of the first create fails after the database exists
    local.fixture.cloudFormation.failCreate('tessera-cyberdyne', endpointOf(starter()), ENDPOINT_QUOTA);

    // WHEN the onboarding runs
    const run = await local.workflows.run('onboard', onboardRequest('cyberdyne', 'starter'));
    // THEN the rollback stopped at the protected database, holding what it depends on (its key, its log groups
    // created before it); the rest went, the other named log groups too
    expect(run.error?.message).toMatch(/StackFailed/);
    expect(run.states).toContain('Record failure');
    const rollback = rollbackOf('tessera-cyberdyne');
    expect(rollback).toMatchObject({ status: 'ROLLBACK_FAILED', plan: { refused: [database] } });
    const key = logicalIdOf(starter(), 'AWS::KMS::Key');
    const heldLogs = logGroups(starter(), 'cyberdyne').filter((g) => rollback.plan.held.includes(g.id));
    expect(heldLogs.map((g) => g.name).sort()).toEqual(['iam-db-auth-error', 'postgresql', 'upgrade'].map((l) => `/aws/rds/instance/tessera-cyberdyne/${l}`));
    expect(rollback.plan.held).toEqual(expect.arrayContaining([key, logicalIdOf(starter(), 'AWS::RDS::DBSubnetGroup')]));
    for (const g of logGroups(starter(), 'cyberdyne')) expect(await logGroupExists(g.name), g.name).toBe(rollback.plan.held.includes(g.id));
    // and Record failure lifted the stack's termination protection and the database's DeletionProtection, then deleted the stack
    const dbId = rollback.resources.find((r) => r.logicalId === database)!.physicalId;
    const failed = await getTenant('cyberdyne');
    expect(failed).toMatchObject({ status: 'FAILED', failure: { step: 'Check blueprint' } });
    expect(failed!.failure!.reason).toContain('tessera-cyberdyne is ROLLBACK_FAILED');
    expect(failed!.failure!.leftBehind).toBeUndefined(); // the database went with the stack
    const lifted = failed!.failure!.liftedProtections!.map((l) => `${l.type} ${l.logicalId} ${l.protection}`);
    expect(lifted).toEqual(['AWS::CloudFormation::Stack tessera-cyberdyne TerminationProtection', `AWS::RDS::DBInstance ${database} DeletionProtection`]);
    expect(failed!.failure!.liftedProtections![1].physicalId).toBe(dbId);
    expect(failed!.executions.at(-1)).toMatchObject({ status: 'FAILED', liftedProtections: failed!.failure!.liftedProtections });
    expect(await stackStatus('tessera-cyberdyne')).toBe('NONE');
    expect(await databasesOf('cyberdyne')).toEqual([]);
    const snapshots = (await new RDSClient({ credentials: await workload() }).send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: dbId }))).DBSnapshots ?? [];
    expect(snapshots).toHaveLength(1); // DeletionPolicy Snapshot, on the stack's deletion
    // the deletion retained what the database held with RetainExceptOnCreate (not the operation that created them)
    for (const g of heldLogs) expect(await logGroupExists(g.name), g.name).toBe(true);
    const keyId = rollback.resources.find((r) => r.logicalId === key)!.physicalId;
    expect(await stillExists({ logicalId: key, type: 'AWS::KMS::Key', physicalId: keyId })).toBe(true);
    // each lift in the audit bucket and on the bus
    const audit = ((await platformS3.send(new ListObjectsV2Command({ Bucket: 'tessera-audit-rollback', Prefix: 'tessera-audit/lifecycle/cyberdyne/' }))).Contents ?? []).map((o) => o.Key!);
    expect(audit).toHaveLength(2);
    expect(audit).toEqual(expect.arrayContaining([
      expect.stringMatching(/-protection-lifted-tessera-cyberdyne\.json$/), expect.stringMatching(new RegExp(`-protection-lifted-${database}\\.json$`)),
    ]));
    const dbAudit = JSON.parse(await (await platformS3.send(new GetObjectCommand({ Bucket: 'tessera-audit-rollback', Key: audit.find((k) => k.endsWith(`${database}.json`))! }))).Body!.transformToString());
    expect(dbAudit).toMatchObject({ tenantId: 'cyberdyne', action: 'protection-lifted', physicalId: dbId, protection: 'DeletionProtection', step: 'Record failure', reason: expect.stringMatching(/^dead stack ROLLBACK_FAILED/) });
    const busEvents = (await local.fixture.events()).filter((e) => e.detailType === 'Tenant Protection Lifted' && e.detail.tenantId === 'cyberdyne');
    expect(busEvents.map((e) => e.detail.logicalId)).toEqual(['tessera-cyberdyne', database]);

    // WHEN the same request runs again
    const rerun = await local.workflows.run('onboard', onboardRequest('cyberdyne', 'starter'));
    // THEN it first completes what the failed rollback could not (those retained resources, audited)
    expect(rerun.error).toBeUndefined();
    expect(await stillExists({ logicalId: key, type: 'AWS::KMS::Key', physicalId: keyId })).toBe(false); // pending deletion
    const removed = ((await platformS3.send(new ListObjectsV2Command({ Bucket: 'tessera-audit-rollback', Prefix: 'tessera-audit/lifecycle/cyberdyne/' }))).Contents ?? [])
      .map((o) => o.Key!).filter((k) => k.includes('-remnant-removed-')).map((k) => k.replace(/^.*-remnant-removed-(.*)\.json$/, '$1')).sort();
    expect(removed).toEqual([key, ...heldLogs.map((g) => g.id)].sort());
    // and creates the stack afresh with the same names and activates the tenant, its database protected
    const active = await getTenant('cyberdyne');
    expect(active).toMatchObject({ status: 'ACTIVE', vpcCidr: failed!.vpcCidr, stackName: 'tessera-cyberdyne' });
    expect(active!.executions.map((e) => e.status)).toEqual(['FAILED', 'SUCCEEDED']);
    expect((await describeStack('tessera-cyberdyne')).RoleARN).toBe(EXECUTION_ROLE());
    const instance = (await new RDSClient({ credentials: await workload() }).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: active!.stackOutputs.DatabaseInstanceId }))).DBInstances![0];
    expect(instance.DeletionProtection).toBe(true);
    for (const g of logGroups(starter(), 'cyberdyne')) expect(await logGroupExists(g.name), g.name).toBe(true);
  });
});

describe('named resources found by one listing (support/named-resources.ts)', () => {
  it('answers, for 60 log groups over two pages, which names exist exactly as a DescribeLogGroups per name does', async () => {
    const credentials = await workload();
    const logs = new CloudWatchLogsClient({ credentials });
    const name = (i: number) => `/tessera/listing-probe/group-${String(i).padStart(2, '0')}`;
    for (let i = 0; i < 60; i++) await logs.send(new CreateLogGroupCommand({ logGroupName: name(i) }));
    const asked = [name(57), `${name(3)}-missing`, name(2), '/tessera/listing-probe', name(59)].map((n, i) => ({ logicalId: `G${i}`, type: 'AWS::Logs::LogGroup', name: n }));
    const oneByOne = [];
    for (const r of asked) if (await namedResourceExists(r, credentials)) oneByOne.push(r);
    expect(oneByOne.map((r) => r.name)).toEqual([name(57), name(2), name(59)]);
    expect(await namedResourcesExisting(asked, credentials)).toEqual(oneByOne);
    expect(await namedResourcesExisting([], credentials)).toEqual([]);
    for (let i = 0; i < 60; i++) await logs.send(new DeleteLogGroupCommand({ logGroupName: name(i) }));
  });
});
