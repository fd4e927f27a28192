import { CognitoIdentityProviderClient, ListUsersInGroupCommand } from '@aws-sdk/client-cognito-identity-provider';
import { MessageRejected, SendEmailCommand, SESv2Client, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertMessage, sendAlertEmails, tenantAdminEmails } from '../../../../lambdas/inference/budget-alerts/alert-email.js';
import { handler } from '../../../../lambdas/inference/budget-alerts/email-handler.js';
import { thresholdDetail, watchedBudgets } from '../../../../lambdas/inference/budget-alerts/thresholds.js';

const cognito = mockClient(CognitoIdentityProviderClient);
const ses = mockClient(SESv2Client);
const user = (email: string, tenant: string, enabled = true, verified = 'true') => ({
  Username: email, Enabled: enabled, Attributes: [{ Name: 'email', Value: email }, { Name: 'email_verified', Value: verified }, { Name: 'custom:tenant_id', Value: tenant }],
});
const [day] = watchedBudgets({ dayTokens: 1_000_000 });
const detail = thresholdDetail('acme', 'starter', day!, 80, 812_345, '2026-12-14', new Date('2026-12-14T09:30:00Z'));

beforeEach(() => {
  cognito.reset();
  ses.reset();
  // Two pages of the tenant-admin group: admins of acme and of another tenant, one disabled.
  cognito.on(ListUsersInGroupCommand, { GroupName: 'tenant-admin', NextToken: undefined }).resolves({ Users: [user('a@acme.example', 'acme'), user('x@other.example', 'other')], NextToken: 'p2' });
  cognito.on(ListUsersInGroupCommand, { GroupName: 'tenant-admin', NextToken: 'p2' }).resolves({ Users: [user('gone@acme.example', 'acme', false), user('b@acme.example', 'acme')] });
  ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
  Object.assign(process.env, { TESSERA_USER_POOL_ID: 'us-east-1_pool', TESSERA_BUDGET_ALERT_SENDERS: JSON.stringify({ starter: 'alerts@platform.example' }) });
});
afterEach(() => {
  delete process.env.TESSERA_USER_POOL_ID;
  delete process.env.TESSERA_BUDGET_ALERT_SENDERS;
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
    // A budget under a cent: toFixed(2) printed 'USD 0.00 of USD 0.00'; amounts keep their micro-dollars (at least 2 decimals).
    const [cents] = watchedBudgets({}, { kind: 'key', id: 'key_0123456789abcdef', limits: { monthlyCostUsd: 0.004 } });
    expect(alertMessage(thresholdDetail('acme', 'starter', cents!, 80, 0.0032, '2026-12', new Date('2026-12-20T00:00:00Z'))).body).toContain('Used: USD 0.0032 of USD 0.004 (80%)');
    const [big] = watchedBudgets({}, { kind: 'key', id: 'key_0123456789abcdef', limits: { monthlyCostUsd: 1234.5 } });
    expect(alertMessage(thresholdDetail('acme', 'starter', big!, 50, 617.250001, '2026-12', new Date('2026-12-20T00:00:00Z'))).body).toContain('Used: USD 617.250001 of USD 1234.50 (50%)');
  });

  it('the handler mails each admin separately from the tier\'s sender', async () => {
    const out = await handler({ 'detail-type': 'Tenant Budget Threshold Reached', source: 'tessera.lifecycle', detail } as never);
    expect(out).toEqual({ sent: 2 });
    expect(ses.commandCalls(SendEmailCommand).map((c) => [c.args[0].input.FromEmailAddress, c.args[0].input.Destination?.ToAddresses])).toEqual([
      ['alerts@platform.example', ['a@acme.example']], ['alerts@platform.example', ['b@acme.example']],
    ]);
  });

  it('a tier without a sender mails nothing; an SES refusal fails the invocation (EventBridge retries it)', async () => {
    expect(await handler({ detail: { ...detail, tier: 'enterprise' } } as never)).toEqual({ sent: 0 });
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(0);
    ses.on(SendEmailCommand).rejects(new MessageRejected({ message: 'Email address is not verified.', $metadata: {} }));
    await expect(sendAlertEmails(new SESv2Client({}), 'alerts@platform.example', ['a@acme.example'], detail)).rejects.toThrow(/not verified/);
  });

  it('one admin\'s address refused by SES (MessageRejected) does not stop the others, nor fail the invocation that would mail the first again', async () => {
    // Three admins, the second refused (e.g. unverified in the SES sandbox): a retry would refuse it again and mail the first twice more.
    cognito.on(ListUsersInGroupCommand, { GroupName: 'tenant-admin', NextToken: 'p2' }).resolves({ Users: [user('bad@acme.example', 'acme'), user('c@acme.example', 'acme')] });
    const rejected = new MessageRejected({ message: 'Email address is not verified. The following identities failed the check in region US-EAST-1: bad@acme.example', $metadata: {} });
    ses.on(SendEmailCommand, { Destination: { ToAddresses: ['bad@acme.example'] } }).rejects(rejected);
    expect(await handler({ detail } as never)).toEqual({ sent: 2, rejected: [{ address: 'bad@acme.example', error: `MessageRejected: ${rejected.message}` }] });
    expect(ses.commandCalls(SendEmailCommand).map((c) => c.args[0].input.Destination?.ToAddresses?.[0])).toEqual(['a@acme.example', 'bad@acme.example', 'c@acme.example']);
  });

  it('every address refused, or SES throttling after the SDK\'s retries: the invocation fails (retried, then the dead-letter queue)', async () => {
    ses.on(SendEmailCommand).rejects(new MessageRejected({ message: 'Email address is not verified: alerts@platform.example', $metadata: {} }));
    await expect(handler({ detail } as never)).rejects.toThrow('SES refused the budget alert mail to every admin of tenant acme (2): a@acme.example: MessageRejected: Email address is not verified: alerts@platform.example; b@acme.example: MessageRejected: Email address is not verified: alerts@platform.example');
    ses.reset();
    ses.on(SendEmailCommand).rejects(new TooManyRequestsException({ message: 'Too many requests', $metadata: {} }));
    await expect(handler({ detail } as never)).rejects.toThrow('Too many requests');
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
  });
});
