import {
  CloudFormationClient, type Stack, CreateChangeSetCommand, CreateStackCommand, DeleteStackCommand, DescribeChangeSetCommand, ExecuteChangeSetCommand, ListStackResourcesCommand, DescribeStackEventsCommand, DescribeStacksCommand, ListStacksCommand, UpdateStackCommand, UpdateTerminationProtectionCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { clientWith } from '../../lambdas/shared/aws-clients.js';
import { getTenant, putNewTenant } from '../../lambdas/shared/registry.js';
import type { TenantRecord } from '../../lib/tenant-record.js';
import { useLocalLifecycle } from './support/local-lifecycle.js';

/**
 * What the CloudFormation emulation (support/cloudformation-emulation.ts) adds to moto, each
 * behaviour on a small template through a Lambda-made client (the path the workflow takes).
 */
const local = useLocalLifecycle();
const { config } = local;

const cfnIn = async (account = config.workloadAccountId) => clientWith(CloudFormationClient, await local.fixture.as(account));
const database = (id: string, protect: boolean) => JSON.stringify({
  Resources: {
    Db: {
      Type: 'AWS::RDS::DBInstance', DeletionPolicy: 'Snapshot',
      Properties: { DBInstanceIdentifier: id, Engine: 'postgres', EngineVersion: '17', DBInstanceClass: 'db.t4g.medium', AllocatedStorage: '20', MasterUsername: 'u', ManageMasterUserPassword: true, DeletionProtection: protect },
    },
  },
});
/** A database whose DeletionProtection a parameter decides, as the tenant blueprints' `DatabaseDeletionProtection` does. */
const parameterDriven = (id: string, keyDescription = 'first') => JSON.stringify({
  Parameters: { Protect: { Type: 'String', Default: 'true', AllowedValues: ['true', 'false'] }, Note: { Type: 'String', Default: 'n' } },
  Conditions: { ProtectDatabase: { 'Fn::Equals': [{ Ref: 'Protect' }, 'true'] } },
  Resources: {
    Key: { Type: 'AWS::KMS::Key', Properties: { Description: keyDescription, KeyPolicy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) } },
    Db: {
      Type: 'AWS::RDS::DBInstance', DeletionPolicy: 'Snapshot',
      Properties: {
        DBInstanceIdentifier: id, Engine: 'postgres', EngineVersion: '17', DBInstanceClass: 'db.t4g.medium', AllocatedStorage: '20', MasterUsername: 'u', ManageMasterUserPassword: true,
        DeletionProtection: { 'Fn::If': ['ProtectDatabase', true, false] },
      },
    },
  },
  Outputs: { KeyArn: { Value: { 'Fn::GetAtt': ['Key', 'Arn'] } }, Note: { Value: { Ref: 'Note' } } },
});
const role = (name: string, service: string) => JSON.stringify({
  Resources: { Role: { Type: 'AWS::IAM::Role', Properties: { RoleName: name, AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }] } } } },
});

describe('CloudFormation over moto, as AWS behaves', () => {
  it('refuses a RoleARN that does not exist in the stack account or does not trust CloudFormation (moto records any)', async () => {
    // GIVEN a role trusted by EC2 only, and one trusted by CloudFormation
    const cfn = await cfnIn();
    await cfn.send(new CreateStackCommand({ StackName: 'roles', TemplateBody: role('trusts-ec2', 'ec2.amazonaws.com'), Capabilities: ['CAPABILITY_NAMED_IAM'] }));
    await cfn.send(new CreateStackCommand({ StackName: 'roles-cfn', TemplateBody: role('trusts-cfn', 'cloudformation.amazonaws.com'), Capabilities: ['CAPABILITY_NAMED_IAM'] }));
    const arn = (name: string, account = config.workloadAccountId) => `arn:aws:iam::${account}:role/${name}`;
    const body = JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } });
    // WHEN / THEN
    for (const bad of [arn('missing'), arn('trusts-ec2'), arn('trusts-cfn', config.platformAccountId)]) {
      await expect(cfn.send(new CreateStackCommand({ StackName: 'with-role', TemplateBody: body, RoleARN: bad }))).rejects.toThrow(`Role ${bad} is invalid or cannot be assumed`);
    }
    await cfn.send(new CreateStackCommand({ StackName: 'with-role', TemplateBody: body, RoleARN: arn('trusts-cfn') }));
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'with-role' }))).Stacks![0]).toMatchObject({ StackStatus: 'CREATE_COMPLETE', RoleARN: arn('trusts-cfn') });
  });

  it('keeps a database created with DeletionProtection protected, and fails the stack delete on it until the protection is lifted', async () => {
    // GIVEN a stack whose database sets DeletionProtection (moto's own handler drops it)
    const cfn = await cfnIn();
    const rds = new RDSClient({ credentials: await local.fixture.as(config.workloadAccountId) });
    await cfn.send(new CreateStackCommand({ StackName: 'db', TemplateBody: database('tessera-protected-db', true) }));
    expect((await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'tessera-protected-db' }))).DBInstances![0].DeletionProtection).toBe(true);
    // WHEN the stack is deleted
    await cfn.send(new DeleteStackCommand({ StackName: 'db' }));
    // THEN the delete fails on the database, which stays, and the stack says why
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'db' }))).Stacks![0]).toMatchObject({ StackStatus: 'DELETE_FAILED', StackStatusReason: 'The following resource(s) failed to delete: [Db]. ' });
    const events = (await cfn.send(new DescribeStackEventsCommand({ StackName: 'db' }))).StackEvents!;
    expect(events.find((e) => e.LogicalResourceId === 'Db')).toMatchObject({
      ResourceStatus: 'DELETE_FAILED', ResourceStatusReason: 'Resource handler returned message: "Cannot delete protected DB Instance, please disable deletion protection and try again."',
    });
    expect((await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'tessera-protected-db' }))).DBInstances).toHaveLength(1);
    // WHEN the protection is lifted and the delete runs again
    await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'tessera-protected-db', DeletionProtection: false, ApplyImmediately: true }));
    await cfn.send(new DeleteStackCommand({ StackName: 'db' }));
    // THEN the stack and the database are gone, the database's final snapshot (DeletionPolicy Snapshot) stays
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'db' }))).rejects.toThrow(/does not exist/);
    await expect(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'tessera-protected-db' }))).rejects.toThrow(/not found/i);
    const snapshots = (await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'tessera-protected-db' }))).DBSnapshots ?? [];
    expect(snapshots.map((s) => s.DBSnapshotIdentifier)).toEqual([expect.stringMatching(/^db-snapshot-db-[0-9a-f]{12}$/)]);
  });

  it('a change set that names a role (RoleName is create-only) says Replacement True for it, as AWS does, and its execution replaces the role', async () => {
    // GIVEN a role with a generated name, and a topic
    const cfn = await cfnIn();
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'backup.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    const body = (roleName: string | undefined, topic: string) => JSON.stringify({ Resources: {
      Role: { Type: 'AWS::IAM::Role', Properties: { ...(roleName ? { RoleName: roleName } : {}), AssumeRolePolicyDocument: trust } },
      Topic: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: topic } },
    } });
    await cfn.send(new CreateStackCommand({ StackName: 'renamed', TemplateBody: body(undefined, 'one') }));
    const roleOf = async () => (await cfn.send(new ListStackResourcesCommand({ StackName: 'renamed' }))).StackResourceSummaries!.find((r) => r.LogicalResourceId === 'Role')!.PhysicalResourceId;
    expect(await roleOf()).toMatch(/^renamed-Role-/);
    // WHEN a change set names the role and changes the topic in place
    await cfn.send(new CreateChangeSetCommand({ StackName: 'renamed', ChangeSetName: 'name-it', TemplateBody: body('renamed-role', 'two') }));
    const changes = (await cfn.send(new DescribeChangeSetCommand({ StackName: 'renamed', ChangeSetName: 'name-it' }))).Changes!.map((c) => c.ResourceChange!);
    // THEN the role is replaced (the property that requires it named), the topic is not
    expect(changes.find((c) => c.LogicalResourceId === 'Role')).toMatchObject({
      Action: 'Modify', Replacement: 'True', Details: [{ Target: { Attribute: 'Properties', Name: 'RoleName', RequiresRecreation: 'Always' } }],
    });
    expect(changes.find((c) => c.LogicalResourceId === 'Topic')).toMatchObject({ Action: 'Modify', Replacement: 'False' });
    // AND its execution leaves the stack on the named role
    await cfn.send(new ExecuteChangeSetCommand({ StackName: 'renamed', ChangeSetName: 'name-it' }));
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'renamed' }))).Stacks![0].StackStatus).toBe('UPDATE_COMPLETE');
    expect(await roleOf()).toBe('renamed-role');
  });

  it('refuses an update that changes nothing, as AWS does (moto performs it)', async () => {
    // GIVEN
    const cfn = await cfnIn();
    await cfn.send(new CreateStackCommand({ StackName: 'unchanged', TemplateBody: database('tessera-unchanged-db', false) }));
    // WHEN / THEN
    await expect(cfn.send(new UpdateStackCommand({ StackName: 'unchanged', TemplateBody: database('tessera-unchanged-db', false) }))).rejects.toThrow('No updates are to be performed.');
  });

  it('protects a database as the create\'s and each update\'s parameters decide (Fn::If on a condition); UsePreviousTemplate, UsePreviousValue and the stack\'s role kept as AWS does', async () => {
    // GIVEN a role CloudFormation may assume, and a stack created with the database unprotected
    const cfn = await cfnIn();
    const rds = new RDSClient({ credentials: await local.fixture.as(config.workloadAccountId) });
    await cfn.send(new CreateStackCommand({ StackName: 'deployer', TemplateBody: role('param-deployer', 'cloudformation.amazonaws.com'), Capabilities: ['CAPABILITY_NAMED_IAM'] }));
    const roleArn = `arn:aws:iam::${config.workloadAccountId}:role/param-deployer`;
    await cfn.send(new CreateStackCommand({
      StackName: 'param-db', TemplateBody: parameterDriven('tessera-param-db'), RoleARN: roleArn,
      Parameters: [{ ParameterKey: 'Protect', ParameterValue: 'false' }, { ParameterKey: 'Note', ParameterValue: 'first' }],
    }));
    const isProtected = async () => (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'tessera-param-db' }))).DBInstances![0].DeletionProtection;
    expect(await isProtected()).toBe(false);
    // WHEN the parameter alone changes, with the previous template and values, and no RoleARN
    await cfn.send(new UpdateStackCommand({
      StackName: 'param-db', UsePreviousTemplate: true,
      Parameters: [{ ParameterKey: 'Protect', ParameterValue: 'true' }, { ParameterKey: 'Note', UsePreviousValue: true }],
    }));
    // THEN the database is protected, the other value and the role are kept
    expect(await isProtected()).toBe(true);
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'param-db' }))).Stacks![0];
    expect(stack).toMatchObject({ StackStatus: 'UPDATE_COMPLETE', RoleARN: roleArn });
    expect(Object.fromEntries(stack.Parameters!.map((p) => [p.ParameterKey, p.ParameterValue]))).toMatchObject({ Protect: 'true', Note: 'first' });
    // and the same again changes nothing
    await expect(cfn.send(new UpdateStackCommand({
      StackName: 'param-db', UsePreviousTemplate: true, Parameters: [{ ParameterKey: 'Protect', UsePreviousValue: true }, { ParameterKey: 'Note', UsePreviousValue: true }],
    }))).rejects.toThrow('No updates are to be performed.');
    // WHEN a resource moto's CloudFormation cannot update changes (the key's description): AWS updates it in place, moto would drop it
    await cfn.send(new UpdateStackCommand({ StackName: 'param-db', TemplateBody: parameterDriven('tessera-param-db', 'second'), Parameters: [{ ParameterKey: 'Protect', ParameterValue: 'false' }, { ParameterKey: 'Note', UsePreviousValue: true }] }));
    // THEN the stack still resolves the key, and the database follows the parameter back
    const after = (await cfn.send(new DescribeStacksCommand({ StackName: 'param-db' }))).Stacks![0];
    expect(after.Outputs?.find((o) => o.OutputKey === 'KeyArn')?.OutputValue).toBe(stack.Outputs?.find((o) => o.OutputKey === 'KeyArn')?.OutputValue);
    expect(after.Outputs?.find((o) => o.OutputKey === 'Note')?.OutputValue).toBe('first');
    expect(await isProtected()).toBe(false);
  });

  it('refuses a parameter value that breaks the template\'s constraints on CreateStack, UpdateStack and CreateChangeSet, with AWS\'s ValidationError (moto takes any)', async () => {
    // GIVEN a template whose parameters carry each constraint; VpcCidr as the tier blueprints declare it (a /22 only, with a ConstraintDescription)
    const cfn = await cfnIn();
    const body = JSON.stringify({
      Parameters: {
        VpcCidr: { Type: 'String', AllowedPattern: '^(\\d{1,3}\\.){3}\\d{1,3}/22$', ConstraintDescription: 'must be an IPv4 /22 network' },
        Label: { Type: 'String', Default: 'abc', AllowedPattern: '[a-z]+', MinLength: 2, MaxLength: 8 },
        Env: { Type: 'String', Default: 'dev', AllowedValues: ['dev', 'prod'] },
        Size: { Type: 'Number', Default: '2', MinValue: 1, MaxValue: 5 },
      },
      Resources: { Topic: { Type: 'AWS::SNS::Topic' } },
      Outputs: { Cidr: { Value: { Ref: 'VpcCidr' } } },
    });
    const params = (values: Record<string, string>) => Object.entries({ VpcCidr: '10.64.0.0/22', ...values }).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));
    const refusals: Array<[Record<string, string>, string]> = [
      [{ VpcCidr: '10.80.0.0/20' }, 'Parameter VpcCidr failed to satisfy constraint: must be an IPv4 /22 network'],
      [{ Label: 'ab1' }, 'Parameter \'Label\' must match pattern [a-z]+'],
      [{ Label: 'a' }, 'Parameter \'Label\' must contain at least 2 characters'],
      [{ Label: 'abcdefghi' }, 'Parameter \'Label\' must contain at most 8 characters'],
      [{ Env: 'staging' }, 'Parameter \'Env\' must be one of AllowedValues'],
      [{ Size: '0' }, 'Parameter \'Size\' must be a number not less than 1'],
      [{ Size: '6' }, 'Parameter \'Size\' must be a number not greater than 5'],
      [{ Size: 'two' }, 'Parameter \'Size\' must be a number'],
    ];
    // WHEN / THEN a create with any of them fails at once, and creates nothing
    for (const [values, message] of refusals) {
      const refused = await cfn.send(new CreateStackCommand({ StackName: 'constrained', TemplateBody: body, Parameters: params(values) })).catch((e: Error) => e);
      expect(refused).toMatchObject({ name: 'ValidationError', message });
    }
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'constrained' }))).rejects.toThrow(/does not exist/);
    // a create with values that keep them goes through
    await cfn.send(new CreateStackCommand({ StackName: 'constrained', TemplateBody: body, Parameters: params({}) }));
    // an update or a change set to a value that breaks one fails the same way, the stack as it was
    await expect(cfn.send(new UpdateStackCommand({ StackName: 'constrained', UsePreviousTemplate: true, Parameters: params({ VpcCidr: '10.80.0.0/20' }) })))
      .rejects.toMatchObject({ name: 'ValidationError', message: 'Parameter VpcCidr failed to satisfy constraint: must be an IPv4 /22 network' });
    await expect(cfn.send(new CreateChangeSetCommand({ StackName: 'constrained', ChangeSetName: 'to-professional', TemplateBody: body, Parameters: params({ Env: 'staging' }) })))
      .rejects.toMatchObject({ name: 'ValidationError', message: 'Parameter \'Env\' must be one of AllowedValues' });
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'constrained' }))).Stacks![0];
    expect(stack).toMatchObject({ StackStatus: 'CREATE_COMPLETE', Outputs: [expect.objectContaining({ OutputKey: 'Cidr', OutputValue: '10.64.0.0/22' })] });
    // and values that keep them update it
    await cfn.send(new UpdateStackCommand({ StackName: 'constrained', UsePreviousTemplate: true, Parameters: params({ VpcCidr: '10.64.4.0/22', Size: '5' }) }));
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'constrained' }))).Stacks![0].Outputs![0].OutputValue).toBe('10.64.4.0/22');
  });

  it('refuses an Availability Zone parameter value that is not a zone of the caller\'s region (the tenant blueprints\' AvailabilityZones), as AWS does; moto takes any', async () => {
    // GIVEN a template with a List<AWS::EC2::AvailabilityZone::Name> parameter, as the tenant blueprints declare AvailabilityZones
    const cfn = await cfnIn();
    const body = JSON.stringify({
      Parameters: { AvailabilityZones: { Type: 'List<AWS::EC2::AvailabilityZone::Name>' } },
      Resources: { Topic: { Type: 'AWS::SNS::Topic' } },
      Outputs: { First: { Value: { 'Fn::Select': [0, { Ref: 'AvailabilityZones' }] } } },
    });
    const region = await cfn.config.region();
    const zones = (value: string) => [{ ParameterKey: 'AvailabilityZones', ParameterValue: value }];
    // WHEN / THEN a zone of another region (the home region's names in a DR region), or none at all, is refused
    await expect(cfn.send(new CreateStackCommand({ StackName: 'zoned', TemplateBody: body, Parameters: zones(`${region}a,eu-west-3a`) })))
      .rejects.toMatchObject({ name: 'ValidationError', message: 'Parameter validation failed: parameter value eu-west-3a for parameter name AvailabilityZones does not exist.' });
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'zoned' }))).rejects.toThrow(/does not exist/);
    // and the region's zones go through
    await cfn.send(new CreateStackCommand({ StackName: 'zoned', TemplateBody: body, Parameters: zones(`${region}a,${region}b`) }));
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'zoned' }))).Stacks![0].Outputs![0].OutputValue).toBe(`${region}a`);
    await expect(cfn.send(new UpdateStackCommand({ StackName: 'zoned', UsePreviousTemplate: true, Parameters: zones(`${region}a,${region}z`) })))
      .rejects.toMatchObject({ name: 'ValidationError', message: `Parameter validation failed: parameter value ${region}z for parameter name AvailabilityZones does not exist.` });
  });

  it('refuses a parameter the template does not declare on CreateStack, UpdateStack and CreateChangeSet, as AWS does ("Parameters: [X] do not exist in the template"); moto ignores it', async () => {
    // GIVEN a template without AvailabilityZones, as the tier blueprints published before it was added
    const cfn = await cfnIn();
    const body = JSON.stringify({ Parameters: { TenantId: { Type: 'String' } }, Resources: { Topic: { Type: 'AWS::SNS::Topic' } } });
    const params = (extra: Record<string, string> = {}) => Object.entries({ TenantId: 'acme', ...extra }).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));
    const refusal = { name: 'ValidationError', message: 'Parameters: [AvailabilityZones] do not exist in the template' };
    // WHEN / THEN a create passing it fails at once, and creates nothing
    await expect(cfn.send(new CreateStackCommand({ StackName: 'older', TemplateBody: body, Parameters: params({ AvailabilityZones: 'us-east-1a,us-east-1b' }) }))).rejects.toMatchObject(refusal);
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'older' }))).rejects.toThrow(/does not exist/);
    // every undeclared key is named
    await expect(cfn.send(new CreateStackCommand({ StackName: 'older', TemplateBody: body, Parameters: params({ AvailabilityZones: 'us-east-1a', Other: 'x' }) })))
      .rejects.toMatchObject({ name: 'ValidationError', message: 'Parameters: [AvailabilityZones, Other] do not exist in the template' });
    await cfn.send(new CreateStackCommand({ StackName: 'older', TemplateBody: body, Parameters: params() }));
    // an update or a change set passing it: the same refusal, the stack as it was
    await expect(cfn.send(new UpdateStackCommand({ StackName: 'older', TemplateBody: body, Parameters: params({ AvailabilityZones: 'us-east-1a,us-east-1b' }) }))).rejects.toMatchObject(refusal);
    await expect(cfn.send(new CreateChangeSetCommand({ StackName: 'older', ChangeSetName: 'repair', TemplateBody: body, Parameters: params({ AvailabilityZones: 'us-east-1a,us-east-1b' }) }))).rejects.toMatchObject(refusal);
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'older' }))).Stacks![0].StackStatus).toBe('CREATE_COMPLETE');
  });

  it('failDelete: a DeleteStack that meets the resource ends DELETE_FAILED (tags kept, listed so, the reason in its events, no change set), and the next one deletes it (hdr2)', async () => {
    const cfn = await cfnIn();
    const body = JSON.stringify({ Resources: { Keep: { Type: 'AWS::SNS::Topic' }, Stuck: { Type: 'AWS::SNS::Topic' } } });
    await cfn.send(new CreateStackCommand({ StackName: 'stuck', TemplateBody: body, Tags: [{ Key: 'owner', Value: 'hdr2' }] }));
    local.fixture.cloudFormation.failDelete('stuck', 'Stuck', 'Resource handler returned message: "has dependencies"');
    // WHEN
    await cfn.send(new DeleteStackCommand({ StackName: 'stuck' }));
    // THEN
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'stuck' }))).Stacks![0];
    expect(stack).toMatchObject({ StackStatus: 'DELETE_FAILED', StackStatusReason: 'The following resource(s) failed to delete: [Stuck]. ', Tags: [{ Key: 'owner', Value: 'hdr2' }] });
    expect((await cfn.send(new ListStacksCommand({}))).StackSummaries!.filter((x) => x.StackId === stack.StackId).map((x) => x.StackStatus)).toEqual(['DELETE_FAILED']);
    const events = (await cfn.send(new DescribeStackEventsCommand({ StackName: 'stuck' }))).StackEvents!;
    expect(events.find((e) => e.LogicalResourceId === 'Stuck')).toMatchObject({ ResourceStatus: 'DELETE_FAILED', ResourceStatusReason: 'Resource handler returned message: "has dependencies"' });
    await expect(cfn.send(new CreateChangeSetCommand({ StackName: 'stuck', ChangeSetName: 'again', TemplateBody: body }))).rejects.toThrow(/is in DELETE_FAILED state and can not be updated/);
    // the failure was for one deletion: the next one goes through
    await cfn.send(new DeleteStackCommand({ StackName: 'stuck' }));
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'stuck' }))).rejects.toThrow(/does not exist/);
  });

  it('failUpdate: the next update fails at the resource and rolls back (UPDATE_ROLLBACK_COMPLETE, tags as before, the reason in its events); a later update clears it (hdr2)', async () => {
    const cfn = await cfnIn();
    const body = (name: string) => JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: name } } } });
    await cfn.send(new CreateStackCommand({ StackName: 'rolls', TemplateBody: body('rolls-1'), Tags: [{ Key: 'v', Value: '1' }] }));
    local.fixture.cloudFormation.failUpdate('rolls', 'Topic', 'Resource handler returned message: "Rate exceeded"');
    // WHEN
    await cfn.send(new UpdateStackCommand({ StackName: 'rolls', TemplateBody: body('rolls-2'), Tags: [{ Key: 'v', Value: '2' }] }));
    // THEN
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'rolls' }))).Stacks![0]).toMatchObject({ StackStatus: 'UPDATE_ROLLBACK_COMPLETE', Tags: [{ Key: 'v', Value: '1' }] });
    const events = (await cfn.send(new DescribeStackEventsCommand({ StackName: 'rolls' }))).StackEvents!;
    expect(events.slice(0, 4).map((e) => `${e.LogicalResourceId} ${e.ResourceStatus}`)).toEqual(['rolls UPDATE_ROLLBACK_COMPLETE', 'rolls UPDATE_ROLLBACK_IN_PROGRESS', 'Topic UPDATE_FAILED', 'rolls UPDATE_IN_PROGRESS']);
    expect(events[2].ResourceStatusReason).toBe('Resource handler returned message: "Rate exceeded"');
    await cfn.send(new UpdateStackCommand({ StackName: 'rolls', TemplateBody: body('rolls-2'), Tags: [{ Key: 'v', Value: '2' }] }));
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'rolls' }))).Stacks![0]).toMatchObject({ StackStatus: 'UPDATE_COMPLETE', Tags: [{ Key: 'v', Value: '2' }] });
  });

  it('applies a changed AllocatedStorage and MaxAllocatedStorage to the instance, and fails and rolls back one RDS refuses (less, less than 10% more, a ceiling less than 10% above); moto has no update for a DB instance and takes any storage', async () => {
    const cfn = await cfnIn();
    const rds = new RDSClient({ credentials: await local.fixture.as(config.workloadAccountId) });
    const body = (allocated: string, max: number) => JSON.stringify({ Resources: { Db: { Type: 'AWS::RDS::DBInstance', DeletionPolicy: 'Snapshot', Properties: {
      DBInstanceIdentifier: 'grows', Engine: 'postgres', EngineVersion: '17', DBInstanceClass: 'db.t4g.medium', AllocatedStorage: allocated, MaxAllocatedStorage: max, MasterUsername: 'u', ManageMasterUserPassword: true,
    } } } });
    const instance = async () => (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'grows' }))).DBInstances![0];
    const status = async () => (await cfn.send(new DescribeStacksCommand({ StackName: 'grows' }))).Stacks![0].StackStatus;
    const failure = async () => (await cfn.send(new DescribeStackEventsCommand({ StackName: 'grows' }))).StackEvents!.find((e) => e.ResourceStatus === 'UPDATE_FAILED')?.ResourceStatusReason;
    await cfn.send(new CreateStackCommand({ StackName: 'grows', TemplateBody: body('100', 500) }));
    // WHEN the template raises it by less than 10% THEN the update fails at the instance and rolls back, the instance as it was
    await cfn.send(new UpdateStackCommand({ StackName: 'grows', TemplateBody: body('105', 500) }));
    expect(await status()).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(await failure()).toMatch(/The allocated storage must be increased by at least 10 percent/);
    expect((await instance()).AllocatedStorage).toBe(100);
    // by 10%: applied
    await cfn.send(new UpdateStackCommand({ StackName: 'grows', TemplateBody: body('110', 500) }));
    expect(await status()).toBe('UPDATE_COMPLETE');
    expect(await instance()).toMatchObject({ AllocatedStorage: 110, MaxAllocatedStorage: 500 });
    // less storage, and a ceiling less than 10% above the instance's (110: at least 121), are refused; a ceiling of 121 is applied
    await cfn.send(new UpdateStackCommand({ StackName: 'grows', TemplateBody: body('100', 500) }));
    expect(await status()).toBe('UPDATE_ROLLBACK_COMPLETE');
    await cfn.send(new UpdateStackCommand({ StackName: 'grows', TemplateBody: body('110', 120) }));
    expect(await status()).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(await failure()).toMatch(/The maximum allocated storage must be increased by at least 10 percent/);
    await cfn.send(new UpdateStackCommand({ StackName: 'grows', TemplateBody: body('110', 121) }));
    expect(await status()).toBe('UPDATE_COMPLETE');
    expect(await instance()).toMatchObject({ AllocatedStorage: 110, MaxAllocatedStorage: 121 });
  });

  // s39k: Tessera's DeleteStacks go by the StackId read, so that a late one never deletes a stack created again under the name.
  it('DeleteStack by StackId deletes that stack only: by the id of a stack deleted since (another created under its name), nothing; the live one by its id as by its name (protection, failDelete)', async () => {
    const cfn = await cfnIn();
    const body = JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' }, Stuck: { Type: 'AWS::SNS::Topic' } } });
    const create = async () => (await cfn.send(new CreateStackCommand({ StackName: 'by-id', TemplateBody: body, EnableTerminationProtection: true }))).StackId!;
    const resources = async () => (await cfn.send(new ListStackResourcesCommand({ StackName: 'by-id' }))).StackResourceSummaries!.map((r) => r.LogicalResourceId).sort();
    const first = await create();
    await cfn.send(new UpdateTerminationProtectionCommand({ StackName: first, EnableTerminationProtection: false }));
    await cfn.send(new DeleteStackCommand({ StackName: first }));
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'by-id' }))).rejects.toThrow(/does not exist/);
    const second = await create();
    // WHEN a late DeleteStack by the first stack's id arrives
    await cfn.send(new DeleteStackCommand({ StackName: first }));
    // THEN the stack created again under the name stands, protected, with its resources
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'by-id' }))).Stacks![0]).toMatchObject({ StackId: second, StackStatus: 'CREATE_COMPLETE', EnableTerminationProtection: true });
    expect(await resources()).toEqual(['Stuck', 'Topic']);
    // and by its own id: refused while protected, DELETE_FAILED on a resource that fails, then deleted
    await expect(cfn.send(new DeleteStackCommand({ StackName: second }))).rejects.toThrow(/cannot be deleted while TerminationProtection is enabled/);
    await cfn.send(new UpdateTerminationProtectionCommand({ StackName: 'by-id', EnableTerminationProtection: false }));
    local.fixture.cloudFormation.failDelete('by-id', 'Stuck', 'Resource handler returned message: "has dependencies"');
    await cfn.send(new DeleteStackCommand({ StackName: second }));
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'by-id' }))).Stacks![0]).toMatchObject({ StackId: second, StackStatus: 'DELETE_FAILED' });
    await cfn.send(new DeleteStackCommand({ StackName: second }));
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'by-id' }))).rejects.toThrow(/does not exist/);
  });

  // s39k: two onboardings in one account share its baseline. Both read it ROLLBACK_COMPLETE; one deletes it and creates it
  // again, then the other lifts its protection and deletes it. By name that deleted the new create (s39k: DeleteStack by the
  // StackId read), and the lift by name switched off the new create's protection (s39t: lifted by the StackId read too).
  it('Deploy account baseline: a late lift and DeleteStack of a ROLLBACK_COMPLETE baseline another onboarding deleted and created again leave the new one standing, protected', async () => {
    const { deployBaseline } = await import('../../lambdas/lifecycle/deploy-blueprint.js');
    const { liftTerminationProtection } = await import('../../lambdas/lifecycle/protection-lift.js');
    const cfn = await cfnIn();
    const baseline = 'tessera-account-baseline';
    await expect(cfn.send(new DescribeStacksCommand({ StackName: baseline }))).rejects.toThrow(/does not exist/);
    const bucket = process.env.TESSERA_BLUEPRINT_BUCKET!;
    const s3 = clientWith(S3Client, await local.fixture.as(config.platformAccountId));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'test/late-delete-baseline.json', Body: JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } }) }));
    const url = `https://${bucket}.s3.us-east-1.amazonaws.com/test/late-delete-baseline.json`;
    // Onboarding B's lift is Tessera's (liftTerminationProtection, its intent on B's tenant record); A's, by name, only moves the race on.
    const tenant: TenantRecord = {
      tenantId: 'late-lift', name: 'late-lift corp', tier: 'starter', isolation: 'vpc', adminEmail: 'ops@late-lift.example.com', status: 'PROVISIONING', requestId: 'req-late-lift-0001',
      accountId: config.workloadAccountId, createdAt: '2026-12-06T00:00:00.000Z', updatedAt: '2026-12-06T00:00:00.000Z', stackOutputs: {}, executions: [],
    };
    await putNewTenant(tenant);
    const ledger = { lifts: () => [], record: async () => undefined };
    const actor = { requestId: tenant.requestId, step: 'Deploy blueprint', reason: 'account baseline ROLLBACK_COMPLETE: lifted so that the stack can be deleted and created again' };
    const lift = async (name: string) => void await cfn.send(new UpdateTerminationProtectionCommand({ StackName: name, EnableTerminationProtection: false }));
    const deploy = (token: string, liftTermination: (stack: Stack) => Promise<unknown> = (stack) => lift(stack.StackName!)) =>
      deployBaseline(cfn, { url, version: '1.0.0', token, liftTermination });
    const described = async () => (await cfn.send(new DescribeStacksCommand({ StackName: baseline }))).Stacks![0];
    // GIVEN the first create rolled back
    local.fixture.cloudFormation.failCreate(baseline, 'Topic', 'Resource handler returned message: "injected"');
    await deploy('tessera-first');
    const dead = await described();
    expect(dead).toMatchObject({ StackStatus: 'ROLLBACK_COMPLETE', EnableTerminationProtection: true });
    // WHEN onboarding B reads it dead, and onboarding A deletes it and creates it again before B lifts and deletes
    let created: string | undefined;
    const late = deploy('tessera-onboarding-b', async (stack) => {
      await expect(deploy('tessera-onboarding-a')).rejects.toMatchObject({ name: 'StackBusy' });
      await expect(deploy('tessera-onboarding-a-again')).resolves.toBe('CREATED');
      created = (await described()).StackId;
      return liftTerminationProtection(cfn, tenant, stack, ledger, actor);
    });
    await expect(late).rejects.toMatchObject({ name: 'StackBusy', message: expect.stringContaining(`stack ${baseline} (${dead.StackId}) was deleted since it was read ROLLBACK_COMPLETE`) });
    // THEN A's baseline stands, its termination protection on; B's intent withdrawn (the lift was not made)
    expect(created).not.toBe(dead.StackId);
    expect(await described()).toMatchObject({ StackId: created, StackStatus: 'CREATE_COMPLETE', EnableTerminationProtection: true });
    expect((await getTenant(tenant.tenantId))!.liftIntents).toBeUndefined();
  });

  it('keeps termination protection (moto has none): DeleteStack of a protected stack fails until it is lifted', async () => {
    // GIVEN a stack created with termination protection
    const cfn = await cfnIn();
    const body = JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } });
    await cfn.send(new CreateStackCommand({ StackName: 'guarded', TemplateBody: body, EnableTerminationProtection: true }));
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'guarded' }))).Stacks![0].EnableTerminationProtection).toBe(true);
    // WHEN / THEN
    await expect(cfn.send(new DeleteStackCommand({ StackName: 'guarded' }))).rejects.toThrow('Stack [guarded] cannot be deleted while TerminationProtection is enabled');
    await cfn.send(new UpdateTerminationProtectionCommand({ StackName: 'guarded', EnableTerminationProtection: false }));
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'guarded' }))).Stacks![0].EnableTerminationProtection).toBe(false);
    await cfn.send(new DeleteStackCommand({ StackName: 'guarded' }));
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'guarded' }))).rejects.toThrow(/does not exist/);
  });

  it('answers two creates of one stack name at once as AWS does: one creates it, the other is AlreadyExistsException (the race the shared account baseline handles), not a failure of the emulation', async () => {
    // Found by the hostile hadm (s15): two first onboardings into the shared workload account at once; the second
    // failed at Deploy account baseline with "moto refused the create of tessera-account-baseline ("Stack … already
    // exists") and the emulation cannot tell which resource" instead of AlreadyExistsException, which it waits on.
    const cfn = await cfnIn();
    const body = JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } });
    const answers = await Promise.allSettled([1, 2, 3].map(() => cfn.send(new CreateStackCommand({ StackName: 'raced', TemplateBody: body }))));
    expect(answers.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    for (const a of answers.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) expect(a.reason).toMatchObject({ name: 'AlreadyExistsException', message: 'Stack [raced] already exists' });
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'raced' }))).Stacks![0].StackStatus).toBe('CREATE_COMPLETE');
  });
});
