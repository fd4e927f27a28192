import { beforeAll, describe, expect, it } from 'vitest';
import { LocalWorkflows } from '../integration/support/local-workflows.js';
import { lifecycleRoleName } from '../../lib/lifecycle-handlers.js';
import { reservedConcurrency } from '../../lib/lambda-concurrency.js';
import { RETRYABLE_ERRORS } from '../../lambdas/shared/errors.js';
import { appTemplates, defaultAppTemplates, type AppTemplates } from '../support/default-app.js';
import { configWith } from '../support/config-with.js';

/**
 * `offboarding.erasePooledGatewayData`: the offboarding's *Erase pooled gateway data* (lambdas/lifecycle/erase-pooled-gateway-data.ts),
 * its place in the workflow, its loop, and its IAM: the tenant-data role trusts its role, and its role may do nothing but
 * assume that role with the tenant tag (and write the tenant's registry record, as every lifecycle step does). Off (the
 * default): no such function, state or trust; *Expire pooled gateway data* (lambdas/lifecycle/expire-pooled-gateway-data.ts)
 * in its place, with the same loop and the same IAM.
 */
const ON = { offboarding: { erasePooledGatewayData: true } };
const ERASE_ROLE = lifecycleRoleName('erase-pooled-gateway-data');
const EXPIRE_ROLE = lifecycleRoleName('expire-pooled-gateway-data');

type States = { States: Record<string, { Type: string; Next?: string; Default?: string; Choices?: Array<Record<string, unknown>>; Parameters?: Record<string, unknown>; Retry?: Array<{ ErrorEquals: string[] }>; Catch?: Array<{ ErrorEquals: string[]; Next: string }>; ResultPath?: string }> };
type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>>; Principal?: unknown };
type Resource = { Type: string; Properties: Record<string, any> };

describe('Erase pooled gateway data: the offboarding states', () => {
  it('runs after Retire account and before Finish offboarding, again with its answer until COMPLETE, retried on throttling and caught into Record failure', () => {
    const d = new LocalWorkflows(configWith(ON)).definitions.offboard as unknown as States;
    expect(d.States['Retire account'].Next).toBe('Erase pooled gateway data');
    const erase = d.States['Erase pooled gateway data'];
    expect(erase).toMatchObject({ Type: 'Task', Next: 'Pooled data erased?', ResultPath: '$.pooledData', Parameters: { 'request.$': '$.request', 'executionArn.$': '$.executionArn', 'pooledData.$': '$.pooledData' } });
    expect(d.States['Pooled data erased?']).toMatchObject({ Choices: [{ Variable: '$.pooledData.state', StringEquals: 'COMPLETE', Next: 'Finish offboarding' }], Default: 'Erase pooled gateway data' });
    expect(erase.Retry![0].ErrorEquals).toEqual(expect.arrayContaining(['ProvisionedThroughputExceededException', 'ThrottlingException', 'SlowDown']));
    expect(erase.Retry![0].ErrorEquals).toEqual(expect.arrayContaining([...RETRYABLE_ERRORS]));
    expect(erase.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Failed at Erase pooled gateway data' })]);
    // the first run starts from nothing: the Start state seeds its answer empty
    expect(d.States['Start offboarding'].Parameters).toMatchObject({ pooledData: {} });
  });

  it('does not exist with the default config: no state, no function, no reserved concurrency', () => {
    const d = new LocalWorkflows(configWith()).definitions.offboard as unknown as States;
    expect(Object.keys(d.States).filter((n) => /erase/i.test(n))).toEqual([]);
    expect(reservedConcurrency(configWith()).functions.map((f) => f.name)).not.toContain('lifecycle/erase-pooled-gateway-data');
    expect(reservedConcurrency(configWith(ON)).functions.map((f) => f.name)).toContain('lifecycle/erase-pooled-gateway-data');
  });
});

describe('Expire pooled gateway data: the offboarding states without the erasure', () => {
  it('runs, with the default config only, where the erasure would: after Retire account and before Finish offboarding, again with its answer until COMPLETE, retried on throttling and caught', () => {
    const d = new LocalWorkflows(configWith()).definitions.offboard as unknown as States;
    expect(d.States['Retire account'].Next).toBe('Expire pooled gateway data');
    const expire = d.States['Expire pooled gateway data'];
    expect(expire).toMatchObject({ Type: 'Task', Next: 'Pooled data expiring?', ResultPath: '$.pooledData', Parameters: { 'request.$': '$.request', 'executionArn.$': '$.executionArn', 'pooledData.$': '$.pooledData' } });
    expect(d.States['Pooled data expiring?']).toMatchObject({ Choices: [{ Variable: '$.pooledData.state', StringEquals: 'COMPLETE', Next: 'Finish offboarding' }], Default: 'Expire pooled gateway data' });
    expect(expire.Retry![0].ErrorEquals).toEqual(expect.arrayContaining(['ProvisionedThroughputExceededException', 'ThrottlingException', 'SlowDown', ...RETRYABLE_ERRORS]));
    expect(expire.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Failed at Expire pooled gateway data' })]);
    expect(d.States['Start offboarding'].Parameters).toMatchObject({ pooledData: {} });
    expect(reservedConcurrency(configWith()).functions.map((f) => f.name)).toContain('lifecycle/expire-pooled-gateway-data');
    // and not with the erasure on: one of the two steps, never both
    const on = new LocalWorkflows(configWith(ON)).definitions.offboard as unknown as States;
    expect(Object.keys(on.States).filter((n) => /expir/i.test(n))).toEqual([]);
    expect(reservedConcurrency(configWith(ON)).functions.map((f) => f.name)).not.toContain('lifecycle/expire-pooled-gateway-data');
  });
});

describe('Erase pooled gateway data: IAM', () => {
  let on: AppTemplates;
  beforeAll(async () => {
    on = await appTemplates(ON);
  }, 600_000);
  const resourcesOf = (t: AppTemplates) => t.platformWithPolicies.toJSON().Resources as Record<string, Resource>;
  const roleIdOf = (resources: Record<string, Resource>, name: string) => Object.entries(resources).find(([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName === name)?.[0];
  const statementsOfRole = (resources: Record<string, Resource>, name: string): Statement[] => {
    const id = roleIdOf(resources, name)!;
    return Object.values(resources).filter((r) => r.Type === 'AWS::IAM::ManagedPolicy' && JSON.stringify(r.Properties.Roles ?? []).includes(`"${id}"`))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  };
  const trustOf = (resources: Record<string, Resource>) => JSON.stringify(resources[roleIdOf(resources, 'tessera-tenant-data')!].Properties.AssumeRolePolicyDocument);

  it('the tenant-data role trusts the erasure\'s role (with the tenant tag, as the gateway\'s), and only with the setting on; without it the expiry\'s', () => {
    const resources = resourcesOf(on);
    const eraseId = roleIdOf(resources, ERASE_ROLE)!;
    expect(eraseId).toBeDefined();
    expect(trustOf(resources)).toContain(`"${eraseId}"`);
    expect(roleIdOf(resources, EXPIRE_ROLE)).toBeUndefined();
    const plain = resourcesOf(defaultAppTemplates());
    expect(roleIdOf(plain, ERASE_ROLE)).toBeUndefined();
    expect(trustOf(plain)).not.toContain('ErasePooled');
    const expireId = roleIdOf(plain, EXPIRE_ROLE)!;
    expect(expireId).toBeDefined();
    expect(trustOf(plain)).toContain(`"${expireId}"`);
  });

  it.each([[ERASE_ROLE, true], [EXPIRE_ROLE, false]] as const)('%s may assume the tenant-data role with the tenant tag, and touches neither the responses table nor the batch files bucket itself', (roleName, erasure) => {
    const resources = resourcesOf(erasure ? on : defaultAppTemplates());
    const statements = statementsOfRole(resources, roleName);
    const act = statements.find((s) => s.Sid === 'ActForOneTenant')!;
    expect(act).toMatchObject({ Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: { Null: { 'aws:RequestTag/tessera:tenant-id': 'false' } } });
    expect(JSON.stringify(act.Resource)).toContain(roleIdOf(resources, 'tessera-tenant-data')!);
    // every other statement is the registry's (its record) or the logs' and traces' every Lambda has
    const responsesId = Object.entries(resources).find(([, r]) => r.Type === 'AWS::DynamoDB::GlobalTable' && JSON.stringify(r.Properties.TableName ?? '').includes('responses'))?.[0];
    const text = JSON.stringify(statements);
    if (responsesId) expect(text).not.toContain(responsesId);
    expect(text).not.toMatch(/s3:(DeleteObject|GetObject|PutObject|ListBucket)/);
    // the statements every lifecycle function with the registry capability has (its logs, traces, environment key,
    // the registry and its key through DynamoDB, for the registry's items only), and the one to act for a tenant: nothing else
    expect(statements.map((s) => s.Sid).sort()).toEqual(['ActForOneTenant', 'DescribePlatformKeyThroughDynamoDB', 'EnvironmentKey', 'OwnLogs', 'PlatformKeyThroughDynamoDB', 'Registry', 'Traces']);
    expect(statements.find((s) => s.Sid === 'PlatformKeyThroughDynamoDB')!.Condition).toEqual({ StringEquals: { 'kms:ViaService': expect.stringMatching(/^dynamodb\./), 'kms:EncryptionContext:aws:dynamodb:tableName': { Ref: expect.stringMatching(/^RegistryTable/) } } });
    const registryTargets = [...JSON.stringify(statements.find((s) => s.Sid === 'Registry')!.Resource).matchAll(/"Fn::GetAtt":\["([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(registryTargets)).toEqual(new Set([expect.stringMatching(/^RegistryTable/)]));
    expect(statements.filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('sts:'))).map((s) => s.Sid)).toEqual(['ActForOneTenant']);
    // its environment names the stores and the role it assumes
    const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && JSON.stringify(r.Properties.Role).includes(roleIdOf(resources, roleName)!))!;
    expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(expect.arrayContaining(['TESSERA_RESPONSES_TABLE', 'TESSERA_BATCH_FILES_BUCKET', 'TESSERA_TENANT_DATA_ROLE_ARN']));
    expect(fn.Properties.Timeout).toBe(300);
  });
});
