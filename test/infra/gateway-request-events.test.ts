import { beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_ENV } from '../../lambdas/inference/gateway-env.js';
import { GATEWAY_EVENT_SOURCE, REQUEST_COMPLETED_EVENT } from '../../lambdas/inference/request-events.js';
import { PLATFORM_ROLE_NAMES } from '../../lib/fine-tuning.js';
import { defaultAppTemplates, type ValidationReport } from '../support/default-app.js';

// Gap review s32, gap 8 "In AWS": the router puts `Gateway Request Completed` on the platform bus, and only that.
type Resource = { Type: string; Properties: Record<string, any> };
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };
let resources: Record<string, Resource>;
let report: ValidationReport;

beforeAll(() => {
  const app = defaultAppTemplates();
  resources = app.platformWithPolicies.toJSON().Resources as Record<string, Resource>;
  report = app.validationReport;
}, 240_000);

const roleIdOf = (roleName: string) => Object.entries(resources).find(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === roleName)![0];
const statementsOfRole = (roleName: string): Statement[] => {
  const roleId = roleIdOf(roleName);
  return Object.values(resources).filter((p) => p.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(p.Properties.Roles ?? []).includes(`"${roleId}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
};

describe('the router\'s request events', () => {
  it('may PutEvents on the platform bus only entries from tessera.gateway of detail-type Gateway Request Completed, the bus it is told', () => {
    const router = statementsOfRole(PLATFORM_ROLE_NAMES.router);
    const grant = router.find((s) => s.Sid === 'GatewayRequestEvents');
    expect(grant).toEqual({
      Sid: 'GatewayRequestEvents', Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^LifecycleEventsBus/), 'Arn'] },
      Condition: {
        'ForAllValues:StringEquals': { 'events:source': [GATEWAY_EVENT_SOURCE], 'events:detail-type': [REQUEST_COMPLETED_EVENT] },
        Null: { 'events:source': 'false', 'events:detail-type': 'false' },
      },
    });
    const roleId = roleIdOf(PLATFORM_ROLE_NAMES.router);
    const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties.Role) === JSON.stringify({ 'Fn::GetAtt': [roleId, 'Arn'] }))!;
    expect(fn.Properties.Environment.Variables[GATEWAY_ENV.eventBus]).toEqual({ Ref: (grant!.Resource as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0] });
  });

  it('cdk-nag finds nothing open on the router\'s policy', () => {
    const open = report.pluginReports.flatMap((r) => (r.violations as Array<{ ruleName?: string; violatingConstructs?: Array<{ constructPath: string }> }>)
      .filter((v) => v.violatingConstructs?.some((c) => /Router/i.test(c.constructPath)))
      .map((v) => ({ plugin: r.pluginName, rule: v.ruleName })));
    expect(open).toEqual([]);
  });
});
