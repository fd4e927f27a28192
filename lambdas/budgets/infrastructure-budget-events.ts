import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { isInfrastructureBudgetName } from '../../lib/config/infrastructure-budget.js';
import {
  budgetTopicOwner, INFRASTRUCTURE_BUDGET_EXCEEDED, InfrastructureBudgetExceededDetail, parseBudgetAlert,
} from '../../lib/infrastructure-budget-events.js';
import { emitLifecycleEvent } from '../shared/events.js';
import { logger } from '../shared/handler.js';
import { getTenant } from '../shared/registry.js';
import { SigningCertificates, snsSignatureValid } from './sns-signature.js';

/**
 * The signing fields SNS puts in every envelope: `SignatureVersion` `1` (SHA1withRSA, a topic's default) or `2`
 * (SHA256withRSA), `Signature` (base64) and `SigningCertURL`, the certificate SNS signed with (SNS Developer Guide,
 * "Verifying the signatures of Amazon SNS messages"). The forwarder accepts `2` only (the tenant budget topic's
 * `SignatureVersion`: constructs/tenant-infrastructure-budget.ts) and verifies it (./sns-signature.ts).
 */
const Signed = {
  SignatureVersion: z.enum(['1', '2']),
  Signature: z.base64().min(1),
  SigningCertURL: z.url(),
};

/**
 * The SNS envelope SQS holds for a topic's message (raw message delivery off): the fields read or signed, as the SNS
 * Developer Guide gives them ("HTTP/HTTPS notification JSON format", "HTTP/HTTPS subscription confirmation JSON format";
 * a notification's `Subject` only when the publisher gave one).
 */
export const SnsEnvelope = z.discriminatedUnion('Type', [
  z.object({ Type: z.literal('Notification'), MessageId: z.string().min(1), TopicArn: z.string(), Subject: z.string().optional(), Message: z.string(), Timestamp: z.iso.datetime(), ...Signed }),
  z.object({ Type: z.literal('SubscriptionConfirmation'), MessageId: z.string().min(1), TopicArn: z.string(), SubscribeURL: z.url(), Token: z.string().min(1), Message: z.string(), Timestamp: z.iso.datetime(), ...Signed }),
]);

/**
 * The form of an AWS Region code (`us-east-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`, `eusc-de-east-1`): the
 * topic's Region names the certificate's host, and other labels under amazonaws.com are not SNS's — `s3`,
 * `s3-external-1` or `s3-us-west-2` would make `sns.<label>.amazonaws.com` S3's endpoint of a bucket named `sns`,
 * served over a valid TLS certificate by whoever owns that bucket.
 */
const REGION_CODE = /^[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}$/;

/**
 * Refuses an envelope whose `SigningCertURL` is not SNS's certificate in the topic's own Region: the Region an AWS
 * Region code ({@link REGION_CODE}), https, host `sns.<region>.amazonaws.com` (`.amazonaws.com.cn` in the China
 * partition), path `/SimpleNotificationService-<id>.pem`, nothing else (the form SNS's guide says to check before
 * fetching it; {@link verifySignature} then fetches it).
 * @throws BudgetAlertRefused naming the Region, or SigningCertURL and its value
 */
function checkSigningCert(envelope: SnsEnvelope, region: string): void {
  if (!REGION_CODE.test(region)) throw new BudgetAlertRefused(`TopicArn ${envelope.TopicArn}: Region ${region} is not an AWS Region name (such as us-east-1), so its SNS host is not SNS's`);
  const url = new URL(envelope.SigningCertURL);
  const hosts = [`sns.${region}.amazonaws.com`, `sns.${region}.amazonaws.com.cn`];
  if (url.protocol !== 'https:' || !hosts.includes(url.hostname) || url.port !== '' || url.search !== '' || url.username !== '' || url.password !== ''
    || !/^\/SimpleNotificationService-[A-Za-z0-9]{1,64}\.pem$/.test(url.pathname)) {
    throw new BudgetAlertRefused(`TopicArn ${envelope.TopicArn}: SigningCertURL ${envelope.SigningCertURL.slice(0, 200)} is not SNS's signing certificate in ${region} (https://sns.${region}.amazonaws.com/SimpleNotificationService-<id>.pem)`);
  }
}
export type SnsEnvelope = z.infer<typeof SnsEnvelope>;

/** SNS's certificates the forwarder fetched, kept for the execution environment's life (5 s a fetch, 16 kept). */
const signingCertificates = new SigningCertificates();

/**
 * Verifies SNS's signature of `envelope` (./sns-signature.ts: the guide's string to sign, SHA256withRSA) with the
 * certificate at its `SigningCertURL`, which {@link checkSigningCert} checked is SNS's in the topic's Region.
 * `SignatureVersion` 1 (SHA1withRSA) is refused before any fetch: the tenant budget topic signs with 2.
 * @throws BudgetAlertRefused naming the message id and topic: SignatureVersion 1, or a signature that does not verify
 * @throws Error naming the certificate URL when it cannot be fetched or is not valid now (the message returns to the
 *   queue, and after its receives to the dead-letter queue)
 */
async function verifySignature(envelope: SnsEnvelope): Promise<void> {
  const message = `message ${envelope.MessageId} of ${envelope.TopicArn}`;
  if (envelope.SignatureVersion !== '2') {
    throw new BudgetAlertRefused(`${message}: SignatureVersion ${envelope.SignatureVersion} (SHA1withRSA) is refused; the tenant budget topic signs with SignatureVersion 2 (SHA256withRSA)`);
  }
  const certificate = await signingCertificates.get(envelope.SigningCertURL);
  if (!snsSignatureValid(envelope, envelope.SignatureVersion, envelope.Signature, certificate)) {
    throw new BudgetAlertRefused(`${message}: the Signature does not verify with the certificate at ${envelope.SigningCertURL} (SignatureVersion 2): not SNS's, or changed since SNS signed it`);
  }
}

/** Why a message is refused: nothing is put, and after the queue's receives it lands in the dead-letter queue. */
export class BudgetAlertRefused extends Error {
  override name = 'BudgetAlertRefused';
}

/**
 * The topic's tenant, checked against the registry: the topic must be `tessera-<tenant>-infrastructure-budget` in the
 * account the registry records for that tenant (its own, or the workload account), so a topic of that name in any
 * other account of the organization is refused; and the envelope's SigningCertURL SNS's in the topic's Region, and
 * its signature SNS's ({@link verifySignature}), before the registry is read.
 * @throws BudgetAlertRefused naming the topic, SigningCertURL, or the message whose signature is refused
 */
async function topicTenant(envelope: SnsEnvelope) {
  const topicArn = envelope.TopicArn;
  const owner = budgetTopicOwner(topicArn);
  if (!owner) throw new BudgetAlertRefused(`TopicArn ${topicArn} is no tenant's infrastructure budget topic (tessera-<tenant>-infrastructure-budget)`);
  checkSigningCert(envelope, owner.region);
  await verifySignature(envelope);
  const record = await getTenant(owner.tenantId);
  if (!record) throw new BudgetAlertRefused(`TopicArn ${topicArn}: no tenant ${owner.tenantId} in the registry`);
  if (record.accountId !== owner.accountId) throw new BudgetAlertRefused(`TopicArn ${topicArn} is in account ${owner.accountId}, tenant ${owner.tenantId} runs in ${record.accountId ?? 'no account'}`);
  return { owner, record };
}

/**
 * Confirms the subscription a tenant blueprint created: one the topic's owner makes for a queue in another account
 * waits for the queue's owner to confirm it (SNS Developer Guide, "Sending Amazon SNS messages to an Amazon SQS queue
 * in a different account", "Topic owner creates subscription"), here by requesting its `SubscribeURL` — only when the
 * URL is SNS's ConfirmSubscription of that same topic in the topic's Region.
 */
async function confirm(envelope: Extract<SnsEnvelope, { Type: 'SubscriptionConfirmation' }>): Promise<void> {
  const { owner } = await topicTenant(envelope);
  const url = new URL(envelope.SubscribeURL);
  if (url.protocol !== 'https:' || url.hostname !== `sns.${owner.region}.amazonaws.com`
    || url.searchParams.get('Action') !== 'ConfirmSubscription' || url.searchParams.get('TopicArn') !== envelope.TopicArn) {
    throw new BudgetAlertRefused(`SubscribeURL ${url.origin}${url.pathname}?Action=${url.searchParams.get('Action')} is not SNS's ConfirmSubscription of ${envelope.TopicArn} at sns.${owner.region}.amazonaws.com`);
  }
  const response = await fetch(url, { method: 'GET', signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`ConfirmSubscription of ${envelope.TopicArn} answered HTTP ${response.status}`);
  logger.info('budget topic subscription confirmed', { tenantId: owner.tenantId, topicArn: envelope.TopicArn });
}

/** Puts {@link INFRASTRUCTURE_BUDGET_EXCEEDED} for one Budgets alert of a tenant's topic. */
async function forward(envelope: Extract<SnsEnvelope, { Type: 'Notification' }>): Promise<void> {
  const { owner, record } = await topicTenant(envelope);
  let alert;
  try {
    alert = parseBudgetAlert(envelope.Message);
  } catch (e) {
    throw new BudgetAlertRefused(`TopicArn ${envelope.TopicArn}: ${(e as Error).message}`);
  }
  if (!isInfrastructureBudgetName(owner.tenantId, alert.budgetName)) {
    throw new BudgetAlertRefused(`TopicArn ${envelope.TopicArn}: "Budget Name" is ${alert.budgetName}, not tessera-${owner.tenantId}-infrastructure-<notifications key>`);
  }
  if (alert.accountId !== owner.accountId) throw new BudgetAlertRefused(`TopicArn ${envelope.TopicArn}: "AWS Account" is ${alert.accountId}, not the topic's ${owner.accountId}`);
  const detail = InfrastructureBudgetExceededDetail.parse({
    tenantId: owner.tenantId, tier: record.tier, accountId: owner.accountId, budgetName: alert.budgetName,
    notificationType: alert.notificationType, thresholdPercent: Math.round((alert.thresholdAmount / alert.limit) * 10_000) / 100,
    amount: alert.amount, limit: alert.limit, currency: alert.currency, at: envelope.Timestamp, messageId: envelope.MessageId,
  });
  await emitLifecycleEvent(INFRASTRUCTURE_BUDGET_EXCEEDED, detail);
  logger.info('infrastructure budget alert forwarded', { tenantId: detail.tenantId, notificationType: detail.notificationType, thresholdPercent: detail.thresholdPercent });
}

/**
 * The platform queue's consumer (constructs/infrastructure-budget-events.ts, batch size 1): each message of a tenant's
 * budget topic, in SNS's envelope, either confirms the topic's subscription or becomes `Tenant Infrastructure Budget
 * Exceeded` on the platform bus. Anything else — a body that is no SNS envelope (its signing fields among them: a
 * signature version, a base64 signature, SNS's certificate URL in the topic's Region), a signature that is not version
 * 2 or does not verify with that certificate, a topic that is not a registered
 * tenant's in that tenant's account, an alert whose text does not parse, or of another budget or account — throws
 * {@link BudgetAlertRefused} naming the field and value and puts nothing; the message lands in the dead-letter queue
 * after the queue's receives.
 * @throws BudgetAlertRefused, or the certificate fetch's, registry's, EventBridge's or the confirmation's error (SQS redelivers)
 */
export async function forwardBudgetAlerts(event: SQSEvent): Promise<void> {
  for (const message of event.Records) {
    let body: unknown;
    try {
      body = JSON.parse(message.body);
    } catch {
      throw new BudgetAlertRefused(`message ${message.messageId}: the body is not JSON (an SNS envelope)`);
    }
    const parsed = SnsEnvelope.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new BudgetAlertRefused(`message ${message.messageId}: not an SNS notification or subscription confirmation (${issue.path.join('.') || 'Type'}: ${issue.message})`);
    }
    if (parsed.data.Type === 'SubscriptionConfirmation') await confirm(parsed.data);
    else await forward(parsed.data);
  }
}

export const handler = middy(forwardBudgetAlerts).use(injectLambdaContext(logger));
