import { execFileSync } from 'node:child_process';
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { vi } from 'vitest';
import { tempDir } from '../../support/temp-dirs.js';

/**
 * SNS's signing as a test does it: a throwaway RSA 2048 key and a self-signed certificate (`CN=sns.amazonaws.com`,
 * valid one day from now) made with `openssl req -x509` in a temp dir when first asked for, standing in for SNS's
 * certificate at a `SigningCertURL`; and envelopes signed with it. Test-only: the key signs nothing else.
 *
 * The string to sign is written out here from the SNS Developer Guide ("Verifying the signatures of Amazon SNS
 * messages"), apart from the forwarder's own, so a mistake in one is not repeated in the other.
 */
let made: { certificatePem: string; privateKey: KeyObject } | undefined;
export function signingCertificate(): { certificatePem: string; privateKey: KeyObject } {
  if (!made) {
    const dir = tempDir('tessera-sns-cert-');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=sns.amazonaws.com', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    made = { certificatePem: readFileSync(join(dir, 'cert.pem'), 'utf8'), privateKey: createPrivateKey(readFileSync(join(dir, 'key.pem'))) };
  }
  return made;
}

/** The certificate URL of SNS in us-east-1 the signed envelopes name (the guide's example's form; the id made up). */
export const CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem';

const NOTIFICATION_FIELDS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];
const CONFIRMATION_FIELDS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];

/**
 * `envelope` with SNS's signing fields: `SignatureVersion` `version` (`2`: SHA256withRSA, `1`: SHA1withRSA), the
 * base64 `Signature` of the guide's string to sign (each field `Name\nvalue\n` in byte order; Subject only when present)
 * made with the test key, and `SigningCertURL` `certUrl`.
 */
export function signed<T extends Record<string, unknown>>(envelope: T, o: { version?: '1' | '2'; certUrl?: string } = {}): T & { SignatureVersion: string; Signature: string; SigningCertURL: string } {
  const version = o.version ?? '2';
  const fields = envelope.Type === 'Notification' ? NOTIFICATION_FIELDS : CONFIRMATION_FIELDS;
  const text = fields.filter((f) => envelope[f] !== undefined).map((f) => `${f}\n${String(envelope[f])}\n`).join('');
  const signature = sign(version === '2' ? 'sha256' : 'sha1', Buffer.from(text, 'utf8'), signingCertificate().privateKey).toString('base64');
  return { ...envelope, SignatureVersion: version, Signature: signature, SigningCertURL: o.certUrl ?? CERT_URL };
}

/**
 * A `fetch` stub (vi.stubGlobal('fetch', …)): a URL ending `.pem` of `certificates` answers that certificate (the
 * test certificate for every `.pem` when `certificates` is left out), any other `.pem` 404; every other URL (SNS's
 * ConfirmSubscription) answers 200 `<ConfirmSubscriptionResponse/>`.
 */
export function snsFetch(certificates?: Record<string, string>) {
  return vi.fn(async (input: string | URL | Request, _init?: RequestInit) => {
    const url = String(input);
    if (!url.endsWith('.pem')) return new Response('<ConfirmSubscriptionResponse/>', { status: 200 });
    const pem = certificates ? certificates[url] : signingCertificate().certificatePem;
    return pem === undefined ? new Response('<Error><Code>NotFound</Code></Error>', { status: 404 }) : new Response(pem, { status: 200 });
  });
}

/** The `.pem` URLs a {@link snsFetch} stub was asked for. */
export const certificateFetches = (fetch: ReturnType<typeof snsFetch>) => fetch.mock.calls.map((c) => String(c[0])).filter((u) => u.endsWith('.pem'));
