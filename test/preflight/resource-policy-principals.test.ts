import { describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { instantiate } from '../../lib/preflight/instantiate.js';
import { platformPrincipalsNotCreated, principalsNotYetCreated, SERVICE_RULES } from '../../lib/preflight/service-rules.js';
import { configWith } from '../support/config-with.js';

// resource-policy-principals-exist (lib/preflight/service-rules.ts): IAM, S3, KMS, Secrets Manager, SNS, SQS
// and ECR refuse a policy naming a role or user that does not exist yet. Small templates, instantiated as
// the preflight does; the blueprints themselves are checked by preflight.test.ts ("passes every service rule",
// the tier blueprint with the baseline, DR, failover and namespace stacks of its tier).
const ACCOUNT = '333333333333';
const role = (name: string, trust: unknown = { Service: 'lambda.amazonaws.com' }, extra: Record<string, unknown> = {}) => ({
  Type: 'AWS::IAM::Role', ...extra,
  Properties: { RoleName: name, AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: trust, Action: 'sts:AssumeRole' }] } },
});
const arnOf = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, `:role/${name}`]] });
const check = (resources: Record<string, unknown>, known: string[] = []) =>
  principalsNotYetCreated(instantiate({ Resources: resources } as unknown as CfnTemplate, { tenantId: 'acme', vpcCidr: '10.0.0.0/22', account: ACCOUNT, region: 'us-east-1' }), new Set(known));

describe('resource-policy-principals-exist', () => {
  it('refuses a trust policy naming a role of the stack by a built ARN without depending on it, and passes it with DependsOn or GetAtt', () => {
    const caller = role('tessera-acme-caller');
    expect(check({ Caller: caller, Target: role('tessera-acme-target', { AWS: arnOf('tessera-acme-caller') }) })).toEqual([
      `Target (AWS::IAM::Role) names arn:aws:iam::${ACCOUNT}:role/tessera-acme-caller (Caller) in its AssumeRolePolicyDocument without depending on it: add DependsOn Caller or name it by Fn::GetAtt Caller.Arn`,
    ]);
    expect(check({ Caller: caller, Target: role('tessera-acme-target', { AWS: arnOf('tessera-acme-caller') }, { DependsOn: 'Caller' }) })).toEqual([]);
    expect(check({ Caller: caller, Target: role('tessera-acme-target', { AWS: { 'Fn::GetAtt': ['Caller', 'Arn'] } }) })).toEqual([]);
    // Transitively: Target depends on Middle, which depends on Caller.
    expect(check({ Caller: caller, Middle: { ...role('tessera-acme-middle'), DependsOn: ['Caller'] }, Target: role('tessera-acme-target', { AWS: arnOf('tessera-acme-caller') }, { DependsOn: 'Middle' }) })).toEqual([]);
  });

  it('refuses a role that trusts its own ARN (it does not exist while it is created)', () => {
    expect(check({ Self: role('tessera-acme-self', { AWS: arnOf('tessera-acme-self') }) })).toEqual([
      `Self (AWS::IAM::Role) names itself (arn:aws:iam::${ACCOUNT}:role/tessera-acme-self) in its AssumeRolePolicyDocument: the role does not exist yet when it is created`,
    ]);
  });

  it('refuses a role of the account no stack deployed before creates, and passes one that is known, an account root, another account\'s role and a service', () => {
    const policy = (aws: unknown) => ({ Bucket: { Type: 'AWS::S3::Bucket', Properties: {} }, Policy: { Type: 'AWS::S3::BucketPolicy', Properties: { Bucket: { Ref: 'Bucket' }, PolicyDocument: { Statement: [{ Effect: 'Allow', Principal: { AWS: aws }, Action: 's3:GetObject', Resource: '*' }] } } } });
    expect(check(policy(arnOf('TesseraReader')))).toEqual([`Policy (AWS::S3::BucketPolicy) names arn:aws:iam::${ACCOUNT}:role/TesseraReader in its PolicyDocument, which neither this stack nor a stack deployed before it creates`]);
    expect(check(policy(arnOf('TesseraReader')), [`arn:aws:iam::${ACCOUNT}:role/TesseraReader`])).toEqual([]);
    expect(check(policy([`arn:aws:iam::${ACCOUNT}:root`, ACCOUNT, 'arn:aws:iam::444444444444:role/Other', '*']))).toEqual([]);
  });

  it('reads the policy of every type whose service checks its principals (ECR\'s as a JSON string too)', () => {
    const statement = { Effect: 'Allow', Principal: { AWS: arnOf('tessera-acme-reader') }, Action: '*' };
    const reader = role('tessera-acme-reader');
    const found = check({
      Reader: reader,
      Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: { Statement: [statement] } } },
      Secret: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
      SecretPolicy: { Type: 'AWS::SecretsManager::ResourcePolicy', Properties: { SecretId: { Ref: 'Secret' }, ResourcePolicy: { Statement: [statement] } } },
      Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
      TopicPolicy: { Type: 'AWS::SNS::TopicPolicy', Properties: { Topics: [{ Ref: 'Topic' }], PolicyDocument: { Statement: [statement] } } },
      Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
      QueuePolicy: { Type: 'AWS::SQS::QueuePolicy', Properties: { Queues: [{ Ref: 'Queue' }], PolicyDocument: { Statement: [statement] } } },
      Repository: { Type: 'AWS::ECR::Repository', Properties: { RepositoryPolicyText: JSON.stringify({ Statement: [{ ...statement, Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/tessera-acme-reader` } }] }) } },
    });
    expect(found.map((v) => v.split(' ')[0]).sort()).toEqual(['Key', 'QueuePolicy', 'Repository', 'SecretPolicy', 'TopicPolicy']);
  });

  it('checks the tier\'s other stacks with what was deployed before each (a failover key naming the home stack\'s roles)', async () => {
    const rule = SERVICE_RULES.find((r) => r.id === 'resource-policy-principals-exist')!;
    const config = configWith();
    const inst = (resources: Record<string, unknown>, region = 'us-east-1') => instantiate({ Resources: resources } as unknown as CfnTemplate, { tenantId: 'acme', vpcCidr: '10.0.0.0/22', account: ACCOUNT, region });
    const home = inst({ Admin: role('tessera-acme-admin') });
    const failover = inst({ Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: { Statement: [{ Effect: 'Allow', Principal: { AWS: arnOf('tessera-acme-admin') }, Action: 'kms:*' }] } } } }, 'us-west-2');
    const ctx = { inst: home, tierName: 'enterprise', tier: config.tiers.enterprise, config };
    expect(await rule.check({ ...ctx, alsoDeployed: [{ blueprint: 'enterprise-failover', inst: failover, deployedBefore: [home] }] })).toEqual([]);
    expect(await rule.check({ ...ctx, alsoDeployed: [{ blueprint: 'enterprise-failover', inst: failover, deployedBefore: [] }] })).toEqual([
      `enterprise-failover: Key (AWS::KMS::Key) names arn:aws:iam::${ACCOUNT}:role/tessera-acme-admin in its KeyPolicy, which neither this stack nor a stack deployed before it creates`,
    ]);
    // The provisioning role exists in every account before any stack.
    const named = inst({ Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: { Statement: [{ Effect: 'Allow', Principal: { AWS: arnOf(config.roles.provisioningRoleName) }, Action: 'kms:*' }] } } } });
    expect(await rule.check({ ...ctx, inst: named })).toEqual([]);
  });
});

// platform-principals-exist (lib/preflight/service-rules.ts): a tenant-side stack's policies name roles of the
// platform account (the router, the fine-tuning functions, break-glass); AWS refuses them unless the role exists
// there, and it exists only if the platform stack creates a role of exactly that ARN.
describe('platform-principals-exist', () => {
  const PLATFORM = '222222222222';
  const platformRole = (name: string) => `arn:aws:iam::${PLATFORM}:role/${name}`;
  const instAt = (resources: Record<string, unknown>, account: string, stackName?: string) =>
    instantiate({ Resources: resources } as unknown as CfnTemplate, { tenantId: account === PLATFORM ? 'platform' : 'acme', vpcCidr: '10.0.0.0/16', account, region: 'us-east-1', stackName, lenient: true });
  const platform = instAt({
    Router: role('tessera-gateway-router'),
    Generated: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: { Statement: [] } } },
  }, PLATFORM, 'TesseraPlatform');
  const generatedArn = platform.resources.Generated.arn;
  const trusting = (...principals: string[]) => instAt({ Invoker: role('tessera-acme-model-invoker', { AWS: principals }) }, ACCOUNT);

  it('passes a role the platform stack creates by name, and leaves account roots, other accounts, services and "*" alone', () => {
    expect(platformPrincipalsNotCreated(trusting(platformRole('tessera-gateway-router'), `arn:aws:iam::${PLATFORM}:root`, PLATFORM, 'arn:aws:iam::444444444444:role/TesseraIdp', '*'), PLATFORM, platform)).toEqual([]);
    expect(platformPrincipalsNotCreated(instAt({ Invoker: role('tessera-acme-model-invoker', { Service: 'lambda.amazonaws.com' }) }, ACCOUNT), PLATFORM, platform)).toEqual([]);
  });

  it('refuses a role the platform stack does not create, naming the nearest role it has', () => {
    expect(platformPrincipalsNotCreated(trusting(platformRole('tessera-gateway-routr')), PLATFORM, platform)).toEqual([
      `Invoker (AWS::IAM::Role) names ${platformRole('tessera-gateway-routr')} in its AssumeRolePolicyDocument, which the platform stack (TesseraPlatform) does not create: its nearest role is tessera-gateway-router (Router)`,
    ]);
  });

  it('refuses a role whose name the platform stack leaves to CloudFormation, even at the ARN the preflight models for it', () => {
    expect(generatedArn).toMatch(/:role\/TesseraPlatform-Generated-/);
    expect(platformPrincipalsNotCreated(trusting(generatedArn), PLATFORM, platform)).toEqual([
      `Invoker (AWS::IAM::Role) names ${generatedArn} in its AssumeRolePolicyDocument, which is the platform stack's Generated, whose name CloudFormation generates (no RoleName): another stack cannot know it; set its name in the platform stack`,
    ]);
  });

  it('leaves stacks of the platform account to resource-policy-principals-exist, where the platform stack\'s roles are deployed before', () => {
    const namespace = instAt({ Bridge: role('tessera-acme-pod-bridge', { AWS: platformRole('tessera-gateway-routr') }) }, PLATFORM, 'tessera-acme-namespace');
    expect(platformPrincipalsNotCreated(namespace, PLATFORM, platform)).toEqual([]);
  });

  it('checks every stack of the tier through the rule, each violation naming its stack; without the platform stack a platform principal is a violation', async () => {
    const rule = SERVICE_RULES.find((r) => r.id === 'platform-principals-exist')!;
    const config = { ...configWith(), platformAccountId: PLATFORM };
    const ctx = { inst: trusting(platformRole('tessera-gateway-router')), tierName: 'enterprise', tier: config.tiers.enterprise, config, platform };
    const key = instAt({ Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: { Statement: [{ Effect: 'Allow', Principal: { AWS: platformRole('tessera-break-glass') }, Action: 'kms:*' }] } } } }, ACCOUNT);
    expect(await rule.check(ctx)).toEqual([]);
    expect(await rule.check({ ...ctx, alsoDeployed: [{ blueprint: 'enterprise-failover', inst: key, deployedBefore: [] }] })).toEqual([
      `enterprise-failover: Key (AWS::KMS::Key) names ${platformRole('tessera-break-glass')} in its KeyPolicy, which the platform stack (TesseraPlatform) does not create: its nearest role is tessera-gateway-router (Router)`,
    ]);
    expect(await rule.check({ ...ctx, platform: undefined })).toEqual([
      `enterprise.template.json: Invoker (AWS::IAM::Role) names ${platformRole('tessera-gateway-router')} in its AssumeRolePolicyDocument, a role of the platform account: no platform stack to check it against`,
    ]);
  });
});
