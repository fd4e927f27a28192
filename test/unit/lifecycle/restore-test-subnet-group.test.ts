import { DeleteStackCommand, DescribeStacksCommand, ListStackResourcesCommand, type DescribeStacksCommandInput, type ListStackResourcesCommandInput } from '@aws-sdk/client-cloudformation';
import { DBInstanceNotFoundFault, DescribeDBInstancesCommand, type DBInstance, type DescribeDBInstancesCommandInput } from '@aws-sdk/client-rds';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { controlMock } from './control-table-mock.js';
import { records, registryMock } from './registry-mock.js';
import { leased, ownedTags, state } from './support.js';
import { DR_STACK_ID, drLifecycleMocks, resetDrLifecycle } from './dr-lifecycle-mocks.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
vi.mock('../../../lambdas/shared/control-table.js', () => controlMock);
const mocks = drLifecycleMocks();
const { cfn, rds } = mocks;
const { handler: deleteStacks } = await import('../../../lambdas/lifecycle/delete-tenant-stacks.js');

// RDS DeleteDBSubnetGroup: "The specified database subnet group must not be associated with any DB instances";
// InvalidDBSubnetGroupStateFault: "The DB subnet group cannot be deleted because it's in use" (RDS API Reference). A DR
// tier's restore test restores the database into the tenant stack's DB subnet group (constructs/tenant-dr-restore-testing.ts),
// and AWS Backup keeps that instance for the validation window: a stack deletion asked for meanwhile ends DELETE_FAILED.

const GROUP = 'tessera-acme-databasesubnetgroup-1ab2c3d4e5f6';
const TEST_INSTANCE = 'awsbackup-restore-test-0123456789abcdef';

/** acme offboarding on the DR tier, its DR stack in us-west-2 recorded. */
const offboarding = () => leased('offboard', {
  tier: 'professional', blueprintVersion: '1.0.0', accountId: '333333333333', status: 'OFFBOARDING', stackName: 'tessera-acme',
  disasterRecovery: { region: 'us-west-2', stackName: 'tessera-acme-dr', stackId: DR_STACK_ID, status: 'ACTIVE', updatedAt: '2026-12-02T00:00:00.000Z' },
});

/** The tenant stack's status in us-east-1 (absent: gone); no other stack exists. */
let tenantStack: string | undefined;
/** The account's DB instances in us-east-1, as DescribeDBInstances lists them. */
let instances: DBInstance[];

/** When the restore test's instance was created (the test ran an hour ago). */
const HOUR_AGO = new Date(Date.now() - 3_600_000);

const instance = (id: string, group: string, tags: Array<{ Key: string; Value: string }> = [], created = HOUR_AGO): DBInstance => ({
  DBInstanceIdentifier: id, DBInstanceStatus: 'available', DBSubnetGroup: { DBSubnetGroupName: group }, TagList: tags, InstanceCreateTime: created,
});

beforeEach(() => {
  resetDrLifecycle(mocks);
  tenantStack = 'UPDATE_COMPLETE';
  cfn.on(DescribeStacksCommand).callsFake(async (input: DescribeStacksCommandInput, getClient: () => { config: { region: () => Promise<string> } }) => {
    const region = await getClient().config.region();
    if (region !== 'us-east-1' || input.StackName !== 'tessera-acme' || !tenantStack) throw Object.assign(new Error(`Stack with id ${input.StackName} does not exist`), { name: 'ValidationError' });
    return { Stacks: [{ StackName: 'tessera-acme', StackId: 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1', StackStatus: tenantStack, CreationTime: new Date(),
      Parameters: [{ ParameterKey: 'TenantId', ParameterValue: 'acme' }], Tags: ownedTags() }] };
  });
  // The tenant stack's database, its DB subnet group (CloudFormation-generated name) and another resource.
  cfn.on(ListStackResourcesCommand).callsFake((input: ListStackResourcesCommandInput) => ({
    StackResourceSummaries: input.StackName === 'tessera-acme' ? [
      { LogicalResourceId: 'DatabaseSubnetGroup', PhysicalResourceId: GROUP, ResourceType: 'AWS::RDS::DBSubnetGroup', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
      { LogicalResourceId: 'DatabaseInstance', PhysicalResourceId: 'tessera-acme', ResourceType: 'AWS::RDS::DBInstance', ResourceStatus: 'UPDATE_COMPLETE', LastUpdatedTimestamp: new Date() },
      { LogicalResourceId: 'Bucket', PhysicalResourceId: 'tessera-acme-bucket', ResourceType: 'AWS::S3::Bucket', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
    ] : [],
  }));
  // The tenant's database, another tenant's in its own group, and (per test) what else is there.
  instances = [instance('tessera-acme', GROUP), instance('tessera-bolt', 'tessera-bolt-databasesubnetgroup-9z8y7x6w5v4u')];
  rds.on(DescribeDBInstancesCommand).callsFake((input: DescribeDBInstancesCommandInput) => {
    // By identifier: the failover runbook's restored instance in the DR region (rebuilt-stack.ts), never there.
    if (input.DBInstanceIdentifier) throw new DBInstanceNotFoundFault({ message: `DBInstance ${input.DBInstanceIdentifier} not found.`, $metadata: { httpStatusCode: 404 } });
    return { DBInstances: instances };
  });
});

const deletesOfTenantStack = () => cfn.commandCalls(DeleteStackCommand).filter((c) => c.args[0].input.StackName === 'arn:aws:cloudformation:us-east-1:333333333333:stack/tessera-acme/1');

describe('Delete tenant stacks and a DB instance in the tenant stack\'s DB subnet group', () => {
  it('waits while a restore test\'s instance is there (AWS Backup deletes it after the validation window), deleting nothing; then deletes the stack', async () => {
    records.set('acme', offboarding());
    instances.push(instance(TEST_INSTANCE, GROUP, [{ Key: 'awsbackup-restore-test', Value: 'true' }]));
    const waiting = await deleteStacks(state());
    expect(waiting).toMatchObject({ state: 'IN_PROGRESS', stack: 'tessera-acme' });
    expect((waiting as { waitingFor?: string }).waitingFor).toBe(`DB instance ${TEST_INSTANCE} (available, a restore test: tag awsbackup-restore-test, created ${HOUR_AGO.toISOString()}) in DB subnet group ${GROUP}: AWS Backup deletes it after the restore test's validation window`);
    expect(deletesOfTenantStack()).toHaveLength(0);
    // The listing is of every instance (a restore test's name is AWS Backup's): no identifier asked for.
    expect(rds.commandCalls(DescribeDBInstancesCommand).some((c) => c.args[0].input.DBInstanceIdentifier === undefined)).toBe(true);

    instances.pop();
    await expect(deleteStacks(state())).resolves.toMatchObject({ state: 'IN_PROGRESS', stack: 'tessera-acme' });
    expect(deletesOfTenantStack()).toHaveLength(1);
  });

  it('a stack left DELETE_FAILED by the restore test is waited for too, not given up on after its one retry', async () => {
    records.set('acme', offboarding());
    tenantStack = 'DELETE_FAILED';
    instances.push({ ...instance(TEST_INSTANCE, GROUP.toUpperCase(), [{ Key: 'awsbackup-restore-test', Value: 'true' }]), DBInstanceStatus: 'creating' });
    await expect(deleteStacks(state('acme', { deletion: { retried: ['tessera-acme'] } }))).resolves.toMatchObject({ state: 'IN_PROGRESS', stack: 'tessera-acme', retried: ['tessera-acme'] });
    expect(deletesOfTenantStack()).toHaveLength(0);
  });

  it('any other instance there stops the offboarding before anything is deleted, naming it, its group and what to do', async () => {
    records.set('acme', offboarding());
    instances.push(instance('scratch-copy', GROUP));
    await expect(deleteStacks(state())).rejects.toMatchObject({
      name: 'StackFailed',
      message: `stack tessera-acme was not asked to be deleted: DB instance scratch-copy (available, created ${HOUR_AGO.toISOString()}) in DB subnet group ${GROUP}, not the blueprint's: RDS refuses to delete a DB subnet group an instance is in (InvalidDBSubnetGroupStateFault), so the stack would end DELETE_FAILED; delete that instance or move it to another DB subnet group, then send DELETE again`,
    });
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  it('waits for a restore test\'s instance RESTORE_TEST_WAIT_HOURS (6 h) of one execution at most, then stops naming it: the offboarding\'s 30 s polls would fill Step Functions\' 25,000-event history (~20 h) and its 2-day timeout long before 192 h, ending the execution without Record failure', async () => {
    records.set('acme', offboarding());
    // A restore whose instance AWS Backup never deleted (its deletion failed), created 7 h ago: under 192 h.
    const sevenHoursAgo = new Date(Date.now() - 7 * 3_600_000);
    instances.push(instance(TEST_INSTANCE, GROUP, [{ Key: 'awsbackup-restore-test', Value: 'true' }], sevenHoursAgo));
    // The first poll notes when this execution started waiting, and the state machine hands it back (`$.deletion`).
    const first = await deleteStacks(state()) as { state: string; restoreTestWaitSince?: string };
    expect(first.state).toBe('IN_PROGRESS');
    expect(Date.now() - Date.parse(first.restoreTestWaitSince!)).toBeLessThan(60_000);
    await expect(deleteStacks(state('acme', { deletion: { restoreTestWaitSince: first.restoreTestWaitSince } }))).resolves.toMatchObject({ state: 'IN_PROGRESS', restoreTestWaitSince: first.restoreTestWaitSince });
    // 6 h of polls later, the same instance still there: the execution stops, naming it, before anything is deleted.
    const sixHoursAgo = new Date(Date.now() - 6 * 3_600_000 - 1_000).toISOString();
    await expect(deleteStacks(state('acme', { deletion: { restoreTestWaitSince: sixHoursAgo } }))).rejects.toMatchObject({
      name: 'StackFailed',
      message: expect.stringContaining(`DB instance ${TEST_INSTANCE} (available, a restore test: tag awsbackup-restore-test, created ${sevenHoursAgo.toISOString()}) in DB subnet group ${GROUP}, not the blueprint's (a restore test's instance this offboarding waited 6 h for, since ${sixHoursAgo}: AWS Backup did not delete it): RDS refuses`),
    });
    expect(deletesOfTenantStack()).toHaveLength(0);
  });

  it('a restore test\'s instance still there 8 days (168 h, the longest validation window, and a day) after its creation is not waited for: AWS Backup did not delete it', async () => {
    records.set('acme', offboarding());
    const nineDaysAgo = new Date(Date.now() - 9 * 86_400_000);
    instances.push(instance(TEST_INSTANCE, GROUP, [{ Key: 'awsbackup-restore-test', Value: 'true' }], nineDaysAgo));
    await expect(deleteStacks(state())).rejects.toMatchObject({
      name: 'StackFailed',
      message: expect.stringContaining(`DB instance ${TEST_INSTANCE} (available, a restore test: tag awsbackup-restore-test, created ${nineDaysAgo.toISOString()}) in DB subnet group ${GROUP}, not the blueprint's (a restore test's instance still there 192 h after its creation: AWS Backup did not delete it): RDS refuses`),
    });
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });
});
