import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mockStrict } from '../../support/strict-mock.js';
import { records, registryMock } from './registry-mock.js';
import { CERT_URL, certificateFetches, signed, signingCertificate, snsFetch } from './sns-signing.js';
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

/** SNS's envelope of a notification of `topicArn`, signed with the test key (sns-signing.ts) unless `signing` says otherwise. */
const notification = (message: string, topicArn = TOPIC, signing: Parameters<typeof signed>[1] = {}) => signed({
  Type: 'Notification', MessageId: 'm-1', TopicArn: topicArn, Subject: 'AWS Budgets: tessera-acme-infrastructure has exceeded your alert threshold',
  Message: message, Timestamp: '2026-12-05T09:00:00.000Z',
}, signing);
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
    vi.stubGlobal('fetch', snsFetch()); // SNS's signing certificate, the test's (a test that looks at the requests stubs its own)
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

  it('forwards the alert of a budget named with its notifications key (tessera-<tenant>-infrastructure-<8 hex digits>, the blueprint\'s name) and of one deployed before the key', async () => {
    await forwardBudgetAlerts(sqs(notification(alertText({ name: 'tessera-acme-infrastructure-0f1e2d3c' }))));
    await forwardBudgetAlerts(sqs(notification(alertText({ name: 'tessera-acme-infrastructure' }))));
    expect(put().map((e) => JSON.parse(e.Detail!).budgetName)).toEqual(['tessera-acme-infrastructure-0f1e2d3c', 'tessera-acme-infrastructure']);
    // Not another tenant's keyed budget, nor a key of another form.
    for (const name of ['tessera-acme-infra-0f1e2d3c', 'tessera-acme-infrastructure-0F1E2D3C', 'tessera-acme-infrastructure-0f1e2d3', 'tessera-acme-infrastructure-0f1e2d3c-x', 'tessera-acmex-infrastructure-0f1e2d3c']) {
      await expect(forwardBudgetAlerts(sqs(notification(alertText({ name }))))).rejects.toThrow(`"Budget Name" is ${name}, not tessera-acme-infrastructure-<notifications key>`);
    }
    expect(put()).toHaveLength(2);
  });

  it('a FORECASTED alert says so, with the forecast as the amount', async () => {
    await forwardBudgetAlerts(sqs(notification(alertText({ type: 'FORECASTED', threshold: '$1,500.00', amount: '$1,640.10' }))));
    expect(JSON.parse(put()[0]!.Detail!)).toMatchObject({ notificationType: 'FORECASTED', thresholdPercent: 120, amount: 1640.1, limit: 1250 });
  });

  it('refuses, putting nothing: a topic of another account than the tenant\'s, an unknown tenant, another budget\'s alert, another currency, a body that is no SNS envelope', async () => {
    await expect(forwardBudgetAlerts(sqs(notification(alertText(), TOPIC.replace('333333333333', '444444444444'))))).rejects.toThrow(/account 444444444444, tenant acme runs in 333333333333/);
    await expect(forwardBudgetAlerts(sqs(notification(alertText(), TOPIC.replace('acme', 'ghost'))))).rejects.toThrow(/no tenant ghost/);
    await expect(forwardBudgetAlerts(sqs(notification(alertText(), 'arn:aws:sns:us-east-1:333333333333:other-topic')))).rejects.toThrow(/no tenant's infrastructure budget topic/);
    await expect(forwardBudgetAlerts(sqs(notification(alertText({ name: 'tessera-hooli-infrastructure' }))))).rejects.toThrow(/"Budget Name" is tessera-hooli-infrastructure, not tessera-acme-infrastructure-<notifications key>/);
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
    const fetch = snsFetch();
    vi.stubGlobal('fetch', fetch);
    const url = `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=t0k3n`;
    const confirmation = (subscribeUrl: string, topicArn = TOPIC) => signed({ Type: 'SubscriptionConfirmation', MessageId: 'm-0', TopicArn: topicArn, Token: 't0k3n', SubscribeURL: subscribeUrl, Message: 'You have chosen to subscribe', Timestamp: '2026-12-05T08:00:00.000Z' });
    const confirmations = () => fetch.mock.calls.map((c) => String(c[0])).filter((u) => !u.endsWith('.pem'));
    // WHEN
    await forwardBudgetAlerts(sqs(confirmation(url)));
    // THEN
    expect(confirmations()).toEqual([url]);
    await expect(forwardBudgetAlerts(sqs(confirmation(url.replace('sns.us-east-1.amazonaws.com', 'attacker.example.com'))))).rejects.toThrow(/is not SNS's ConfirmSubscription/);
    await expect(forwardBudgetAlerts(sqs(confirmation(url.replace('ConfirmSubscription', 'Publish'))))).rejects.toThrow(/Action=Publish is not SNS's ConfirmSubscription/);
    await expect(forwardBudgetAlerts(sqs(confirmation(url, TOPIC.replace('333333333333', '444444444444'))))).rejects.toThrow(/account 444444444444/);
    // A confirmation is signed too: its SubscribeURL, Token or Message changed after signing is refused before any request to it.
    const good = confirmation(url);
    for (const tampered of [{ SubscribeURL: `${url}x` }, { Token: 'other' }, { Message: 'You have chosen' }]) {
      await expect(forwardBudgetAlerts(sqs({ ...good, ...tampered })), JSON.stringify(tampered)).rejects.toThrow(/message m-0 of .*: the Signature does not verify/);
    }
    expect(confirmations()).toEqual([url]);
    expect(bus.commandCalls(PutEventsCommand)).toEqual([]);
  });

  it('refuses an envelope without SNS\'s signing fields, or whose SigningCertURL is not SNS\'s certificate in the topic\'s Region, putting and fetching nothing', async () => {
    const fetch = snsFetch();
    vi.stubGlobal('fetch', fetch);
    const text = alertText();
    const good = notification(text);
    const refusedCert = [
      CERT_URL.replace('sns.us-east-1.amazonaws.com', 'sns.eu-west-1.amazonaws.com'), // another Region than the topic's
      CERT_URL.replace('sns.us-east-1.amazonaws.com', 'sns.us-east-1.amazonaws.com.attacker.example'),
      CERT_URL.replace('https:', 'http:'),
      CERT_URL.replace('SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem', 'cert.pem'),
      CERT_URL.replace('.pem', '.pem?x=1'),
      CERT_URL.replace('https://', 'https://sns.us-east-1.amazonaws.com@attacker.example/'),
    ];
    for (const url of refusedCert) {
      await expect(forwardBudgetAlerts(sqs(notification(text, TOPIC, { certUrl: url }))), url).rejects.toThrow(/SigningCertURL .* is not SNS's signing certificate in us-east-1/);
    }
    await expect(forwardBudgetAlerts(sqs({ ...good, SignatureVersion: '3' }))).rejects.toThrow(/not an SNS notification or subscription confirmation \(SignatureVersion: /);
    await expect(forwardBudgetAlerts(sqs({ ...good, Signature: 'not base64!' }))).rejects.toThrow(/\(Signature: /);
    await expect(forwardBudgetAlerts(sqs({ ...good, SigningCertURL: undefined }))).rejects.toThrow(/\(SigningCertURL: /);
    const confirmation = { Type: 'SubscriptionConfirmation', MessageId: 'm-0', TopicArn: TOPIC, Token: 't0k3n', SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=t0k3n`, Message: 'x', Timestamp: '2026-12-05T08:00:00.000Z' };
    await expect(forwardBudgetAlerts(sqs(signed(confirmation, { certUrl: refusedCert[0] })))).rejects.toThrow(/SigningCertURL .* is not SNS's signing certificate/);
    await expect(forwardBudgetAlerts(sqs(confirmation))).rejects.toThrow(/not an SNS notification or subscription confirmation/);
    expect(fetch).not.toHaveBeenCalled();
    expect(bus.commandCalls(PutEventsCommand)).toEqual([]);
    // and the China partition's host, for a topic there
    const cn = CERT_URL.replace('sns.us-east-1.amazonaws.com', 'sns.cn-north-1.amazonaws.com.cn');
    await forwardBudgetAlerts(sqs(notification(text, 'arn:aws-cn:sns:cn-north-1:333333333333:tessera-acme-infrastructure-budget', { certUrl: cn })));
    expect(certificateFetches(fetch)).toEqual([cn]);
    expect(put()).toHaveLength(1);
  });

  it('refuses a topic whose Region is no Region name, so SigningCertURL cannot name a host that is not SNS\'s (sns.s3.amazonaws.com is S3\'s bucket "sns"), and a URL with a password, fetching nothing', async () => {
    const fetch = snsFetch();
    vi.stubGlobal('fetch', fetch);
    // A forged envelope (a raw-delivery subscription of an organization account's topic) names the tenant's topic in a
    // "Region" whose SNS host is a host anyone can serve from over valid TLS: S3's virtual-hosted bucket endpoints.
    for (const region of ['s3', 's3-external-1', 's3-us-west-2']) {
      const certUrl = CERT_URL.replace('us-east-1', region);
      await expect(forwardBudgetAlerts(sqs(notification(alertText(), TOPIC.replace('us-east-1', region), { certUrl }))), region)
        .rejects.toThrow(`TopicArn ${TOPIC.replace('us-east-1', region)}: Region ${region} is not an AWS Region name`);
    }
    const withPassword = CERT_URL.replace('https://', 'https://:secret@');
    await expect(forwardBudgetAlerts(sqs(notification(alertText(), TOPIC, { certUrl: withPassword })))).rejects.toThrow(/SigningCertURL .* is not SNS's signing certificate in us-east-1/);
    expect(fetch).not.toHaveBeenCalled();
    expect(bus.commandCalls(PutEventsCommand)).toEqual([]);
  });

  it('verifies SNS\'s signature (SignatureVersion 2, SHA256withRSA) with the certificate at SigningCertURL: a Message, Subject, Timestamp, TopicArn or MessageId changed after signing is refused, naming the message', async () => {
    // GIVEN
    const fetch = snsFetch();
    vi.stubGlobal('fetch', fetch);
    const good = notification(alertText());
    const tampered: Array<Record<string, unknown>> = [
      { Message: alertText({ amount: '$9,999.00' }) },
      { Subject: 'AWS Budgets: another subject' },
      { Subject: undefined }, // left out: the string to sign loses its Subject
      { Timestamp: '2026-12-05T09:00:00.001Z' },
      { TopicArn: TOPIC.replace('us-east-1', 'us-east-2'), SigningCertURL: CERT_URL.replace('us-east-1', 'us-east-2') },
      { MessageId: 'm-2' },
      { Signature: Buffer.from('x'.repeat(256)).toString('base64') },
    ];
    // WHEN / THEN
    for (const change of tampered) {
      await expect(forwardBudgetAlerts(sqs({ ...good, ...change })), JSON.stringify(change)).rejects.toThrow(/message m-\d of arn:aws:sns:us-east-\d:333333333333:tessera-acme-infrastructure-budget: the Signature does not verify with the certificate at https:\/\/sns\.us-east-\d\.amazonaws\.com\/SimpleNotificationService-/);
    }
    expect(bus.commandCalls(PutEventsCommand)).toEqual([]);
    // the envelope as SNS signed it goes through, and one without a Subject when SNS signed none
    await forwardBudgetAlerts(sqs(good));
    const { Subject: _, ...noSubject } = good;
    await forwardBudgetAlerts(sqs(signed({ ...noSubject, MessageId: 'm-3' })));
    expect(put().map((e) => JSON.parse(e.Detail!).messageId)).toEqual(['m-1', 'm-3']);
  });

  it('refuses SignatureVersion 1 (SHA1withRSA), even signed right, before fetching the certificate: the tenant budget topic signs with 2', async () => {
    const fetch = snsFetch();
    vi.stubGlobal('fetch', fetch);
    await expect(forwardBudgetAlerts(sqs(notification(alertText(), TOPIC, { version: '1' })))).rejects.toThrow(/message m-1 of .*: SignatureVersion 1 \(SHA1withRSA\) is refused; the tenant budget topic signs with SignatureVersion 2/);
    expect(fetch).not.toHaveBeenCalled();
    expect(bus.commandCalls(PutEventsCommand)).toEqual([]);
  });

  it('a certificate SNS answers with other than 200 fails the message, putting nothing; a certificate is fetched once and kept', async () => {
    // GIVEN certificate URLs no other test asks for (the forwarder keeps certificates for the Lambda's life)
    const missing = CERT_URL.replace('f3ecfb7224c7233fe7bb5f59f96de52f', 'missing0');
    const kept = CERT_URL.replace('f3ecfb7224c7233fe7bb5f59f96de52f', 'kept0');
    const fetch = snsFetch({ [kept]: signingCertificate().certificatePem });
    vi.stubGlobal('fetch', fetch);
    // WHEN / THEN
    await expect(forwardBudgetAlerts(sqs(notification(alertText(), TOPIC, { certUrl: missing })))).rejects.toThrow(`SNS signing certificate ${missing}: HTTP 404`);
    expect(bus.commandCalls(PutEventsCommand)).toEqual([]);
    await forwardBudgetAlerts(sqs(notification(alertText(), TOPIC, { certUrl: kept })));
    await forwardBudgetAlerts(sqs(notification(alertText({ amount: '$1,100.00' }), TOPIC, { certUrl: kept })));
    expect(certificateFetches(fetch)).toEqual([missing, kept]);
    // fetched with a timeout, following no redirect
    expect(fetch.mock.calls[1]![1]).toMatchObject({ redirect: 'error', signal: expect.any(AbortSignal) });
    expect(put()).toHaveLength(2);
  });

  it('reads Budgets\' alert text and names the line it cannot read', () => {
    expect(parseBudgetAlert(alertText())).toEqual({ accountId: '333333333333', budgetName: 'tessera-acme-infrastructure', notificationType: 'ACTUAL', thresholdAmount: 1000, amount: 1012.34, limit: 1250, currency: 'USD' });
    expect(() => parseBudgetAlert(alertText({ type: 'USAGE' }))).toThrow(/"Alert Type" is "USAGE", not ACTUAL or FORECASTED/);
    expect(() => parseBudgetAlert(alertText().replace(/^Budgeted Amount:.*$/m, ''))).toThrow(/"Budgeted Amount" is missing/);
    expect(() => parseBudgetAlert('hello')).toThrow(/no "AWS Account <12 digits>" line/);
  });
});
