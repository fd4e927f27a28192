import { CognitoIdentityProviderClient, ListUsersInGroupCommand, CognitoIdentityProviderServiceException } from '@aws-sdk/client-cognito-identity-provider';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MessageRejected, SendEmailCommand, SESv2Client, SESv2ServiceException, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { mockStrict } from '../../../support/strict-mock.js';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertMessage, sendAlertEmails, tenantAdminEmails } from '../../../../lambdas/inference/budget-alerts/alert-email.js';
import { handler } from '../../../../lambdas/inference/budget-alerts/email-handler.js';
import { MailMarkers } from '../../../../lambdas/inference/budget-alerts/mail-markers.js';
import { thresholdDetail, watchedBudgets } from '../../../../lambdas/inference/budget-alerts/thresholds.js';

const cognito = mockStrict(CognitoIdentityProviderClient, 'cognito-idp', CognitoIdentityProviderServiceException);
const ses = mockStrict(SESv2Client, 'sesv2', SESv2ServiceException);
const ddb = mockClient(DynamoDBDocumentClient);
/** The usage table as far as the markers go: items by `id`, PutItem and DeleteItem with their conditions. */
let table: Map<string, Record<string, unknown>>;
const EVENT_ID = '6f0c2c1e-1b7a-4c8e-9d2f-0a1b2c3d4e5f';
const event = (id = EVENT_ID) => ({ version: '0', id, 'detail-type': 'Tenant Budget Threshold Reached', source: 'tessera.lifecycle', detail }) as never;
const markerOf = (address: string, id = EVENT_ID) => `alert-mail#${id}#${createHash('sha256').update(address).digest('hex')}`;
const mailedTo = () => ses.commandCalls(SendEmailCommand).map((c) => c.args[0].input.Destination?.ToAddresses?.[0]);
const user = (email: string, tenant: string, enabled = true, verified = 'true') => ({
  Username: email, Enabled: enabled, Attributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: verified }, { Name: 'custom:tenant_id', Value: tenant }],
});
const [day] = watchedBudgets({ dayTokens: 1_000_000 });
const detail = thresholdDetail('acme', 'starter', day!, 80, 812_345, '2026-12-14', new Date('2026-12-14T09:30:00Z'));

beforeEach(() => {
  cognito.reset();
  ses.reset();
  ddb.reset();
  table = new Map();
  ddb.on(PutCommand).callsFake((input) => {
    const item = input.Item as Record<string, unknown> & { id: string };
    if (input.ConditionExpression !== 'attribute_not_exists(id)') throw new Error(`unexpected condition ${input.ConditionExpression}`);
    if (table.has(item.id)) throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    table.set(item.id, item);
    return {};
  });
  ddb.on(DeleteCommand).callsFake((input) => {
    const id = (input.Key as { id: string }).id;
    if (table.get(id)?.claimedAt !== input.ExpressionAttributeValues?.[':at']) throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    table.delete(id);
    return {};
  });
  // Two pages of the tenant-admin group: admins of acme and of another tenant, one disabled.
  cognito.on(ListUsersInGroupCommand, { GroupName: 'tenant-admin', NextToken: undefined }).resolves({ Users: [user('a@acme.example', 'acme'), user('x@other.example', 'other')], NextToken: 'p2' });
  cognito.on(ListUsersInGroupCommand, { GroupName: 'tenant-admin', NextToken: 'p2' }).resolves({ Users: [user('gone@acme.example', 'acme', false), user('b@acme.example', 'acme')] });
  ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
  Object.assign(process.env, { TESSERA_USER_POOL_ID: 'us-east-1_pool', TESSERA_BUDGET_ALERT_SENDERS: JSON.stringify({ starter: 'alerts@platform.example' }), TESSERA_USAGE_TABLE: 'tessera-usage' });
});
afterEach(() => {
  delete process.env.TESSERA_USER_POOL_ID;
  delete process.env.TESSERA_BUDGET_ALERT_SENDERS;
  delete process.env.TESSERA_USAGE_TABLE;
});

describe('budget alert mail', () => {
  it('finds the tenant\'s enabled admins across the group\'s pages, no other tenant\'s', async () => {
    expect(await tenantAdminEmails(new CognitoIdentityProviderClient({}), 'us-east-1_pool', 'acme')).toEqual(['a@acme.example', 'b@acme.example']);
    expect(cognito.commandCalls(ListUsersInGroupCommand).map((c) => c.args[0].input)).toEqual([
      { UserPoolId: 'us-east-1_pool', GroupName: 'tenant-admin', Limit: 60, NextToken: undefined },
      { UserPoolId: 'us-east-1_pool', GroupName: 'tenant-admin', Limit: 60, NextToken: 'p2' },
    ]);
  });

  it('mails no address Cognito has not verified: an admin can set their own email (UpdateUserAttributes), which makes it unverified', async () => {
    // The invite sets email_verified true; a changed address is unverified until its code is confirmed (or for good).
    cognito.on(ListUsersInGroupCommand, { GroupName: 'tenant-admin', NextToken: 'p2' }).resolves({
      Users: [user('anyone@elsewhere.example', 'acme', true, 'false'), { ...user('b@acme.example', 'acme'), Attributes: user('b@acme.example', 'acme').Attributes.filter((a) => a.Name !== 'email_verified') }, user('c@acme.example', 'acme')],
    });
    expect(await tenantAdminEmails(new CognitoIdentityProviderClient({}), 'us-east-1_pool', 'acme')).toEqual(['a@acme.example', 'c@acme.example']);
  });

  it('says whose budget, how much of it, and when it resets', () => {
    expect(alertMessage(detail)).toEqual({
      subject: 'Tessera: 80% of the daily token budget reached for tenant acme',
      body: expect.stringContaining('Used: 812,345 tokens of 1,000,000 tokens (81.23%) in the day 2026-12-14 (UTC).'),
    });
    expect(alertMessage(detail).body).toContain('The budget resets at 2026-12-15T00:00:00.000Z.');
    const [keyCost] = watchedBudgets({}, { kind: 'key', id: 'key_0123456789abcdef', limits: { monthlyCostUsd: 5 } });
    const full = alertMessage(thresholdDetail('acme', 'starter', keyCost!, 100, 5, '2026-12', new Date('2026-12-20T00:00:00Z')));
    expect(full.subject).toBe('Tessera: 100% of the monthly cost budget reached for key key_0123456789abcdef of tenant acme');
    expect(full.body).toContain('Used: USD 5.00 of USD 5.00 (100%)');
    expect(full.body).toContain('refused with 429 budget_exceeded until 2027-01-01T00:00:00.000Z');
    // A budget under a cent: toFixed(2) printed 'USD 0.00 of USD 0.00'; amounts keep their nano-dollars (at least 2 decimals).
    const [cents] = watchedBudgets({}, { kind: 'key', id: 'key_0123456789abcdef', limits: { monthlyCostUsd: 0.004 } });
    expect(alertMessage(thresholdDetail('acme', 'starter', cents!, 80, 0.0032, '2026-12', new Date('2026-12-20T00:00:00Z'))).body).toContain('Used: USD 0.0032 of USD 0.004 (80%)');
    const [big] = watchedBudgets({}, { kind: 'key', id: 'key_0123456789abcdef', limits: { monthlyCostUsd: 1234.5 } });
    expect(alertMessage(thresholdDetail('acme', 'starter', big!, 50, 617.250001, '2026-12', new Date('2026-12-20T00:00:00Z'))).body).toContain('Used: USD 617.250001 of USD 1234.50 (50%)');
    // Five 20-token embeddings (USD 0.0000004 each) of a USD 0.000002 budget: 6 decimals printed 'USD 0.000002 of USD 0.000002' at 80%.
    const [tiny] = watchedBudgets({}, { kind: 'key', id: 'key_0123456789abcdef', limits: { monthlyCostUsd: 0.000002 } });
    expect(alertMessage(thresholdDetail('acme', 'starter', tiny!, 80, 0.0000016, '2026-12', new Date('2026-12-20T00:00:00Z'))).body).toContain('Used: USD 0.0000016 of USD 0.000002 (80%)');
  });

  it('the handler mails each admin separately from the tier\'s sender', async () => {
    const out = await handler(event());
    expect(out).toEqual({ sent: 2 });
    expect(ses.commandCalls(SendEmailCommand).map((c) => [c.args[0].input.FromEmailAddress, c.args[0].input.Destination?.ToAddresses])).toEqual([
      ['alerts@platform.example', ['a@acme.example']], ['alerts@platform.example', ['b@acme.example']],
    ]);
  });

  it('a tier without a sender mails nothing; an SES refusal fails the invocation (EventBridge retries it)', async () => {
    expect(await handler({ id: EVENT_ID, detail: { ...detail, tier: 'enterprise' } } as never)).toEqual({ sent: 0 });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
    ses.on(SendEmailCommand).rejects(new MessageRejected({ message: 'Email address is not verified.', $metadata: {} }));
    await expect(sendAlertEmails(new SESv2Client({}), 'alerts@platform.example', ['a@acme.example'], detail, { eventId: EVENT_ID, markers: new MailMarkers('tessera-usage', DynamoDBDocumentClient.from(new DynamoDBClient({}))) })).rejects.toThrow(/not verified/);
  });

  it('one admin\'s address refused by SES (MessageRejected) does not stop the others, nor fail the invocation that would mail the first again', async () => {
    // Three admins, the second refused (e.g. unverified in the SES sandbox): a retry would refuse it again and mail the first twice more.
    cognito.on(ListUsersInGroupCommand, { GroupName: 'tenant-admin', NextToken: 'p2' }).resolves({ Users: [user('bad@acme.example', 'acme'), user('c@acme.example', 'acme')] });
    const rejected = new MessageRejected({ message: 'Email address is not verified. The following identities failed the check in region US-EAST-1: bad@acme.example', $metadata: {} });
    ses.on(SendEmailCommand, { Destination: { ToAddresses: ['bad@acme.example'] } }).rejects(rejected);
    expect(await handler(event())).toEqual({ sent: 2, rejected: [{ address: 'bad@acme.example', error: `MessageRejected: ${rejected.message}` }] });
    expect(mailedTo()).toEqual(['a@acme.example', 'bad@acme.example', 'c@acme.example']);
    expect([...table.keys()].sort()).toEqual([markerOf('a@acme.example'), markerOf('c@acme.example')].sort()); // the refused one's marker deleted
  });

  it('every address refused, or SES throttling after the SDK\'s retries: the invocation fails (retried, then the dead-letter queue)', async () => {
    ses.on(SendEmailCommand).rejects(new MessageRejected({ message: 'Email address is not verified: alerts@platform.example', $metadata: {} }));
    await expect(handler(event())).rejects.toThrow('SES refused the budget alert mail to every admin of tenant acme (2): a@acme.example: MessageRejected: Email address is not verified: alerts@platform.example; b@acme.example: MessageRejected: Email address is not verified: alerts@platform.example');
    ses.reset();
    ses.on(SendEmailCommand).rejects(new TooManyRequestsException({ message: 'Too many requests', $metadata: {} }));
    await expect(handler(event('7a1d2e3f-0000-4000-8000-000000000001'))).rejects.toThrow('Too many requests');
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
  });

  describe('once per admin and event (markers in the usage table)', () => {
    const five = ['a', 'b', 'c', 'd', 'e'].map((n) => `${n}@acme.example`);
    beforeEach(() => {
      cognito.on(ListUsersInGroupCommand, { GroupName: 'tenant-admin', NextToken: 'p2' }).resolves({ Users: five.slice(1).map((a) => user(a, 'acme')) });
    });

    it('a retry after SES throttled the 3rd of 5 admins mails only the 3rd, 4th and 5th', async () => {
      const throttled = new TooManyRequestsException({ message: 'Maximum sending rate exceeded.', $metadata: { httpStatusCode: 429 } });
      ses.on(SendEmailCommand, { Destination: { ToAddresses: ['c@acme.example'] } }).rejects(throttled);
      await expect(handler(event())).rejects.toThrow('Maximum sending rate exceeded.');
      expect(mailedTo()).toEqual(['a@acme.example', 'b@acme.example', 'c@acme.example']);
      expect([...table.keys()]).toEqual([markerOf('a@acme.example'), markerOf('b@acme.example')]); // the throttled one's marker deleted
      ses.reset();
      ses.on(SendEmailCommand).resolves({ MessageId: 'm-2' });
      expect(await handler(event())).toEqual({ sent: 3, alreadyMailed: 2 }); // Lambda's retry: the same event, the same id
      expect(mailedTo()).toEqual(['c@acme.example', 'd@acme.example', 'e@acme.example']);
    });

    it('the same event delivered twice (EventBridge, a DLQ redrive) mails nobody the second time; another event mails everyone', async () => {
      expect(await handler(event())).toEqual({ sent: 5 });
      ses.resetHistory();
      expect(await handler(event())).toEqual({ sent: 0, alreadyMailed: 5 });
      expect(mailedTo()).toEqual([]);
      expect(await handler(event('0b7e9c4a-2f61-4d8e-a3c5-9e8d7c6b5a41'))).toEqual({ sent: 5 });
    });

    it('SES refusing the mail (MessageRejected) deletes the marker: the next delivery mails that admin', async () => {
      ses.on(SendEmailCommand).rejects(new MessageRejected({ message: 'Email address is not verified: alerts@platform.example', $metadata: { httpStatusCode: 400 } }));
      await expect(handler(event())).rejects.toThrow('SES refused the budget alert mail to every admin of tenant acme (5)');
      expect(table.size).toBe(0);
      expect(ddb.commandCalls(DeleteCommand).map((c) => c.args[0].input.Key)).toEqual(five.map((a) => ({ id: markerOf(a) })));
      ses.reset();
      ses.on(SendEmailCommand).resolves({ MessageId: 'm-2' });
      expect(await handler(event())).toEqual({ sent: 5 });
    });

    it('a SendEmail without SES\'s answer (server error) keeps the marker: at most once, that admin is not mailed again', async () => {
      ses.on(SendEmailCommand, { Destination: { ToAddresses: ['b@acme.example'] } }).rejects(new SESv2ServiceException({ name: 'InternalFailure', $fault: 'server', message: 'internal', $metadata: { httpStatusCode: 500 } }));
      await expect(handler(event())).rejects.toThrow('internal');
      ses.reset();
      ses.on(SendEmailCommand).resolves({ MessageId: 'm-2' });
      expect(await handler(event())).toEqual({ sent: 3, alreadyMailed: 2 });
      expect(mailedTo()).toEqual(['c@acme.example', 'd@acme.example', 'e@acme.example']);
    });

    it('writes a marker per address keyed by the event id and the address\'s SHA-256, expiring in 30 days', async () => {
      const at = new Date('2026-12-14T09:30:02Z');
      const markers = new MailMarkers('tessera-usage', DynamoDBDocumentClient.from(new DynamoDBClient({})), () => at);
      expect(await markers.claim(EVENT_ID, 'a@acme.example')).toEqual({ id: markerOf('a@acme.example'), claimedAt: at.toISOString() });
      expect(ddb.commandCalls(PutCommand)[0]!.args[0].input).toEqual({
        TableName: 'tessera-usage', ConditionExpression: 'attribute_not_exists(id)',
        Item: { id: markerOf('a@acme.example'), claimedAt: '2026-12-14T09:30:02.000Z', expiresAt: at.getTime() / 1000 + 30 * 86_400 },
      });
      expect(await markers.claim(EVENT_ID, 'a@acme.example')).toBeUndefined();
    });

    it('refuses an event without an id (a detail invoked by hand), mailing nobody', async () => {
      await expect(handler({ detail } as never)).rejects.toThrow('event.id = undefined: is not an EventBridge event id');
      expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
    });
  });
});
