import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { getTenant, updateTenant } from '../../lambdas/shared/registry.js';
import { publishVariant } from './support/blueprint-catalog.js';
import { awsParameterValue } from './support/cloudformation-emulation.js';
import type { CfnTemplate } from './support/derive-moto-blueprint.js';
import { inject } from './support/faults.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

const local = useLocalLifecycle();
const { config } = local;

// docs/upgrading-and-teardown.md's "Rolling back a tier" (tessera tenants update <id> --blueprint-version <old>) for a tenant whose recorded
// zones are not Fn::GetAZs' first (chosen while a zone was impaired, or past an EKS-unsupported zone ID). A hostile review's
// finding: the rollback went through. moto does not move subnets on a stack update, so the test asserts the refusal
// (before any stack operation: the stack stays at the version it had) rather than the move.
describe('rollback to a blueprint version without AvailabilityZones', () => {
  it('refuses it when the tenant\'s zones (b, c) are not the ones Fn::GetAZs gives that template (a, b): its subnets would move', async () => {
    const platformS3 = new S3Client({ credentials: local.fixture.platform, forcePathStyle: true });
    const withoutZones = (version: string) => (t: CfnTemplate) => {
      delete t.Parameters!.AvailabilityZones;
      (t.Outputs as Record<string, { Value: unknown }>).BlueprintVersion.Value = version;
      const visit = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(visit);
        if (v && typeof v === 'object') {
          if ((v as { Ref?: string }).Ref === 'AvailabilityZones') return { 'Fn::GetAZs': '' };
          return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, visit(x)]));
        }
        return v;
      };
      t.Resources = visit(t.Resources) as CfnTemplate['Resources'];
    };
    await publishVariant(platformS3, 'tessera-blueprints', local.fixture.catalog, { from: '1.0.0', version: '0.9.0', name: 'starter', change: withoutZones('0.9.0') });
    // GIVEN a tenant onboarded on the current version in us-east-1b, us-east-1c (as the chooser gives when us-east-1a is impaired), recorded so
    const removed = inject('zones-rollback', (next, context) => async (args) => {
      if (context.commandName === 'CreateStackCommand' && args.input.StackName === 'tessera-globex') {
        args.input.Parameters = args.input.Parameters.map((p: { ParameterKey: string }) => (p.ParameterKey === 'AvailabilityZones' ? { ...p, ParameterValue: 'us-east-1b,us-east-1c' } : p));
      }
      return next(args);
    });
    local.cleanups.push(removed);
    const onboarded = await local.workflows.run('onboard', onboardRequest('globex', 'starter'));
    removed();
    expect(onboarded.error).toBeUndefined();
    await updateTenant('globex', { availabilityZones: ['us-east-1b', 'us-east-1c'], availabilityZoneIds: undefined });
    const ec2 = new EC2Client({ credentials: await local.fixture.as(config.workloadAccountId) });
    const zonesOf = async () => [...new Set((await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [(await getTenant('globex'))!.stackOutputs.VpcId] }] })))
      .Subnets!.map((sn) => sn.AvailabilityZone))].sort();
    const before = await zonesOf();
    expect(before).toEqual(['us-east-1b', 'us-east-1c']);
    // WHEN rolled back to 0.9.0 (docs/upgrading-and-teardown.md "Rolling back a tier")
    const run = await local.workflows.run('change', { request: { tenantId: 'globex', requestId: 'req-zones-rollback' }, change: { blueprintVersion: '0.9.0' } });
    const cfn = new CloudFormationClient({ credentials: await local.fixture.as(config.workloadAccountId) });
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-globex' }))).Stacks![0];
    const after = await zonesOf();
    // THEN refused (InvalidRequest, terminal) before any stack operation, naming both zone lists
    expect(run.error).toMatchObject({ error: 'InvalidRequest' });
    expect(String((run.error as { cause?: string }).cause)).toMatch(/subnets are in us-east-1b, us-east-1c \(as recorded\).*version 0\.9\.0\) has no AvailabilityZones parameter.*Fn::GetAZs, which here gives us-east-1a, us-east-1b .*would move the subnets \(us-east-1b → us-east-1a, us-east-1c → us-east-1b\)/);
    expect(after).toEqual(before);
    expect(stack.Outputs!.find((o) => o.OutputKey === 'BlueprintVersion')?.OutputValue).toBe('1.0.0');
    expect(awsParameterValue(stack.Parameters!.find((p) => p.ParameterKey === 'AvailabilityZones')?.ParameterValue)).toBe('us-east-1b,us-east-1c');
    expect(await getTenant('globex')).toMatchObject({ blueprintVersion: '1.0.0', availabilityZones: ['us-east-1b', 'us-east-1c'] });
  }, 600_000);
});
