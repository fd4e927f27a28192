import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambdas/shared/environment.js';
import { defaultAppTemplates } from '../support/default-app.js';

/**
 * Found in s23: only the daily schedule started the drift workflow. POST /admin/drift starts it now: the admin API's role may
 * start that one state machine (StartExecution on its ARN, nothing wider), and the route is IAM-authorized like GET /admin/drift.
 */
type Resource = { Type: string; Properties: Record<string, any> };
type Statement = { Sid?: string; Action: string | string[]; Resource: unknown };
let resources: Record<string, Resource>;
beforeAll(() => {
  resources = defaultAppTemplates().platformWithPolicies.toJSON().Resources as Record<string, Resource>;
}, 240_000);

const idOf = (type: string, test: (r: Resource) => boolean) => Object.entries(resources).find(([, r]) => r.Type === type && test(r))?.[0];
const driftMachine = () => idOf('AWS::StepFunctions::StateMachine', (r) => r.Properties.StateMachineName === 'tessera-drift')!;
const adminRole = () => idOf('AWS::IAM::Role', (r) => r.Properties.RoleName === 'tessera-admin-api')!;
const adminStatements = (): Statement[] => Object.values(resources)
  .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.Properties.Roles ?? []).includes(`"${adminRole()}"`))
  .flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);

/** `/admin/drift` of an AWS::ApiGateway::Resource, walking its parents. */
function pathOf(resourceId: string): string {
  const r = resources[resourceId];
  if (!r || r.Type !== 'AWS::ApiGateway::Resource') return '';
  const parent = r.Properties.ParentId;
  return `${typeof parent === 'object' && 'Ref' in parent ? pathOf(parent.Ref) : ''}/${r.Properties.PathPart}`;
}
const adminMethod = (verb: string, path: string) => Object.values(resources).find((r) => r.Type === 'AWS::ApiGateway::Method'
  && r.Properties.HttpMethod === verb && JSON.stringify(r.Properties.RestApiId).includes('AdminApi') && pathOf(r.Properties.ResourceId?.Ref) === path);

describe('POST /admin/drift in AWS', () => {
  it('the admin API may StartExecution on the drift state machine\'s ARN, and on nothing else for it', () => {
    const starts = adminStatements().filter((s) => ([] as string[]).concat(s.Action).includes('states:StartExecution'));
    const drift = starts.find((s) => s.Sid === 'StartDriftCheck');
    expect(drift).toEqual({ Sid: 'StartDriftCheck', Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: driftMachine() } });
    // The other start grant names the four lifecycle machines, not the drift one; no statement of the role says states:* or "*"
    expect(JSON.stringify(starts.filter((s) => s !== drift))).not.toContain(driftMachine());
    for (const s of adminStatements()) expect(([] as string[]).concat(s.Action).some((a) => a === '*' || a === 'states:*'), s.Sid).toBe(false);
    const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties.Role) === JSON.stringify({ 'Fn::GetAtt': [adminRole(), 'Arn'] }))!;
    expect(fn.Properties.Environment.Variables[ENV.driftStateMachineArn]).toEqual({ Ref: driftMachine() });
  });

  /**
   * Found in s23 (drift2): the 409 drift_check_exists could not say whether the check a start met had succeeded: the role
   * could not read drift executions. ReadDriftChecks: DescribeExecution only, on the drift machine's executions only.
   */
  it('the admin API may DescribeExecution on the drift machine\'s executions (ReadDriftChecks), nothing more and nothing wider', () => {
    const name = resources[driftMachine()]!.Properties.StateMachineName as string;
    const read = adminStatements().filter((s) => s.Sid === 'ReadDriftChecks');
    expect(read).toEqual([{ Sid: 'ReadDriftChecks', Effect: 'Allow', Action: 'states:DescribeExecution', Resource: expect.anything() }]);
    // arn:aws:states:<region>:<account>:execution:tessera-drift:* — not tessera-drift-other:…, not the map's children tessera-drift/<run>:…
    expect(read[0]!.Resource).toMatch(new RegExp(`^arn:aws:states:us-east-1:\\d{12}:execution:${name}:\\*$`));
    // No other statement of the role names a drift execution (ReadExecutions: the four lifecycle machines and tessera-upgrade*)
    for (const s of adminStatements().filter((x) => x.Sid !== 'ReadDriftChecks')) expect(JSON.stringify(s.Resource), s.Sid).not.toContain(`execution:${name}`);
  });

  it('the route exists with IAM authorization, integrated with the admin handler: /admin/drift\'s one ANY method (GET and POST, lib/admin-routes.ts)', () => {
    const any = adminMethod('ANY', '/admin/drift');
    const execution = adminMethod('GET', '/admin/tenants/{id}/execution');
    expect(any).toBeDefined();
    expect(any!.Properties.AuthorizationType).toBe('AWS_IAM');
    expect(any!.Properties.Integration).toEqual(execution!.Properties.Integration);
    expect(adminMethod('POST', '/admin/drift')).toBeUndefined();
  });
});
