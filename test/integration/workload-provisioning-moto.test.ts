import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetPolicyCommand, GetPolicyVersionCommand, GetRoleCommand, IAMClient, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultAppTemplates } from '../support/default-app.js';
import { startMoto, type MotoServer } from './support/moto-server.js';

/**
 * The workload account's provisioning-role template, as the platform publishes it, created in moto
 * the way the deploy guide creates it (a stack with the `BlueprintBucketName` parameter, named
 * outside `tessera-*`). moto creates the role and its policies from the template; it evaluates none
 * of them, so what the policies allow is asserted with the IAM simulator in
 * test/infra/workload-provisioning-stack.test.ts.
 */
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
let moto: MotoServer;
let body: string;

beforeAll(async () => {
  moto = await startMoto();
  // The default app's template (buildApp() of the default config), through its shared disk cache.
  body = JSON.stringify(defaultAppTemplates().workloadProvisioning.toJSON());
}, 120_000);
afterAll(async () => {
  await moto?.stop();
});

describe('TesseraWorkloadProvisioning in moto', () => {
  it('creates TesseraProvisioning with its trust and both managed policies, and outputs its ARN', async () => {
    const cfn = new CloudFormationClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials });
    const iam = new IAMClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials });
    // WHEN
    await cfn.send(new CreateStackCommand({
      StackName: 'TesseraWorkloadProvisioning', TemplateBody: body, Capabilities: ['CAPABILITY_NAMED_IAM'],
      Parameters: [{ ParameterKey: 'BlueprintBucketName', ParameterValue: 'tesseraplatform-blueprintsbucket-abc123' }],
    }));
    // THEN
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'TesseraWorkloadProvisioning' }))).Stacks![0];
    expect(stack.StackStatus).toBe('CREATE_COMPLETE');
    expect(stack.Outputs?.find((o) => o.OutputKey === 'ProvisioningRoleArn')?.OutputValue).toBe('arn:aws:iam::123456789012:role/TesseraProvisioning');
    const role = (await iam.send(new GetRoleCommand({ RoleName: 'TesseraProvisioning' }))).Role!;
    const trust = JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument!));
    expect(trust.Statement).toEqual([expect.objectContaining({
      Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: 'arn:aws:iam::111111111111:root' },
      Condition: { ArnLike: { 'aws:PrincipalArn': ['arn:aws:iam::111111111111:role/TesseraOrganizationAccess', 'arn:aws:iam::111111111111:role/tessera-lifecycle-*'] } },
    })]);
    const attached = (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'TesseraProvisioning' }))).AttachedPolicies!;
    expect(attached.map((p) => p.PolicyName).sort()).toEqual(['TesseraProvisioning-Operations', 'TesseraProvisioning-Stacks']);
    const stacksPolicy = attached.find((p) => p.PolicyName === 'TesseraProvisioning-Stacks')!;
    const version = (await iam.send(new GetPolicyCommand({ PolicyArn: stacksPolicy.PolicyArn }))).Policy!.DefaultVersionId;
    const document = JSON.parse(decodeURIComponent((await iam.send(new GetPolicyVersionCommand({ PolicyArn: stacksPolicy.PolicyArn, VersionId: version }))).PolicyVersion!.Document!));
    expect(document.Statement.find((s: { Sid: string }) => s.Sid === 'ReadBlueprintTemplates').Resource).toBe('arn:aws:s3:::tesseraplatform-blueprintsbucket-abc123/blueprints/*');
    expect(document.Statement.find((s: { Sid: string }) => s.Sid === 'TesseraStacks').Resource).toBe('arn:aws:cloudformation:us-east-1:123456789012:stack/tessera-*/*');
  });
});
