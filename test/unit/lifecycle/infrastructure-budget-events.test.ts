import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mockStrict } from '../../support/strict-mock.js';
import { records, registryMock } from './registry-mock.js';
import { setLifecycleEnv, tenant } from './support.js';

vi.mock('../../../lambdas/shared/registry.js', () => registryMock);
setLifecycleEnv();
const { forwardBudgetAlerts } = await import('../../../lambdas/budgets/infrastructure-budget-events.js');
const { parseBudgetAlert } = await import('../../../lib/infrastructure-budget-events.js');

const bus = mockStrict(EventBridgeClient, 'events', EventBridgeServiceException);
const TOPIC = 'arn:aws:sns:us-east-1:333333333333:tessera-acme-infrastructure-budget';

/** The text AWS Budgets publishes for a notification (the lines the forwarder reads, in Budgets' mail layout). */
const alertText = (o: { type?: string; account?: string; name?: string; threshold?: string; amount?: string; limit?: string } = {}) => [
  'AWS Budget Notification December 05, 2026',
  `AWS Account ${o.account ?? '333333333333'}`,
  '',
  'Dear AWS Customer,',
  '',
  `You requested that we alert you when the ${o.type ?? 'ACTUAL'} Cost associated with your ${o.name ?? 'tessera-acme-infrastructure'} budget is greater than ${o.threshold ?? '$1,000.00'} for the current month.`,
  '',
  `Budget Name: ${o.name ?? 'tessera-acme-infrastructure'}`,
  'Budget Type: Cost',
  `Budgeted Amount: ${o.limit ?? '$1,250.00'}`,
  `Alert Type: ${o.type ?? 'ACTUAL'}`,
  `Alert Threshold: > ${o.threshold ?? '$1,000.00'}`,
  `${o.type ?? 'ACTUAL'} Amount: ${o.amount ?? '$1,012.34'}`,
  '',
  '[1] https://console.aws.amazon.com/billing/home#/budgets',
].join('\n');

/** The signing fields SNS puts in an envelope (the SNS Developer Guide's example's form; the certificate id made up). */
const SIGNED = {
  SignatureVersion: '1', Signature: 'EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=',
  SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem',
};
const notification = (message: string, topicArn = TOPIC, signed: Record<string, unknown> = SIGNED) => ({
  Type: 'Notification', MessageId: 'm-1', TopicArn: topicArn, Subject: 'AWS Budgets: tessera-acme-infrastructure has exceeded your alert threshold',
  Message: message, Timestamp: '2026-12-05T09:00:00.000Z', ...signed,
});
const sqs = (...bodies: unknown[]): SQSEvent => ({
  Records: bodies.map((b, i) => ({ messageId: `q-${i}`, body: typeof b === 'string' ? b : JSON.stringify(b) })) as SQSEvent['Records'],
});
const put = () => bus.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries![0]!);

describe('infrastructure budget alerts to the platform bus', () => {
  beforeEach(() => {
    records.clear();
    records.set('acme', tenant({ status: 'ACTIVE', tier: 'business', accountId: '333333333333' }));
    bus.reset();
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('puts Tenant Infrastructure Budget Exceeded with the tenant, its tier, the threshold percent, the amount and the limit', async () => {
    // WHEN
    await forwardBudgetAlerts(sqs(notification(alertText())));
    // THEN
    expect(put()).toEqual([{ EventBusName: 'tessera-lifecycle', Source: 'tessera.lifecycle', DetailType: 'Tenant Infrastructure Budget Exceeded', Detail: expect.any(String) }]);
    expect(JSON.parse(put()[0]!.Detail!)).toEqual({
      tenantId: 'acme', tier: 'business', accountId: '333333333333', budgetName: 'tessera-acme-infrastructure', notificationType: 'ACTUAL',
      thresholdPercent: 80, amount: 1012.34, limit: 1250, currency: 'USD', at: '2026-12-05T09:00:00.000Z', messageId: 'm-1',
    });
  });

  it('a FORECASTED alert says so, with the forecast as the amount', async () => {
    await forwardBudgetAlerts(sqs(notification(alertText({ type: 'FORECASTED', threshold: '$1,500.00', amount: '$1,640.10' }))));
    expect(JSON.parse(put()[0]!.Detail!)).toMatchObject({ notificationType: 'FORECASTED', thresholdPercent: 120, amount: 1640.1, limit: 1250 });
  });

  it('refuses, putting nothing: a topic of another account than the tenant\'s, an unknown tenant, another budget\'s alert, another currency, a body that is no SNS envelope', async () => {
    await expect(forwardBudgetAlerts(sqs(notification(alertText(), TOPIC.replace('333333333333', '444444444444'))))).rejects.toThrow(/account 444444444444, tenant acme runs in 333333333333/);
    await expect(forwardBudgetAlerts(sqs(notification(alertText(), TOPIC.replace('acme', 'ghost'))))).rejects.toThrow(/no tenant ghost/);
    await expect(forwardBudgetAlerts(sqs(notification(alertText(), 'arn:aws:sns:us-east-1:333333333333:other-topic')))).rejects.toThrow(/no tenant's infrastructure budget topic/);
    await expect(forwardBudgetAlerts(sqs(notification(alertText({ name: 'tessera-hooli-infrastructure' }))))).rejects.toThrow(/"Budget Name" is tessera-hooli-infrastructure, not tessera-acme-infrastructure/);
    await expect(forwardBudgetAlerts(sqs(notification(alertText({ account: '555555555555' }))))).rejects.toThrow(/"AWS Account" is 555555555555/);
    await expect(forwardBudgetAlerts(sqs(notification(alertText({ amount: '€1,012.34' }))))).rejects.toThrow(/"ACTUAL Amount" is "€1,012.34", not a USD amount/);
    await expect(forwardBudgetAlerts(sqs('not json'))).rejects.toThrow(/message q-0: the body is not JSON/);
    await expect(forwardBudgetAlerts(sqs({ Type: 'UnsubscribeConfirmation', TopicArn: TOPIC }))).rejects.toThrow(/not an SNS notification or subscription confirmation/);
    expect(bus.commandCalls(PutEventsCommand)).toEqual([]);
  });

  it('fails when EventBridge rejects the entry, so that SQS redelivers the alert', async () => {
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }] });
    await expect(forwardBudgetAlerts(sqs(notification(alertText())))).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('confirms the tenant topic\'s subscription through its SubscribeURL, and only SNS\'s ConfirmSubscription of that topic', async () => {
    // GIVEN
    const fetch = vi.fn(async () => new Response('<ConfirmSubscriptionResponse/>', { status: 200 }));
    vi.stubGlobal('fetch', fetch);
    const url = `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=t0k3n`;
    const confirmation = (subscribeUrl: string, topicArn = TOPIC) => ({ Type: 'SubscriptionConfirmation', MessageId: 'm-0', TopicArn: topicArn, Token: 't0k3n', SubscribeURL: subscribeUrl, Message: 'You have chosen to subscribe', Timestamp: '2026-12-05T08:00:00.000Z', ...SIGNED });
    // WHEN
    await forwardBudgetAlerts(sqs(confirmation(url)));
    // THEN
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(String((fetch.mock.calls[0] as unknown[])[0])).toBe(url);
    await expect(forwardBudgetAlerts(sqs(confirmation(url.replace('sns.us-east-1.amazonaws.com', 'attacker.example.com'))))).rejects.toThrow(/is not SNS's ConfirmSubscription/);
    await expect(forwardBudgetAlerts(sqs(confirmation(url.replace('ConfirmSubscription', 'Publish'))))).rejects.toThrow(/Action=Publish is not SNS's ConfirmSubscription/);
    await expect(forwardBudgetAlerts(sqs(confirmation(url, TOPIC.replace('333333333333', '444444444444'))))).rejects.toThrow(/account 444444444444/);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(bus.commandCalls(PutEventsCommand)).toEqual([]);
  });

  it('refuses an envelope without SNS\'s signing fields, or whose SigningCertURL is not SNS\'s certificate in the topic\'s Region, putting and fetching nothing', async () => {
    const fetch = vi.fn(async () => new Response('', { status: 200 }));
    vi.stubGlobal('fetch', fetch);
    const text = alertText();
    const cert = SIGNED.SigningCertURL;
    const refusedCert = [
      cert.replace('sns.us-east-1.amazonaws.com', 'sns.eu-west-1.amazonaws.com'), // another Region than the topic's
      cert.replace('sns.us-east-1.amazonaws.com', 'sns.us-east-1.amazonaws.com.attacker.example'),
      cert.replace('https:', 'http:'),
      cert.replace('SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem', 'cert.pem'),
      cert.replace('.pem', '.pem?x=1'),
      cert.replace('https://', 'https://sns.us-east-1.amazonaws.com@attacker.example/'),
    ];
    for (const url of refusedCert) {
      await expect(forwardBudgetAlerts(sqs(notification(text, TOPIC, { ...SIGNED, SigningCertURL: url }))), url).rejects.toThrow(/SigningCertURL .* is not SNS's signing certificate in us-east-1/);
    }
    await expect(forwardBudgetAlerts(sqs(notification(text, TOPIC, { ...SIGNED, SignatureVersion: '3' })))).rejects.toThrow(/not an SNS notification or subscription confirmation \(SignatureVersion: /);
    await expect(forwardBudgetAlerts(sqs(notification(text, TOPIC, { ...SIGNED, Signature: 'not base64!' })))).rejects.toThrow(/\(Signature: /);
    await expect(forwardBudgetAlerts(sqs(notification(text, TOPIC, { SignatureVersion: '1', Signature: SIGNED.Signature })))).rejects.toThrow(/\(SigningCertURL: /);
    const confirmation = { Type: 'SubscriptionConfirmation', MessageId: 'm-0', TopicArn: TOPIC, Token: 't0k3n', SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=t0k3n`, Message: 'x', Timestamp: '2026-12-05T08:00:00.000Z' };
    await expect(forwardBudgetAlerts(sqs({ ...confirmation, ...SIGNED, SigningCertURL: refusedCert[0] }))).rejects.toThrow(/SigningCertURL .* is not SNS's signing certificate/);
    await expect(forwardBudgetAlerts(sqs(confirmation))).rejects.toThrow(/not an SNS notification or subscription confirmation/);
    expect(fetch).not.toHaveBeenCalled();
    expect(bus.commandCalls(PutEventsCommand)).toEqual([]);
    // and the China partition's host, for a topic there
    records.set('acme', tenant({ status: 'ACTIVE', tier: 'business', accountId: '333333333333' }));
    await forwardBudgetAlerts(sqs(notification(text, 'arn:aws-cn:sns:cn-north-1:333333333333:tessera-acme-infrastructure-budget', { ...SIGNED, SigningCertURL: cert.replace('sns.us-east-1.amazonaws.com', 'sns.cn-north-1.amazonaws.com.cn') })));
    expect(put()).toHaveLength(1);
  });

  it('reads Budgets\' alert text and names the line it cannot read', () => {
    expect(parseBudgetAlert(alertText())).toEqual({ accountId: '333333333333', budgetName: 'tessera-acme-infrastructure', notificationType: 'ACTUAL', thresholdAmount: 1000, amount: 1012.34, limit: 1250, currency: 'USD' });
    expect(() => parseBudgetAlert(alertText({ type: 'USAGE' }))).toThrow(/"Alert Type" is "USAGE", not ACTUAL or FORECASTED/);
    expect(() => parseBudgetAlert(alertText().replace(/^Budgeted Amount:.*$/m, ''))).toThrow(/"Budgeted Amount" is missing/);
    expect(() => parseBudgetAlert('hello')).toThrow(/no "AWS Account <12 digits>" line/);
  });
});
