import { AdminAddUserToGroupCommand, AdminCreateUserCommand, CognitoIdentityProviderClient, CreateGroupCommand, CreateUserPoolCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler } from '../../lambdas/inference/budget-alerts/email-handler.js';
import { thresholdDetail, watchedBudgets } from '../../lambdas/inference/budget-alerts/thresholds.js';
import { groupOf } from '../../lib/identity/roles.js';
import { inject, throttle } from './support/faults.js';
import { createGatewayTables } from './support/gateway-tables.js';
import { pointSdkAtMoto, startMoto, type MotoServer } from './support/moto-server.js';

// The budget alert mail Lambda on moto's Cognito, SES v2 and DynamoDB: each admin is mailed at most
// once per event, across Lambda's retries and a second delivery of the same event (markers are real
// conditional writes in the usage table).
let moto: MotoServer;
const ADMINS = ['a', 'b', 'c', 'd', 'e'].map((n) => `${n}@acme.example`);
/** The addresses SES accepted a SendEmail for, in order. */
const mailed: string[] = [];
let stopCounting: () => void;
const [day] = watchedBudgets({ dayTokens: 1_000_000 });
const detail = thresholdDetail('acme', 'starter', day!, 80, 812_345, '2026-12-14', new Date('2026-12-14T09:30:00Z'));
const event = (id: string) => ({ version: '0', id, 'detail-type': 'Tenant Budget Threshold Reached', source: 'tessera.lifecycle', account: '123456789012', time: '2026-12-14T09:30:02Z', region: 'us-east-1', resources: [], detail }) as never;

beforeAll(async () => {
  moto = await startMoto();
  pointSdkAtMoto(moto);
  await createGatewayTables([]);
  const cognito = new CognitoIdentityProviderClient({});
  const pool = (await cognito.send(new CreateUserPoolCommand({
    PoolName: 'tessera-tenants', UsernameAttributes: ['email'],
    Schema: [{ Name: 'tenant_id', AttributeDataType: 'String', Mutable: false, StringAttributeConstraints: { MinLength: '3', MaxLength: '24' } }],
  }))).UserPool!.Id!;
  await cognito.send(new CreateGroupCommand({ UserPoolId: pool, GroupName: groupOf('admin') }));
  for (const email of ADMINS) {
    await cognito.send(new AdminCreateUserCommand({
      UserPoolId: pool, Username: email, MessageAction: 'SUPPRESS',
      UserAttributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: 'true' }, { Name: 'custom:tenant_id', Value: 'acme' }],
    }));
    await cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: pool, Username: email, GroupName: groupOf('admin') }));
  }
  await new SESv2Client({}).send(new CreateEmailIdentityCommand({ EmailIdentity: 'platform.example' }));
  Object.assign(process.env, { TESSERA_USER_POOL_ID: pool, TESSERA_BUDGET_ALERT_SENDERS: JSON.stringify({ starter: 'alerts@platform.example' }), TESSERA_USAGE_TABLE: 'tessera-usage' });
  stopCounting = inject('count-mail', (next, context) => async (args) => {
    const out = await next(args);
    if (context.commandName === 'SendEmailCommand') mailed.push(args.input.Destination.ToAddresses[0]);
    return out;
  });
}, 120_000);
afterAll(async () => {
  stopCounting?.();
  await moto?.stop();
});

describe('budget alert mail on moto (Cognito, SES v2, DynamoDB)', () => {
  it('SES throttling the 3rd of 5 admins: the retry mails the 3rd to 5th only; a second delivery mails nobody', async () => {
    const id = '6f0c2c1e-1b7a-4c8e-9d2f-0a1b2c3d4e5f';
    const throttled = throttle('SendEmailCommand', 1, 'TooManyRequestsException', (input) => input.Destination?.ToAddresses?.[0] === 'c@acme.example');
    await expect(handler(event(id))).rejects.toThrow('Rate exceeded');
    throttled.removed();
    expect(throttled.thrown()).toBe(1);
    expect(mailed).toEqual(['a@acme.example', 'b@acme.example']);
    expect(await handler(event(id))).toEqual({ sent: 3, alreadyMailed: 2 }); // Lambda's retry
    expect(mailed).toEqual(ADMINS);
    expect(await handler(event(id))).toEqual({ sent: 0, alreadyMailed: 5 }); // EventBridge again, or a DLQ redrive
    expect(mailed).toEqual(ADMINS);
    const items = (await createdMarkers()).filter((m) => m.id!.S!.startsWith(`alert-mail#${id}#`));
    expect(items).toHaveLength(5);
    expect(Number(items[0]!.expiresAt!.N) - Date.now() / 1000).toBeGreaterThan(29 * 86_400);
    // Another event (the next threshold) mails everyone.
    expect(await handler(event('0b7e9c4a-2f61-4d8e-a3c5-9e8d7c6b5a41'))).toEqual({ sent: 5 });
  });
});

async function createdMarkers() {
  return (await new DynamoDBClient({}).send(new ScanCommand({ TableName: 'tessera-usage' }))).Items ?? [];
}
