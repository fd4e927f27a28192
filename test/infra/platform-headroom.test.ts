import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { reservedConcurrency } from '../../lib/lambda-concurrency.js';
import { appTemplates, defaultAppTemplates, type AppTemplates } from '../support/default-app.js';
import { configWith } from '../support/synth.js';

/**
 * CloudFormation refuses a template of more than 500 resources or 200 parameters (CloudFormation
 * quotas), and aws-cdk-lib stops synth at 500. `cdk synth` adds one resource of its own to each
 * stack, nested stacks included (`AWS::CDK::Metadata`, version reporting; the test apps have none),
 * so a stack's own resources may be 499.
 */
const RESOURCE_LIMIT = 500;
const PARAMETER_LIMIT = 200;
const CDK_METADATA = 1;
/**
 * Headroom every platform template must keep, in resources and parameters, with the largest
 * config below: a platform feature has added 1 to 13 resources so far (a route 2-3, the budget
 * mail 6 in TesseraPlatform with its rule and invoke permission in EventRules, its Lambda's policy
 * in FunctionPolicies and 3 in Operations, the DR restore-test recorder 13 in Operations), and each
 * tier beyond the three adds 1 to TesseraPlatform (its usage plan) and 4 to Operations (its
 * dashboard and Contributor Insights rules). 25 is two features of the largest kind, or 25 more
 * tiers, before a change must make room (docs/measured.md "Room in TesseraPlatform"). With the
 * largest config, 2026-12-05, after the platform's EventBridge rules moved into EventRules:
 * TesseraPlatform 462 resources (38 free; 475 before the move), FunctionPolicies 66 and 136
 * parameters, Operations 124 and 99 parameters, EventRules 15 and 19 parameters (each with the
 * metadata resource).
 */
const HEADROOM = 25;

/**
 * The largest config the schema accepts with the default tiers: every key that adds platform
 * resources set. Platform DR (registry copy role and policy), DR on every tier (the restore-test
 * recorder in Operations), budget alert mail on every tier (rule, Lambda, dead-letter queue), alarm
 * emails (one subscription each: two here), the OpenAI-compatible provider. Tiers are not bounded
 * by the schema: more of them cost what HEADROOM says.
 */
export const LARGEST_CONFIG = {
  platformDisasterRecovery: { region: 'us-west-2' },
  operations: { alarmEmails: ['ops@example.com', 'oncall@example.com'] },
  gateway: { providers: { 'openai-compatible': { baseUrl: 'https://llm.example.com/v1', apiKeySecretId: 'tessera/providers/openai-compatible' } } },
  tiers: Object.fromEntries(['starter', 'professional', 'enterprise'].map((tier) => [tier, {
    budgetAlerts: { emailTenantAdmins: true, senderEmail: 'alerts@example.com' },
    disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 },
  }])),
};

/** Resources and parameters of each platform template, with the one `cdk synth` adds to each. */
function platformCounts(built: AppTemplates): Record<string, { resources: number; parameters: number }> {
  const count = (t: Template, extra = 0) => {
    const json = t.toJSON() as { Resources?: object; Parameters?: object };
    return { resources: Object.keys(json.Resources ?? {}).length + extra, parameters: Object.keys(json.Parameters ?? {}).length };
  };
  return {
    TesseraPlatform: count(built.platform, CDK_METADATA),
    'TesseraPlatform/Operations': count(built.operations, CDK_METADATA),
    'TesseraPlatform/FunctionPolicies': count(built.functionPolicies, CDK_METADATA),
    'TesseraPlatform/EventRules': count(built.eventRules, CDK_METADATA),
    ...(built.namespaceKubectl ? { 'TesseraPlatform/NamespaceKubectl': count(built.namespaceKubectl, CDK_METADATA) } : {}),
    ...(built.clusterAutoscaler ? { 'TesseraPlatform/ClusterAutoscaler': count(built.clusterAutoscaler, CDK_METADATA) } : {}),
  };
}

function shortOfHeadroom(built: AppTemplates, config: string): string[] {
  return Object.entries(platformCounts(built)).flatMap(([stack, { resources, parameters }]) => [
    ...(RESOURCE_LIMIT - resources < HEADROOM ? [`${stack} (${config}): ${resources} resources, ${RESOURCE_LIMIT - resources} below CloudFormation's limit of ${RESOURCE_LIMIT}; keep at least ${HEADROOM} free: put the new resources in a nested stack (docs/measured.md "Room in TesseraPlatform")`] : []),
    ...(PARAMETER_LIMIT - parameters < HEADROOM ? [`${stack} (${config}): ${parameters} parameters, ${PARAMETER_LIMIT - parameters} below CloudFormation's limit of ${PARAMETER_LIMIT}; keep at least ${HEADROOM} free`] : []),
  ]);
}

describe('room in the platform templates (CloudFormation: 500 resources, 200 parameters per template)', () => {
  it(`keeps ${HEADROOM} resources and parameters free in each platform template with the default config`, () => {
    // GIVEN the default app, synthesized once for every file that reads it
    const built = defaultAppTemplates();
    // THEN
    expect(shortOfHeadroom(built, 'default config')).toEqual([]);
  });

  it(`keeps ${HEADROOM} free with the largest config (every key that adds platform resources set)`, async () => {
    // GIVEN the largest config (budget alert mail alone took the old TesseraPlatform to 506)
    // WHEN it is synthesized (compliance packs and CloudFormation validation included)
    const built = await appTemplates(LARGEST_CONFIG);
    // THEN
    expect(shortOfHeadroom(built, 'largest config')).toEqual([]);
    // A whole-app synth with the compliance packs, cold on a fresh clone: it took more than the
    // suite's 120 s on this 2-core machine with other test processes beside it. A limit, not a target.
  }, 360_000);
});

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/**
 * Role name → `ReservedConcurrentExecutions` of each function of TesseraPlatform and its Operations
 * nested stack that reserves concurrency (a function's role is `Fn::GetAtt [<role>, Arn]` of a role
 * with a fixed `RoleName` in the same template; one that is not is keyed by its logical id, which no
 * role name matches).
 */
function templateReservations(built: AppTemplates): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of [built.platform, built.operations]) {
    const resources = (t.toJSON() as { Resources: Resources }).Resources;
    for (const [id, r] of Object.entries(resources)) {
      const reserved = r.Properties?.ReservedConcurrentExecutions;
      if (r.Type !== 'AWS::Lambda::Function' || reserved === undefined) continue;
      const roleId = (r.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
      const roleName = roleId ? resources[roleId]?.Properties?.RoleName : undefined;
      const key = typeof roleName === 'string' ? roleName : id;
      expect(out[key], `two functions with role ${key}`).toBeUndefined();
      out[key] = reserved as number;
    }
  }
  return out;
}

describe('reserved concurrency: reservedConcurrency(config) is what the templates reserve (tessera doctor checks the quota with it)', () => {
  const expected = (config: ReturnType<typeof configWith>) => Object.fromEntries(reservedConcurrency(config).functions.map((f) => [f.roleName, f.reservedConcurrency]));
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

  it('default config: each function\'s ReservedConcurrentExecutions and the total', () => {
    // GIVEN the default app
    const built = defaultAppTemplates();
    // WHEN its functions' reservations are read from the templates
    const found = templateReservations(built);
    // THEN they are reservedConcurrency's parts, function by function, and its total
    expect(found).toEqual(expected(configWith()));
    expect(sum(found)).toBe(reservedConcurrency(configWith()).total);
    expect(reservedConcurrency(configWith()).total).toBe(727);
  });

  it('largest config (budget alert mail, DR restore-test recorder): each function and the total', async () => {
    // GIVEN the largest config, which adds the mail Lambda and the restore-test recorder
    const built = await appTemplates(LARGEST_CONFIG);
    // WHEN its functions' reservations are read from the templates
    const found = templateReservations(built);
    // THEN
    expect(found).toEqual(expected(configWith(LARGEST_CONFIG)));
    expect(sum(found)).toBe(reservedConcurrency(configWith(LARGEST_CONFIG)).total);
    expect(reservedConcurrency(configWith(LARGEST_CONFIG)).total).toBe(734);
  }, 360_000);

  it('an external JWT issuer: no tenant users function, 10 fewer', () => {
    const config = configWith({ gateway: { jwt: { issuer: 'https://idp.example.com', jwksUri: 'https://idp.example.com/jwks.json', audience: 'tessera' } } });
    const { functions, total } = reservedConcurrency(config);
    expect(functions.map((f) => f.name)).not.toContain('tenantUsers');
    expect(total).toBe(717);
  });
});
