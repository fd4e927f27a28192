import { afterEach, describe, expect, it, vi } from 'vitest';
import { SigningCertificates, snsStringToSign } from '../../../lambdas/budgets/sns-signature.js';
import { CERT_URL, certificateFetches, signingCertificate, snsFetch } from './sns-signing.js';

/** SNS message signatures (lambdas/budgets/sns-signature.ts); the forwarder's use of them: infrastructure-budget-events.test.ts. */
describe('SNS message signatures', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('the string to sign is the SNS Developer Guide\'s, for a Notification (Subject only when present) and a SubscriptionConfirmation', () => {
    // The guide's examples ("Verifying the signatures of Amazon SNS messages", step "Create the string to sign").
    const topic = 'arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P';
    const notification = { Type: 'Notification', Message: 'My Test Message', MessageId: '4d4dc071-ddbf-465d-bba8-08f81c89da64', Subject: 'My subject', Timestamp: '2019-01-31T04:37:04.321Z', TopicArn: topic } as const;
    expect(snsStringToSign(notification)).toBe(`Message\nMy Test Message\nMessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\nSubject\nMy subject\nTimestamp\n2019-01-31T04:37:04.321Z\nTopicArn\n${topic}\nType\nNotification\n`);
    const { Subject: _, ...noSubject } = notification;
    expect(snsStringToSign(noSubject)).toBe(`Message\nMy Test Message\nMessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\nTimestamp\n2019-01-31T04:37:04.321Z\nTopicArn\n${topic}\nType\nNotification\n`);
    const subscribeUrl = `https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topic}&Token=233...`;
    expect(snsStringToSign({ Type: 'SubscriptionConfirmation', Message: 'My Test Message', MessageId: '3d891288-136d-417f-bc05-901c108273ee', SubscribeURL: subscribeUrl, Timestamp: '2019-01-31T19:25:13.719Z', Token: '233...', TopicArn: topic }))
      .toBe(`Message\nMy Test Message\nMessageId\n3d891288-136d-417f-bc05-901c108273ee\nSubscribeURL\n${subscribeUrl}\nTimestamp\n2019-01-31T19:25:13.719Z\nToken\n233...\nTopicArn\n${topic}\nType\nSubscriptionConfirmation\n`);
  });

  it('a certificate fetch that outlasts the timeout fails naming the URL and the timeout', async () => {
    // GIVEN SNS that never answers (the fetch ends only when its signal aborts)
    vi.stubGlobal('fetch', vi.fn((_url: string, init: RequestInit) => new Promise((_resolve, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)))));
    // WHEN / THEN
    await expect(new SigningCertificates({ timeoutMs: 20 }).get(CERT_URL)).rejects.toThrow(`SNS signing certificate ${CERT_URL}: no answer within 20 ms`);
  });

  it('refuses a body that is no certificate, and a certificate not valid now, also when it is kept from before', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('<html>not a certificate</html>', { status: 200 })));
    await expect(new SigningCertificates().get(CERT_URL)).rejects.toThrow(`SNS signing certificate ${CERT_URL}: not an X.509 certificate in PEM`);
    // GIVEN a certificate valid from now for one day, fetched and kept
    const fetch = snsFetch();
    vi.stubGlobal('fetch', fetch);
    const certificates = new SigningCertificates();
    await certificates.get(CERT_URL);
    // WHEN two days have passed
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 2 * 86_400_000);
    // THEN the kept one is refused, and so is the one fetched again
    await expect(certificates.get(CERT_URL)).rejects.toThrow(/SNS signing certificate .*: valid from .* to .*, not at /);
    expect(certificateFetches(fetch)).toEqual([CERT_URL, CERT_URL]);
    vi.setSystemTime(Date.now() - 4 * 86_400_000);
    await expect(new SigningCertificates().get(CERT_URL)).rejects.toThrow(/valid from .* to .*, not at /);
  });

  it('keeps at most maxEntries certificates, dropping the one kept longest', async () => {
    const pem = signingCertificate().certificatePem;
    const urls = ['a1', 'b2', 'c3'].map((id) => CERT_URL.replace('f3ecfb7224c7233fe7bb5f59f96de52f', id));
    const fetch = snsFetch(Object.fromEntries(urls.map((u) => [u, pem])));
    vi.stubGlobal('fetch', fetch);
    const certificates = new SigningCertificates({ maxEntries: 2 });
    for (const u of [...urls, urls[2]!, urls[1]!, urls[0]!]) await certificates.get(u);
    // a1, b2, c3 fetched; c3 and b2 kept; a1 dropped when c3 came, so fetched again
    expect(certificateFetches(fetch)).toEqual([...urls, urls[0]]);
  });
});
