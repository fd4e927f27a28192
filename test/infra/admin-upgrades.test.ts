import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/shared/environment.js';
import { defaultAppTemplates } from '../support/default-app.js';

/**
 * A tier's rolling upgrade was started with `aws stepfunctions start-execution` under a platform-account admin
 * profile: TesseraPlatformAdminAccess (execute-api:Invoke on /admin/* only) could not, and the admin API had no route.
 * POST /admin/upgrades starts it with the admin API's own role: StartExecution on the upgrade state machine's ARN (no
 * wildcard), ListExecutions on it (a running upgrade of the same tier: 409), DescribeMapRun of its map runs (GET progress).
 */
type Resource = { Type: string; Properties: Record<string, any> };
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown };
let resources: Record<string, Resource>;
beforeAll(() => {
  resources = defaultAppTemplates().platformWithPolicies.toJSON().Resources as Record<string, Resource>;
}, 240_000);

const idOf = (type: string, test: (r: Resource) => boolean) => Object.entries(resources).find(([, r]) => r.Type === type && test(r))?.[0];
const upgradeMachine = () => idOf('AWS::StepFunctions::StateMachine', (r) => r.Properties.StateMachineName === 'tessera-upgrade')!;
const adminRole = () => idOf('AWS::IAM::Role', (r) => r.Properties.RoleName === 'tessera-admin-api')!;
const adminStatements = (): Statement[] => Object.values(resources)
  .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.Properties.Roles ?? []).includes(`"${adminRole()}"`))
  .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
const actions = (s: Statement) => ([] as string[]).concat(s.Action);
const adminFunction = () => Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties.Role) === JSON.stringify({ 'Fn::GetAtt': [adminRole(), 'Arn'] }))!;

/** `/admin/upgrades` of an AWS::ApiGateway::Resource, walking its parents. */
function pathOf(resourceId: string): string {
  const r = resources[resourceId];
  if (!r || r.Type !== 'AWS::ApiGateway::Resource') return '';
  const parent = r.Properties.ParentId;
  return `${typeof parent === 'object' && 'Ref' in parent ? pathOf(parent.Ref) : ''}/${r.Properties.PathPart}`;
}
const adminMethods = () => Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::Method' && JSON.stringify(r.Properties.RestApiId).includes('AdminApi'))
  .map((r) => ({ route: `${r.Properties.HttpMethod} ${pathOf(r.Properties.ResourceId?.Ref)}`, properties: r.Properties }));

describe('POST /admin/upgrades and GET /admin/upgrades/{upgradeId} in AWS', () => {
  it('the admin API may StartExecution (and ListExecutions) on the upgrade state machine\'s ARN, no wildcard; no other statement starts it', () => {
    const grant = adminStatements().filter((s) => s.Sid === 'StartUpgrade');
    expect(grant).toEqual([{ Sid: 'StartUpgrade', Effect: 'Allow', Action: ['states:ListExecutions', 'states:StartExecution'], Resource: { Ref: upgradeMachine() } }]);
    for (const s of adminStatements().filter((x) => x.Sid !== 'StartUpgrade' && actions(x).includes('states:StartExecution'))) {
      expect(JSON.stringify(s.Resource), s.Sid).not.toContain(upgradeMachine());
      expect(JSON.stringify(s.Resource), s.Sid).not.toContain('*');
    }
    expect(adminFunction().Properties.Environment.Variables[ENV.upgradeStateMachineArn]).toEqual({ Ref: upgradeMachine() });
  });

  it('reads the upgrade\'s executions (DescribeExecution, GetExecutionHistory: tessera-upgrade*) and only its map runs (DescribeMapRun)', () => {
    const read = adminStatements().find((s) => s.Sid === 'ReadExecutions')!;
    expect(actions(read)).toEqual(['states:DescribeExecution', 'states:GetExecutionHistory']);
    expect(JSON.stringify(read.Resource)).toMatch(/:execution:tessera-upgrade\*"/);
    const mapRuns = adminStatements().filter((s) => actions(s).includes('states:DescribeMapRun'));
    expect(mapRuns).toEqual([{ Sid: 'ReadUpgradeMapRuns', Effect: 'Allow', Action: 'states:DescribeMapRun', Resource: expect.stringMatching(/^arn:aws:states:us-east-1:\d{12}:mapRun:tessera-upgrade\/\*$/) }]);
  });

  it('reads the blueprint catalog\'s templates (blueprints/* only), to refuse a version it does not publish; its bucket and the platform\'s version are in its environment', () => {
    const onS3 = adminStatements().filter((s) => actions(s).some((a) => a.startsWith('s3:')));
    // Its one other S3 grant: the gateway's audit records, read by tessera requests show (GetObject on the router's and the
    // fine-tuning API's prefixes, home and dr-tier: exactly those four, not the lifecycle stream nor CloudTrail's files).
    const audit = onS3.filter((s) => s.Sid === 'ReadGatewayAuditRecords');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ Action: 's3:GetObject' });
    const suffixes = [audit[0]!.Resource].flat().map((r) => { expect(JSON.stringify(r)).toMatch(/AuditBucket/); return (r as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].at(-1); });
    expect(suffixes.sort()).toEqual(['/tessera-audit/dr-tier/fine-tuning/*', '/tessera-audit/dr-tier/inference/*', '/tessera-audit/fine-tuning/*', '/tessera-audit/inference/*']);
    const catalog = onS3.filter((s) => s.Sid !== 'ReadGatewayAuditRecords');
    expect(catalog).toHaveLength(1);
    expect(catalog[0]).toMatchObject({ Sid: 'ReadBlueprintCatalog', Action: 's3:GetObject' });
    expect(JSON.stringify(catalog[0]!.Resource)).toMatch(/BlueprintsBucket.*"\/blueprints\/\*"/);
    const env = adminFunction().Properties.Environment.Variables;
    expect(JSON.stringify(env[ENV.blueprintBucket])).toMatch(/BlueprintsBucket/);
    expect(env[ENV.blueprintVersion]).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('the routes exist, IAM-authorized and integrated with the admin handler, one method each', () => {
    const methods = adminMethods();
    const post = methods.find((m) => m.route === 'POST /admin/upgrades');
    const get = methods.find((m) => m.route === 'GET /admin/upgrades/{upgradeId}');
    const execution = methods.find((m) => m.route === 'GET /admin/tenants/{id}/execution')!;
    for (const m of [post, get]) {
      expect(m?.properties.AuthorizationType).toBe('AWS_IAM');
      expect(m?.properties.Integration).toEqual(execution.properties.Integration);
    }
    expect(methods.filter((m) => m.route.endsWith('/admin/upgrades') || m.route.includes('/admin/upgrades/'))).toHaveLength(2);
  });
});
