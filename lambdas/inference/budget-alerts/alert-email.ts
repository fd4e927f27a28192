import { paginateListUsersInGroup, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { MessageRejected, SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import { pages } from '../../../lib/aws-pages.js';
import { groupOf } from '../../../lib/identity/roles.js';
import { TENANT_ATTRIBUTE } from '../../identity/cognito-tenant-users.js';
import type { MailMarkers } from './mail-markers.js';
import type { BudgetThresholdDetail } from './thresholds.js';

/**
 * The enabled admins of `tenantId` with a verified email: members of the `tenant-admin` group (lib/identity/
 * roles.ts groupOf) whose `custom:tenant_id` is the tenant and whose `email_verified` is `true`. The
 * invite sets it (cognito-tenant-users.ts); a user may change their own `email` (UpdateUserAttributes: the
 * app client does not restrict write attributes), which Cognito leaves unverified until its code is
 * confirmed: mailing it let any admin have the platform's sender mail any address (whose bounces and
 * complaints count against the sender every tenant's alerts share). Cognito's ListUsersInGroup cannot
 * filter by attribute, so the group is paged through (60 users a page, its maximum) and filtered here.
 * @returns email addresses, each once, in the order Cognito lists them
 */
export async function tenantAdminEmails(cognito: CognitoIdentityProviderClient, userPoolId: string, tenantId: string): Promise<string[]> {
  const emails = new Set<string>();
  for await (const page of paginateListUsersInGroup(pages(cognito, 60), { UserPoolId: userPoolId, GroupName: groupOf('admin') })) {
    for (const u of page.Users ?? []) {
      const attr = (name: string) => u.Attributes?.find((a) => a.Name === name)?.Value;
      const email = attr('email');
      if (u.Enabled !== false && attr(TENANT_ATTRIBUTE) === tenantId && email && attr('email_verified') === 'true') emails.add(email);
    }
  }
  return [...emails];
}

const whose = (d: BudgetThresholdDetail) => (d.scope === 'tenant' ? `tenant ${d.tenantId}` : `${d.scope} ${d.subjectId} of tenant ${d.tenantId}`);
/** US dollars to the nano-dollar (the unit budgets count in), at least 2 decimals: `5.00`, `0.0032`, `0.0000004`; toFixed(2) made a USD 0.004 budget `0.00`. */
const usdText = (n: number) => {
  const [whole, fraction = ''] = n.toFixed(9).replace(/0+$/, '').split('.');
  return `${whole}.${fraction.padEnd(2, '0')}`;
};
const amount = (d: BudgetThresholdDetail, n: number) => (d.unit === 'USD' ? `USD ${usdText(n)}` : `${n.toLocaleString('en-US')} tokens`);

/** The mail of one event: subject and plain-text body (no HTML, no tracking). */
export function alertMessage(d: BudgetThresholdDetail): { subject: string; body: string } {
  const subject = `Tessera: ${d.thresholdPercent}% of the ${d.budget} reached for ${whose(d)}`;
  const body = [
    `The ${d.budget} of ${whose(d)} has reached ${d.thresholdPercent}% of its limit.`,
    '',
    `Used: ${amount(d, d.used)} of ${amount(d, d.limit)} (${d.usedPercent}%) in the ${d.period} ${d.periodId} (UTC).`,
    d.thresholdPercent >= 100
      ? `Requests that would go past the limit are refused with 429 budget_exceeded until ${d.periodEndsAt}, when the budget resets.`
      : `The budget resets at ${d.periodEndsAt}. At 100%, requests that would go past it are refused with 429 budget_exceeded.`,
    '',
    'GET /v1/usage (or /v1/usage?group_by=user|key) shows the usage; your platform team can change the limits.',
    `You receive this as an admin of tenant ${d.tenantId}.`,
  ].join('\n');
  return { subject, body };
}

/** An admin's address SES refused (`MessageRejected`), with SES's error. */
export interface RejectedRecipient {
  address: string;
  /** `<error name>: <message>` as SES answered. */
  error: string;
}

/** What `sendAlertEmails` did: how many mails SES accepted, the addresses it refused, and the addresses skipped as already mailed for this event. */
export interface AlertMailOutcome {
  sent: number;
  rejected: RejectedRecipient[];
  /** Addresses whose marker for this event exists: mailed by an earlier delivery of the same event (or being mailed). */
  alreadyMailed: number;
}

/**
 * True when SES answered the SendEmail with a client error (`$fault: 'client'`: MessageRejected,
 * TooManyRequestsException, LimitExceededException, SendingPausedException, …): SES refused it,
 * no mail went out. A server error, a timeout or a lost connection may have sent it: false.
 */
const refusedBySes = (e: unknown) => (e as { $fault?: string }).$fault === 'client';

/**
 * Sends the event's mail to each admin separately (no admin sees another's address), through SES
 * v2 SendEmail from `from` (an identity verified in SES; in the SES sandbox, recipients must be
 * verified too), each address at most once per event.
 *
 * Once per address: before each SendEmail, `markers.claim(eventId, address)` (a conditional
 * PutItem); an address already claimed is skipped, so a retry of the invocation, a second delivery
 * of the event by EventBridge or a `tessera dlq redrive` (all keep the event's `id`) mails only the
 * admins not mailed yet. When SES refuses the mail (a client error, `refusedBySes`) the marker is
 * deleted so that the next delivery mails that address. A Lambda that dies between the PutItem and
 * the SendEmail (timeout, out of memory), or a SendEmail that ends without SES's answer (timeout,
 * server error), leaves the marker: that admin is not mailed for this event. At most once per
 * address is the trade-off (the other way mails every admin before it again).
 *
 * An address SES refuses (`MessageRejected`: in the sandbox, an unverified recipient) is recorded and
 * the next admin is mailed: a retry of the invocation would be refused again. When SES refuses every
 * address (a sender that is not verified refuses them all), nothing was sent
 * and the error is thrown.
 * @param mail the event's EventBridge `id` and the markers
 * @returns the mails sent, the addresses refused, the addresses already mailed
 * @throws Error naming every refused address when all were refused; any other SES error at once
 *   (throttling past the SDK's retries, a paused or suspended account: the Lambda then fails, Lambda
 *   retries the invocation, then its dead-letter queue keeps the event); any DynamoDB error of a marker
 */
export async function sendAlertEmails(ses: SESv2Client, from: string, to: string[], d: BudgetThresholdDetail, mail: { eventId: string; markers: MailMarkers }): Promise<AlertMailOutcome> {
  const { subject, body } = alertMessage(d);
  const rejected: RejectedRecipient[] = [];
  let sent = 0;
  let alreadyMailed = 0;
  for (const address of to) {
    const claim = await mail.markers.claim(mail.eventId, address);
    if (!claim) {
      alreadyMailed++;
      continue;
    }
    try {
      await ses.send(new SendEmailCommand({
        FromEmailAddress: from,
        Destination: { ToAddresses: [address] },
        Content: { Simple: { Subject: { Data: subject, Charset: 'UTF-8' }, Body: { Text: { Data: body, Charset: 'UTF-8' } } } },
      }));
      sent++;
    } catch (e) {
      if (refusedBySes(e)) await mail.markers.release(claim);
      if (!(e instanceof MessageRejected || (e as Error).name === 'MessageRejected')) throw e;
      rejected.push({ address, error: `${(e as Error).name}: ${(e as Error).message}` });
    }
  }
  if (rejected.length && rejected.length === to.length) {
    throw new Error(`SES refused the budget alert mail to every admin of tenant ${d.tenantId} (${to.length}): ${rejected.map((r) => `${r.address}: ${r.error}`).join('; ')}`);
  }
  return { sent, rejected, alreadyMailed };
}
