import { X509Certificate, verify } from 'node:crypto';

/**
 * Verifying an Amazon SNS message's signature (SNS Developer Guide, "Verifying the signatures of Amazon SNS messages"),
 * with `node:crypto` and `fetch` only. The npm libraries were weighed and left: `sns-validator` 0.3.5 (AWS's) verifies
 * SignatureVersion 1 (SHA1withRSA) only and fetches the certificate without a timeout; `sns-payload-validator` 2.1.0
 * (one maintainer) checks no HTTP status and sets no timeout either. What is needed is a few lines over
 * `crypto.X509Certificate` and `crypto.verify`.
 *
 * The guide's string to sign: "a newline character–delimited list of specific name-value pairs from the message.
 * Each name-value pair is represented with the name first followed by a newline character, followed by the value,
 * and ending with a newline character. The name-value pairs must be listed in byte-sort order." For a `Notification`:
 * `Message`, `MessageId`, `Subject` ("if included in the message"), `Timestamp`, `TopicArn`, `Type`; for a
 * `SubscriptionConfirmation` and an `UnsubscribeConfirmation`: `Message`, `MessageId`, `SubscribeURL`, `Timestamp`,
 * `Token`, `TopicArn`, `Type`. The values are the JSON's, unescaped (`JSON.parse` gives them so). `SignatureVersion`
 * `1` is the base64 SHA1withRSA signature of that string, `2` SHA256withRSA.
 *
 * Trust: the certificate is what SNS serves at `SigningCertURL`, fetched over HTTPS (Node's `fetch` checks the
 * server's TLS certificate against its CA store) and without following a redirect; the caller must first check that
 * the URL is SNS's own (`https://sns.<region>.amazonaws.com/SimpleNotificationService-<id>.pem`, as the forwarder's
 * checkSigningCert does). The certificate's own chain is not checked (SNS's intermediate CAs are not in Node's store).
 */

/** The fields of an SNS message its signature covers (the JSON envelope SNS posts, or puts in an SQS message). */
export type SnsSignedFields =
  | { Type: 'Notification'; Message: string; MessageId: string; Subject?: string; Timestamp: string; TopicArn: string }
  | { Type: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation'; Message: string; MessageId: string; SubscribeURL: string; Timestamp: string; Token: string; TopicArn: string };

/** The guide's string to sign of `message` (see the module's comment): `Name\nvalue\n` per field, in byte order. */
export function snsStringToSign(message: SnsSignedFields): string {
  const pairs: Array<[string, string]> = message.Type === 'Notification'
    ? [['Message', message.Message], ['MessageId', message.MessageId], ...(message.Subject !== undefined ? [['Subject', message.Subject] as [string, string]] : []),
      ['Timestamp', message.Timestamp], ['TopicArn', message.TopicArn], ['Type', message.Type]]
    : [['Message', message.Message], ['MessageId', message.MessageId], ['SubscribeURL', message.SubscribeURL], ['Timestamp', message.Timestamp],
      ['Token', message.Token], ['TopicArn', message.TopicArn], ['Type', message.Type]];
  return pairs.map(([name, value]) => `${name}\n${value}\n`).join('');
}

/** The hash of each `SignatureVersion` (RSA PKCS#1 v1.5 signatures). */
const HASH = { 1: 'sha1', 2: 'sha256' } as const;

/**
 * Whether `signature` (base64) is SNS's signature of `message` under `certificate`'s RSA public key, for
 * `SignatureVersion` `version`.
 * @throws Error when the certificate's key is not RSA
 */
export function snsSignatureValid(message: SnsSignedFields, version: '1' | '2', signature: string, certificate: X509Certificate): boolean {
  if (certificate.publicKey.asymmetricKeyType !== 'rsa') throw new Error(`SNS signing certificate ${certificate.subject.replace(/\n/g, ', ')}: its key is ${certificate.publicKey.asymmetricKeyType}, not RSA`);
  return verify(HASH[version], Buffer.from(snsStringToSign(message), 'utf8'), certificate.publicKey, Buffer.from(signature, 'base64'));
}

export interface SigningCertificatesOptions {
  /** How long one fetch of a certificate may take, ms (the forwarder's Lambda has 30 s in all). @default 5000 */
  readonly timeoutMs?: number;
  /** Certificates kept at once (SNS has one per Region at a time); past it, the one kept longest goes. @default 16 */
  readonly maxEntries?: number;
}

/**
 * SNS's signing certificates by URL, fetched when first asked for and kept in the Lambda's memory (for the life of its
 * execution environment), at most `maxEntries`. Each is checked to be valid now when fetched and when taken from
 * memory; a kept one that no longer is is fetched again (SNS rotates its certificates). A failure is not kept.
 */
export class SigningCertificates {
  private readonly kept = new Map<string, X509Certificate>();
  private readonly timeoutMs: number;
  private readonly maxEntries: number;

  constructor(options: SigningCertificatesOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxEntries = options.maxEntries ?? 16;
  }

  /**
   * The certificate at `url` (a URL the caller checked is SNS's), valid now.
   * @throws Error naming the URL: no answer within the timeout, an HTTP status other than 200, a body that is not a
   *   PEM X.509 certificate, or a certificate not valid now
   */
  async get(url: string): Promise<X509Certificate> {
    const kept = this.kept.get(url);
    if (kept && validNow(kept)) return kept;
    this.kept.delete(url);
    const certificate = await this.fetch(url);
    if (!validNow(certificate)) {
      throw new Error(`SNS signing certificate ${url}: valid from ${certificate.validFromDate.toISOString()} to ${certificate.validToDate.toISOString()}, not at ${new Date().toISOString()}`);
    }
    if (this.kept.size >= this.maxEntries) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(url, certificate);
    return certificate;
  }

  private async fetch(url: string): Promise<X509Certificate> {
    let response: Response;
    let body: string;
    try {
      response = await fetch(url, { method: 'GET', redirect: 'error', signal: AbortSignal.timeout(this.timeoutMs) });
      body = await response.text();
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') throw new Error(`SNS signing certificate ${url}: no answer within ${this.timeoutMs} ms`);
      throw new Error(`SNS signing certificate ${url}: ${(e as Error).message}`, { cause: e });
    }
    if (response.status !== 200) throw new Error(`SNS signing certificate ${url}: HTTP ${response.status}`);
    try {
      return new X509Certificate(body);
    } catch {
      throw new Error(`SNS signing certificate ${url}: not an X.509 certificate in PEM`);
    }
  }
}

function validNow(certificate: X509Certificate): boolean {
  const now = Date.now();
  return certificate.validFromDate.getTime() <= now && now <= certificate.validToDate.getTime();
}
