import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, TransactWriteCommand, type BatchGetCommandInput, type GetCommandInput, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { RESERVATION_RECLAIM_ROLE_NAME, ReservationReclaim as ReclaimConstruct } from '../../constructs/reservation-reclaim.js';
import { ReservationReclaim } from '../../lambdas/inference/reclaim/reservation-reclaim.js';
import { evaluate, type PolicyJson } from '../../lib/preflight/iam-eval.js';
import { newApp } from '../support/synth.js';

/**
 * The reclaim's role against the requests its code sends: a run of ReservationReclaim records its
 * GetItem, BatchGetItem and TransactWriteItems inputs (aws-sdk-client-mock), each is turned into the
 * request context DynamoDB gives IAM, and the role's synthesized policy is put through the IAM
 * policy simulator (lib/preflight/iam-eval.ts). moto enforces none of these conditions.
 *
 * The context, per the DynamoDB Developer Guide ("Using IAM policy conditions for fine-grained
 * access control"; "Using IAM with DynamoDB transactions": a transaction's Update is authorized as
 * UpdateItem of its item): `dynamodb:LeadingKeys` the partition key values of the items;
 * `dynamodb:Attributes` the attribute names the request names (a read's projection, a write's
 * update and condition expressions) and the key; `dynamodb:Select` and `dynamodb:ReturnValues` only
 * when the request sends them (GetItem and BatchGetItem take no Select; a transaction's Update takes
 * no ReturnValues).
 */
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const USAGE = 'tessera-usage';
const usageArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${USAGE}`;

/** Ref AWS::Partition / AWS::Region / AWS::AccountId and Fn::Join, as CloudFormation resolves them (all the policy uses). */
function resolve(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(resolve);
  if (!v || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if (o.Ref === 'AWS::Partition') return 'aws';
  if (o.Ref === 'AWS::Region') return REGION;
  if (o.Ref === 'AWS::AccountId') return ACCOUNT;
  if (o['Fn::Join']) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(resolve).join(sep);
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x)]));
}

let policy: PolicyJson;
beforeAll(() => {
  const app = newApp();
  const stack = new Stack(app, 'ReclaimIam', { env: { account: ACCOUNT, region: REGION } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  new ReclaimConstruct(stack, 'ReservationReclaim', {
    encryptionKey: key, registry: dynamodb.TableV2.fromTableName(stack, 'Registry', 'tessera-tenants'), usageTable: dynamodb.TableV2.fromTableName(stack, 'Usage', USAGE),
  });
  const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::ManagedPolicy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  // Only the two usage-table statements: what is judged here (the key's are through DynamoDB, not these requests).
  policy = { Version: '2012-10-17', Statement: resolve(statements.filter((s: any) => ['ReadHeldAmounts', 'ReleaseHeldAmounts'].includes(s.Sid))) };
});

/** The attribute names an expression names: `#n` through its names map, bare words otherwise (functions and ADD/AND dropped). */
function namesIn(expression: string | undefined, names: Record<string, string> = {}): string[] {
  if (!expression) return [];
  const words = expression.replace(/:\w+/g, ' ').replace(/\b[a-z_]+\s*\(/g, '(').match(/#?[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
  return words.filter((w) => !/^(ADD|SET|REMOVE|DELETE|AND|OR|NOT|BETWEEN|IN)$/.test(w)).map((w) => (w.startsWith('#') ? names[w]! : w));
}

async function allowed(action: string, context: Record<string, string | string[]>) {
  const r = await evaluate({
    principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${RESERVATION_RECLAIM_ROLE_NAME}/reclaim`, action, resource: usageArn, resourceAccount: ACCOUNT,
    context: { 'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/${RESERVATION_RECLAIM_ROLE_NAME}`, 'aws:PrincipalAccount': ACCOUNT, 'aws:RequestedRegion': REGION, ...context },
    identityPolicies: [{ name: 'reclaim', policy }], scps: [],
  });
  expect(r.result, `${action} ${JSON.stringify(context)}`).not.toMatch(/^error/);
  return r.allowed;
}

describe('the reclaim role admits exactly the requests its code sends (IAM simulator)', () => {
  let gets: GetCommandInput[];
  let batches: BatchGetCommandInput[];
  let transactions: TransactWriteCommandInput[];
  beforeAll(async () => {
    const ddb = mockClient(DynamoDBDocumentClient);
    const day = 'usage#acme#2026-11-23';
    // Held in nano-dollars and in micro-dollars (a reservation of before nano-dollars): the release names every attribute it may.
    ddb.on(GetCommand).resolves({ Item: { id: day, heldTokens: 40, heldNanos: 400, heldMicros: 5 } });
    ddb.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => {
      const keys = input.RequestItems![USAGE]!.Keys!.map((k) => String(k.id));
      return { Responses: { [USAGE]: keys.map((id) => (id === 'usage#acme#2026-11' ? { id, subjects: new Set(['key#key_00000000000000aa']), heldTokens: 40, heldNanos: 400, heldMicros: 5 } : { id, heldTokens: 40, heldNanos: 400, heldMicros: 5 })) } };
    });
    ddb.on(TransactWriteCommand).resolves({});
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
    const out = await new ReservationReclaim({ usageTable: USAGE, docFor: async () => doc }).reclaimDay(['acme'], '2026-11-23');
    expect(out.released).toHaveLength(2);
    gets = ddb.commandCalls(GetCommand).map((c) => c.args[0].input);
    batches = ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input);
    transactions = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input);
    ddb.restore();
  });

  it('allows each GetItem and BatchGetItem as sent (projected to the held amounts, usage# keys)', async () => {
    expect(gets.length).toBeGreaterThan(0);
    expect(batches.length).toBeGreaterThan(0);
    for (const g of gets) {
      expect(await allowed('dynamodb:GetItem', { 'dynamodb:LeadingKeys': [String(g.Key!.id)], 'dynamodb:Attributes': namesIn(g.ProjectionExpression, g.ExpressionAttributeNames) })).toBe(true);
    }
    for (const b of batches) {
      const r = b.RequestItems![USAGE]!;
      expect(await allowed('dynamodb:BatchGetItem', { 'dynamodb:LeadingKeys': r.Keys!.map((k) => String(k.id)), 'dynamodb:Attributes': namesIn(r.ProjectionExpression, r.ExpressionAttributeNames) })).toBe(true);
    }
  });

  it('allows each Update of each transaction as UpdateItem of its item (update and condition expressions\' names, and the key)', async () => {
    const updates = transactions.flatMap((t) => t.TransactItems!.map((i) => i.Update!));
    expect(updates).toHaveLength(4);
    expect(updates[0]!.UpdateExpression).toBe('ADD tokens :t, heldTokens :t, costNanos :n, heldNanos :n, costMicros :m, heldMicros :m');
    for (const u of updates) {
      const attributes = [...new Set(['id', ...namesIn(u.UpdateExpression, u.ExpressionAttributeNames), ...namesIn(u.ConditionExpression, u.ExpressionAttributeNames)])];
      expect(await allowed('dynamodb:UpdateItem', { 'dynamodb:LeadingKeys': [String(u.Key!.id)], 'dynamodb:Attributes': attributes }), `${u.Key!.id}: ${attributes.join(', ')}`).toBe(true);
    }
  });

  it('reads the names of the expressions as DynamoDB does (functions are not attributes)', () => {
    expect(namesIn('attribute_not_exists(heldTokens) AND heldMicros = :rc')).toEqual(['heldTokens', 'heldMicros']);
    expect(namesIn('ADD tokens :t, heldTokens :t')).toEqual(['tokens', 'heldTokens']);
    expect(namesIn('#r0, #r1', { '#r0': 'id', '#r1': 'subjects' })).toEqual(['id', 'subjects']);
  });

  it('denies the rate windows, unprojected reads, other attributes and returned values (negative controls: the simulator is not allowing everything)', async () => {
    const held = ['id', 'heldTokens', 'heldNanos', 'heldMicros'];
    expect(await allowed('dynamodb:GetItem', { 'dynamodb:LeadingKeys': ['rate#acme#2026-11-23T10:15'], 'dynamodb:Attributes': held })).toBe(false);
    expect(await allowed('dynamodb:GetItem', { 'dynamodb:LeadingKeys': ['usage#acme#2026-11-23'] })).toBe(false); // no projection: every attribute
    expect(await allowed('dynamodb:BatchGetItem', { 'dynamodb:LeadingKeys': ['usage#acme#2026-11', 'rate#acme#2026-11-23'], 'dynamodb:Attributes': held })).toBe(false);
    expect(await allowed('dynamodb:UpdateItem', { 'dynamodb:LeadingKeys': ['usage#acme#2026-11'], 'dynamodb:Attributes': ['id', 'heldTokens', 'requests'] })).toBe(false);
    expect(await allowed('dynamodb:UpdateItem', { 'dynamodb:LeadingKeys': ['usage#acme#2026-11'], 'dynamodb:Attributes': ['id', 'heldTokens'], 'dynamodb:ReturnValues': 'ALL_OLD' })).toBe(false);
    expect(await allowed('dynamodb:UpdateItem', { 'dynamodb:LeadingKeys': ['usage#acme#2026-11'], 'dynamodb:Attributes': ['id', 'heldTokens'] })).toBe(true); // the positive control
  });
});
