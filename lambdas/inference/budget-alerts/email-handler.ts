import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { EventBridgeEvent } from 'aws-lambda';
import { platformClient } from '../../shared/aws-clients.js';
import { platformDocumentClient } from '../../shared/document-clients.js';
import { requireEnv } from '../../shared/environment.js';
import { sendAlertEmails, tenantAdminEmails, type RejectedRecipient } from './alert-email.js';
import { ALERT_EMAIL_ENV } from './environment.js';
import { MailMarkers } from './mail-markers.js';
import type { BUDGET_THRESHOLD_EVENT, BudgetThresholdDetail } from './thresholds.js';
import { serviceLogger } from '../../shared/service-logger.js';

const logger = serviceLogger('tessera-gateway');


/**
 * `Tenant Budget Threshold Reached` (its EventBridge rule matches only the tiers that mail their
 * admins) → one mail to each enabled admin of the tenant with a verified email (tenantAdminEmails). A tenant without admins is logged and
 * not an error. An admin's address SES refuses (MessageRejected) is logged as an error and the others
 * are still mailed, without failing the invocation (a retry would be refused
 * again); SES refusing them all, another SES error or a Cognito failure fails the invocation, which
 * Lambda retries and then sends to the dead-letter queue.
 *
 * Each admin is mailed at most once per event: markers keyed by the event's `id` (the same across
 * EventBridge's redeliveries, Lambda's retries and `tessera dlq redrive`, which re-invokes with the
 * event as delivered) skip the admins an earlier delivery mailed (sendAlertEmails).
 * @throws Error when the event has no `id` (an invocation by hand of a detail alone): nothing is mailed
 */
export const handler = async (event: EventBridgeEvent<typeof BUDGET_THRESHOLD_EVENT, BudgetThresholdDetail>): Promise<{ sent: number; rejected?: RejectedRecipient[]; alreadyMailed?: number }> => {
  const d = event.detail;
  if (typeof event.id !== 'string' || !event.id) {
    throw new Error(`event.id = ${JSON.stringify(event.id)}: is not an EventBridge event id; the mail is sent once per admin and event id, so invoke with the whole event as EventBridge delivers it (the dead-letter queue's message body)`);
  }
  const senders = JSON.parse(requireEnv(ALERT_EMAIL_ENV.senders)) as Record<string, string>;
  const from = senders[d.tier];
  if (!from) {
    logger.warn('no sender for the tier: budget alert not mailed', { tenantId: d.tenantId, tier: d.tier });
    return { sent: 0 };
  }
  const admins = await tenantAdminEmails(platformClient(CognitoIdentityProviderClient), requireEnv(ALERT_EMAIL_ENV.userPoolId), d.tenantId);
  if (!admins.length) logger.warn('tenant has no enabled admin with a verified email: budget alert not mailed', { tenantId: d.tenantId });
  const markers = new MailMarkers(requireEnv(ALERT_EMAIL_ENV.usageTable), platformDocumentClient());
  const { sent, rejected, alreadyMailed } = await sendAlertEmails(platformClient(SESv2Client), from, admins, d, { eventId: event.id, markers });
  const what = { eventId: event.id, tenantId: d.tenantId, scope: d.scope, budgetId: d.budgetId, thresholdPercent: d.thresholdPercent, periodId: d.periodId, recipients: sent, ...(alreadyMailed ? { alreadyMailed } : {}) };
  if (rejected.length) {
    logger.error('SES refused the budget alert mail to some admins; the others were mailed', { ...what, rejected });
    return { sent, rejected, ...(alreadyMailed ? { alreadyMailed } : {}) };
  }
  logger.info('budget alert mailed', { ...what });
  return { sent, ...(alreadyMailed ? { alreadyMailed } : {}) };
};
