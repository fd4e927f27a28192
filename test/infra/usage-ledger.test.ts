import { beforeAll, describe, expect, it } from 'vitest';
import { MODEL_USAGE_INDEX } from '../../lambdas/inference/stores/model-usage.js';
import { TENANT_DATA_ROLE_NAME } from '../../lib/tenant-naming.js';
import { defaultAppTemplates } from '../support/default-app.js';

// The usage ledger by model and day (issue 16, item 3) in the platform stack: the usage table's
// sparse index, which only the admin API may query; the gateway writes the ledger items as the
// tenant (its `usage#<tenant>#*` LeadingKeys grant), and a tenant session may query the index in its own
// tenant's partitions only (`GET /v1/usage?group_by=model`).

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };
type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };
let resources: Record<string, Resource>;

beforeAll(() => {
  resources = defaultAppTemplates().platformWithPolicies.toJSON().Resources as Record<string, Resource>;
}, 240_000);

const entries = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const usageTable = () => entries('AWS::DynamoDB::GlobalTable').find(([, r]) => r.Properties.TableName === 'tessera-usage')!;
const statementsOfRole = (roleName: string): Statement[] => {
  const [roleId] = entries('AWS::IAM::Role').find(([, r]) => r.Properties.RoleName === roleName)!;
  return [...entries('AWS::IAM::ManagedPolicy'), ...entries('AWS::IAM::Policy')]
    .filter(([, p]) => JSON.stringify(p.Properties.Roles ?? []).includes(`"${roleId}"`))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
};
const actions = (s: Statement) => ([] as string[]).concat(s.Action);

describe('the usage ledger in the platform stack', () => {
  it('indexes the ledger items of the retained usage table (month partition, day#model sort), the table\'s own key unchanged', () => {
    const [, table] = usageTable();
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(table.Properties.GlobalSecondaryIndexes).toEqual([{
      IndexName: 'model-usage',
      KeySchema: [{ AttributeName: MODEL_USAGE_INDEX.partitionKey, KeyType: 'HASH' }, { AttributeName: MODEL_USAGE_INDEX.sortKey, KeyType: 'RANGE' }],
      Projection: { ProjectionType: 'ALL' },
    }]);
  });

  it('lets the admin API Query the index only, and a tenant session Query it only where LeadingKeys are its own tenant\'s ledger months', () => {
    const [tableId] = usageTable();
    const admin = statementsOfRole('tessera-admin-api').find((s) => s.Sid === 'ReadModelUsage')!;
    expect(actions(admin)).toEqual(['dynamodb:Query']);
    expect(admin.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, '/index/model-usage']] });
    const tenant = statementsOfRole(TENANT_DATA_ROLE_NAME);
    // GET /v1/usage?group_by=model|tag reads the ledger as the tenant (its model and its tag partitions): one statement, Query only, conditioned on the session's tag.
    expect(tenant.filter((s) => JSON.stringify(s.Resource).includes('/index/') && JSON.stringify(s.Resource).includes(tableId))).toEqual([{
      Sid: 'UsageOwnLedger', Effect: 'Allow', Action: 'dynamodb:Query',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, '/index/model-usage']] },
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['usage#${aws:PrincipalTag/tessera:tenant-id}#model#*', 'usage#${aws:PrincipalTag/tessera:tenant-id}#tag#*'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    }]);
    // The gateway's ledger writes (`usage#<tenant>#model#…`) fall under its own counters' grant.
    const counters = tenant.find((s) => s.Sid === 'UsageOwnCounters')!;
    expect(actions(counters)).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(counters.Condition!['ForAllValues:StringLike']['dynamodb:LeadingKeys']).toContain('usage#${aws:PrincipalTag/tessera:tenant-id}#*');
  });
});
