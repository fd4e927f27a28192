import { describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { instantiate } from '../../lib/preflight/instantiate.js';
import { platformPrincipalConditionsUnmatched, principalArnConditions, SERVICE_RULES } from '../../lib/preflight/service-rules.js';
import { IDENTITY_CENTER_TENANT_ADMIN_ROLES } from '../../lib/tenant-naming.js';
import { configWith } from '../support/config-with.js';

// platform-principal-conditions-match (lib/preflight/service-rules.ts): tenant stacks trust the platform account's root
// and name the platform's roles in aws:PrincipalArn conditions, which AWS does not resolve at create. Small templates,
// instantiated as the preflight does; the blueprints themselves: preflight.test.ts (every tier passes, and the
// self-test's planted misspelling), dr-tier.ts (the DR config).
const ACCOUNT = '333333333333';
const PLATFORM = '222222222222';
const platformRole = (name: string) => `arn:aws:iam::${PLATFORM}:role/${name}`;
const instAt = (resources: Record<string, unknown>, account: string, stackName?: string) =>
  instantiate({ Resources: resources } as unknown as CfnTemplate, { tenantId: account === PLATFORM ? 'platform' : 'acme', vpcCidr: '10.0.0.0/16', account, region: 'us-east-1', stackName, lenient: true });
const role = (name: string | undefined, condition?: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  Type: 'AWS::IAM::Role',
  Properties: {
    ...(name ? { RoleName: name } : {}), ...extra,
    AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PLATFORM}:root` }, Action: 'sts:AssumeRole', ...(condition ? { Condition: condition } : {}) }] },
  },
});
const platform = instAt({
  Router: role('tessera-gateway-router'),
  FineTuningApi: role('tessera-fine-tuning-api'),
  Flow: role('tessera-flow-logs', undefined, { Path: '/tessera/service-role/' }),
  Generated: role(undefined),
}, PLATFORM, 'TesseraPlatform');
const invoker = (condition: Record<string, unknown>) => instAt({ Invoker: role('tessera-acme-model-invoker', condition) }, ACCOUNT);
const check = (condition: Record<string, unknown>, declared: string[] = []) => platformPrincipalConditionsUnmatched(invoker(condition), PLATFORM, [platform], declared);

describe('platform-principal-conditions-match', () => {
  it('passes a value naming a role the platform stack creates by name (path form too), and leaves other accounts, account wildcards and roots alone', () => {
    expect(check({ ArnEquals: { 'aws:PrincipalArn': [platformRole('tessera-gateway-router'), platformRole('tessera-fine-tuning-api')] } })).toEqual([]);
    expect(check({ StringEquals: { 'aws:PrincipalArn': platformRole('tessera/service-role/tessera-flow-logs') } })).toEqual([]);
    expect(check({ ArnLike: { 'aws:PrincipalArn': ['arn:aws:iam::444444444444:role/Nope', 'arn:aws:iam::*:role/Nope', `arn:aws:iam::${PLATFORM}:root`] } })).toEqual([]);
  });

  it('refuses a misspelled role, naming the resource, policy, statement, operator, value and the nearest platform role', () => {
    expect(check({ ArnEquals: { 'aws:PrincipalArn': platformRole('tessera-gateway-ruoter') } })).toEqual([
      `Invoker (AWS::IAM::Role) AssumeRolePolicyDocument statement #0: ArnEquals aws:PrincipalArn ${platformRole('tessera-gateway-ruoter')} matches no role of the platform account (TesseraPlatform, the namespace stack, no declared patterns): its nearest role is tessera-gateway-router (Router)`,
    ]);
    // The role's path is part of its ARN: the name alone does not match a role under /tessera/service-role/.
    expect(check({ StringEquals: { 'aws:PrincipalArn': platformRole('tessera-flow-logs') } })).toEqual([expect.stringMatching(/matches no role .*: its nearest role is tessera\/service-role\/tessera-flow-logs \(Flow\)$/)]);
    // StringEquals has no wildcards; IgnoreCase ignores case.
    expect(check({ StringEquals: { 'aws:PrincipalArn': platformRole('tessera-gateway-*') } })).toHaveLength(1);
    expect(check({ StringEqualsIgnoreCase: { 'aws:PrincipalArn': platformRole('Tessera-Gateway-Router') } })).toEqual([]);
    // A role whose name CloudFormation generates cannot be named by another stack.
    expect(check({ ArnEquals: { 'aws:PrincipalArn': platform.resources.Generated.arn } })).toEqual([expect.stringMatching(/matches no role .*\(Generated, a name CloudFormation generates\)$/)]);
  });

  it('matches globs (StringLike, ArnLike, ArnEquals, with ForAnyValue and IfExists), and refuses a glob that matches no role', () => {
    expect(check({ StringLike: { 'aws:PrincipalArn': platformRole('tessera-gateway-*') } })).toEqual([]);
    expect(check({ 'ForAnyValue:ArnLike': { 'aws:PrincipalArn': platformRole('tessera-fine-tuning-???') } })).toEqual([]);
    expect(check({ ArnEqualsIfExists: { 'aws:principalarn': `arn:*:iam::${PLATFORM}:role/*/tessera-flow-*` } })).toEqual([]);
    expect(check({ ArnLike: { 'aws:PrincipalArn': platformRole('tessera-gatway-*') } })).toEqual([
      `Invoker (AWS::IAM::Role) AssumeRolePolicyDocument statement #0: ArnLike aws:PrincipalArn ${platformRole('tessera-gatway-*')} matches no role of the platform account (TesseraPlatform, the namespace stack, no declared patterns): its nearest role is tessera-gateway-router (Router)`,
    ]);
    // Negated operators name roles too (an exemption that names no role exempts nobody).
    expect(check({ ArnNotLike: { 'aws:PrincipalArn': platformRole('TesseraBreakGlas') } })).toHaveLength(1);
  });

  it('refuses an assumed-role ARN (a role session\'s aws:PrincipalArn is its role\'s ARN), naming the role to use or the nearest one', () => {
    expect(check({ ArnLike: { 'aws:PrincipalArn': `arn:aws:sts::${PLATFORM}:assumed-role/tessera-gateway-router/*` } })).toEqual([
      `Invoker (AWS::IAM::Role) AssumeRolePolicyDocument statement #0: ArnLike aws:PrincipalArn arn:aws:sts::${PLATFORM}:assumed-role/tessera-gateway-router/* is an assumed-role (session) ARN, which aws:PrincipalArn never holds (a role session's is its role's ARN, arn:aws:iam::${PLATFORM}:role/<path><name>): name the role, ${platformRole('tessera-gateway-router')} (Router)`,
    ]);
    expect(check({ ArnLike: { 'aws:PrincipalArn': `arn:aws:sts::${PLATFORM}:assumed-role/tessera-flow-logs/*` } })).toEqual([expect.stringMatching(/name the role, arn:aws:iam::222222222222:role\/tessera\/service-role\/tessera-flow-logs \(Flow\)$/)]);
    expect(check({ ArnLike: { 'aws:PrincipalArn': `arn:aws:sts::${PLATFORM}:assumed-role/tessera-gateway-ruoter/*` } })).toEqual([expect.stringMatching(/and the platform account has no role tessera-gateway-ruoter: its nearest role is tessera-gateway-router \(Router\)$/)]);
  });

  it('passes the Identity Center role patterns the config declares (roles.tenantAdminRoleNamePatterns), verbatim', () => {
    const sso = platformRole(IDENTITY_CENTER_TENANT_ADMIN_ROLES[0]);
    expect(check({ ArnLike: { 'aws:PrincipalArn': sso } }, [...IDENTITY_CENTER_TENANT_ADMIN_ROLES])).toEqual([]);
    expect(check({ ArnLike: { 'aws:PrincipalArn': sso.replace('TenantAdmin', 'TenantAdmn') } }, [...IDENTITY_CENTER_TENANT_ADMIN_ROLES])).toHaveLength(1);
  });

  it('reads every policy of a resource (identity policies, JSON-string policies), naming the property path and the Sid', () => {
    const props = {
      Policies: [{ PolicyName: 'p', PolicyDocument: { Statement: [{ Sid: 'Other', Effect: 'Allow', Action: '*', Resource: '*' }, { Sid: 'OnlyRouter', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringNotEquals: { 'aws:PrincipalArn': 'x' } } }] } }],
      RepositoryPolicyText: JSON.stringify({ Statement: { Effect: 'Allow', Principal: '*', Action: '*', Condition: { ArnEquals: { 'aws:PrincipalArn': ['y', 'z'] } } } }),
    };
    expect(principalArnConditions(props)).toEqual([
      { property: 'Policies[0].PolicyDocument', statement: 'OnlyRouter', operator: 'StringNotEquals', value: 'x' },
      { property: 'RepositoryPolicyText', statement: '#0', operator: 'ArnEquals', value: 'y' },
      { property: 'RepositoryPolicyText', statement: '#0', operator: 'ArnEquals', value: 'z' },
    ]);
  });

  it('checks every stack of the tier and the platform stack itself, with the namespace stack\'s roles as the platform account\'s, through the rule', async () => {
    const rule = SERVICE_RULES.find((r) => r.id === 'platform-principal-conditions-match')!;
    const config = { ...configWith(), platformAccountId: PLATFORM };
    const tenant = instAt({ Workload: role('tessera-acme-workload', { ArnEquals: { 'aws:PrincipalArn': platformRole('tessera-acme-pod-bridge') } }) }, ACCOUNT);
    const namespace = instAt({ Bridge: role('tessera-acme-pod-bridge') }, PLATFORM, 'tessera-acme-namespace');
    const ctx = { inst: tenant, tierName: 'starter', tier: config.tiers.starter, config, platform };
    expect(await rule.check({ ...ctx, alsoDeployed: [{ blueprint: 'starter-namespace.template.json', inst: namespace, deployedBefore: [platform] }] })).toEqual([]);
    expect(await rule.check(ctx)).toEqual([expect.stringMatching(/^starter\.template\.json: Workload \(AWS::IAM::Role\) AssumeRolePolicyDocument statement #0: ArnEquals aws:PrincipalArn arn:aws:iam::222222222222:role\/tessera-acme-pod-bridge matches no role/)]);
    // The platform stack's own policies: a role of its own by Fn::GetAtt (a generated name) passes, a misspelled literal does not.
    const selfNaming = instAt({
      Generated: role(undefined),
      Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: { Statement: [{ Sid: 'Admins', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PLATFORM}:root` }, Action: 'kms:*', Resource: '*', Condition: { ArnEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': ['Generated', 'Arn'] }, platformRole('TesseraBrakeGlass')] } } }] } } },
    }, PLATFORM, 'TesseraPlatform');
    expect(await rule.check({ ...ctx, platform: selfNaming })).toEqual([
      expect.stringMatching(/^starter\.template\.json: Workload .* matches no role/),
      expect.stringMatching(/^TesseraPlatform: Key \(AWS::KMS::Key\) KeyPolicy statement Admins: ArnEquals aws:PrincipalArn arn:aws:iam::222222222222:role\/TesseraBrakeGlass matches no role of the platform account .*: its nearest role is /),
    ]);
  });
});
