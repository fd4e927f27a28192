import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/shared/environment.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { publishVariant } from './support/blueprint-catalog.js';
import type { CfnTemplate } from './support/derive-moto-blueprint.js';
import { inject } from './support/faults.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';
import { evaluateString } from './support/named-resources.js';

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
    expect(await stackStatus('tessera-wayne')).toBe('CREATE_COMPLETE');
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
    // the database, created alongside, cannot be rolled back (DeletionProtection: see the last test)
    expect(rerun.error?.message).toMatch(/StackFailed/);
    expect(rollbackOf('tessera-oscorp', 1)).toMatchObject({ status: 'ROLLBACK_FAILED', failure: { logicalId: flowLogs.id, injected: false, reason: 'The specified log group already exists' } });
    const record = await getTenant('oscorp');
    expect(record).toMatchObject({ status: 'FAILED', failure: { step: 'Check blueprint' } });
    expect(record!.failure!.reason).toContain(`tessera-oscorp is ROLLBACK_FAILED: ${flowLogs.id} CREATE_FAILED: The specified log group already exists`);
    expect(await logGroupExists(flowLogs.name)).toBe(true);
  });

  it('a create that fails after the database exists rolls back to ROLLBACK_FAILED on its deletion protection, and the re-run still succeeds', async () => {
    // GIVEN a VPC endpoint of the first create fails (the account is at its endpoint quota): the database, which does not need it, was created
    const endpoint = Object.keys(starter().Resources).find((id) => starter().Resources[id].Type === 'AWS::EC2::VPCEndpoint')!;
    local.fixture.cloudFormation.failCreate('tessera-initech', endpoint, 'Resource handler returned message: "The maximum number of VPC endpoints has been reached. (Service: Ec2, Status Code: 400)" (HandlerErrorCode: ServiceLimitExceeded)');
    // WHEN
    const run = await local.workflows.run('onboard', onboardRequest('initech', 'starter'));
    // THEN the rollback could not delete the protected database (as the RDS resource provider's delete handler cannot)
    expect(run.error?.message).toMatch(/StackFailed/);
    const rollback = rollbackOf('tessera-initech');
    expect(rollback).toMatchObject({ status: 'ROLLBACK_FAILED', failure: { logicalId: endpoint } });
    expect(rollback.plan.refused).toEqual([logicalIdOf(starter(), 'AWS::RDS::DBInstance')]);
    // WHEN the same request runs again, THEN the dead stack (and its protection) must not stand in the way
    const rerun = await local.workflows.run('onboard', onboardRequest('initech', 'starter'));
    expect(rerun.error).toBeUndefined();
    expect(await getTenant('initech')).toMatchObject({ status: 'ACTIVE' });
    expect(await stackStatus('tessera-initech')).toBe('CREATE_COMPLETE');
  });
});
