import { GetAccountCommand, GetEmailIdentityCommand, type GetAccountCommandOutput, type SESv2Client } from '@aws-sdk/client-sesv2';
import { alertMailSenders } from '../../config/budget-alerts-config.js';
import { describeAwsError, isAccessDenied, isNotFound } from '../aws-errors.js';
import { result, unreadable } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

/** What SES says of one identity (an address or a domain). */
type IdentityState =
  | { readonly kind: 'verified' }
  | { readonly kind: 'unverified'; /** VerificationStatus, e.g. `PENDING` */ readonly status: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'error'; readonly error: unknown };

/**
 * SESv2 GetEmailIdentity of `name`: `verified` when `VerifiedForSendingStatus` is true (the API
 * reference: the identity may send), `unverified` with its `VerificationStatus` when not,
 * `missing` on NotFoundException, `error` for any other failure.
 */
async function identityState(ses: SESv2Client, name: string): Promise<IdentityState> {
  try {
    const identity = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: name }));
    return identity.VerifiedForSendingStatus ? { kind: 'verified' } : { kind: 'unverified', status: identity.VerificationStatus ?? 'no VerificationStatus' };
  } catch (e) {
    return isNotFound(e) ? { kind: 'missing' } : { kind: 'error', error: e };
  }
}

const describeState = (name: string, s: IdentityState) => (s.kind === 'missing' ? `${name} is not an SES identity` : s.kind === 'unverified' ? `${name} is ${s.status}, not verified for sending` : name);

/**
 * Check: budget alert mail can be sent. Only when some tier sets `budgetAlerts.emailTenantAdmins:
 * true`; otherwise one passing `budget-alert-mail` line and no SES call (doctor needs no SES
 * permission then). The mail Lambda sends with SES v2 SendEmail from the platform account in the
 * home Region, from each tier's `senderEmail` (constructs/tenant-budget-alerts.ts), so:
 * - `ses-sender:<address>`, one per distinct sender: the address, or else its domain, is verified
 *   for sending (GetEmailIdentity `VerifiedForSendingStatus`; the domain is read only when the
 *   address is not verified). These are the two identities the Lambda may send as.
 * - `ses-account`: the account is out of the SES sandbox (GetAccount `ProductionAccessEnabled`:
 *   in the sandbox SES sends only to verified recipients, and tenant admins are not) and its
 *   sending is enabled (`SendingEnabled`); `EnforcementStatus` PROBATION is a warning.
 * Calls (platform account, `ctx.region`): ses:GetEmailIdentity, ses:GetAccount.
 * Source: Amazon SES API v2 reference, GetEmailIdentity and GetAccount.
 */
export async function sesChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const account = ctx.config.platformAccountId;
  const { region } = ctx;
  const where = { account, region };
  const senders = alertMailSenders(ctx.config.tiers);
  const tiersOf = new Map<string, string[]>();
  for (const [tier, address] of Object.entries(senders)) tiersOf.set(address, [...(tiersOf.get(address) ?? []), tier]);
  if (tiersOf.size === 0) {
    return [result('budget-alert-mail', 'Budget alert mail (SES)', 'pass', 'no tier sets budgetAlerts.emailTenantAdmins: true: nothing is mailed, no SES call made', where)];
  }
  const access = await ctx.clientsIn(account);
  if (!access.ok) {
    return [...[...tiersOf.keys()].map((a) => unreadable(`ses-sender:${a}`, `SES sender ${a}`, access, account, region)), unreadable('ses-account', 'SES sending (sandbox)', access, account, region)];
  }
  const ses = access.clients.sesv2;
  // A refusal is fixed with IAM; anything else (throttling, an endpoint that answers no JSON) by a rerun, or SES's own answer.
  const fixOf = (call: string, cli: string, e: unknown) => (isAccessDenied(e) ? `grant ${call} to ${access.via}` : `rerun doctor; if it persists, see SES's answer: in account ${account}: aws sesv2 ${cli} --region ${region}`);
  const inAccount = `in account ${account}:`;

  const senderLines = await Promise.all([...tiersOf].map(async ([address, tiers]): Promise<CheckResult> => {
    const id = `ses-sender:${address}`;
    const title = `SES sender ${address}`;
    const used = `senderEmail of tier${tiers.length > 1 ? 's' : ''} ${tiers.join(', ')}`;
    const domain = address.slice(address.lastIndexOf('@') + 1);
    const own = await identityState(ses, address);
    if (own.kind === 'verified') return result(id, title, 'pass', `identity ${address} is verified for sending (${used})`, where);
    if (own.kind === 'error') return result(id, title, 'fail', describeAwsError(`ses:GetEmailIdentity ${address}`, own.error), { ...where, fix: fixOf('ses:GetEmailIdentity', `get-email-identity --email-identity ${address}`, own.error) });
    const viaDomain = await identityState(ses, domain);
    if (viaDomain.kind === 'verified') return result(id, title, 'pass', `its domain ${domain} is verified for sending (${describeState(address, own)}) (${used})`, where);
    if (viaDomain.kind === 'error') return result(id, title, 'fail', describeAwsError(`ses:GetEmailIdentity ${domain}`, viaDomain.error), { ...where, fix: fixOf('ses:GetEmailIdentity', `get-email-identity --email-identity ${domain}`, viaDomain.error) });
    const fix = own.kind === 'unverified'
      ? `open the verification link SES mailed to ${address} (${inAccount} aws ses verify-email-identity --region ${region} --email-address ${address} sends it again)`
      : viaDomain.kind === 'unverified'
        ? `publish the DKIM CNAME records of ${domain} in its DNS (${inAccount} aws sesv2 get-email-identity --region ${region} --email-identity ${domain} --query DkimAttributes.Tokens), or verify the address: aws sesv2 create-email-identity --region ${region} --email-identity ${address}`
        : `${inAccount} aws sesv2 create-email-identity --region ${region} --email-identity ${address}, then open the link SES mails to it (or verify the domain: --email-identity ${domain}, then publish its DKIM records)`;
    return result(id, title, 'fail', `${describeState(address, own)} and ${describeState(domain, viaDomain)}: SES refuses SendEmail from it (${used})`, { ...where, fix });
  }));

  let a: GetAccountCommandOutput;
  try {
    a = await ses.send(new GetAccountCommand({}));
  } catch (e) {
    return [...senderLines, result('ses-account', 'SES sending (sandbox)', 'fail', describeAwsError('ses:GetAccount', e), { ...where, fix: fixOf('ses:GetAccount', 'get-account', e) })];
  }
  return [...senderLines, accountLine(a, account, region)];
}

/** The `ses-account` line from GetAccount's answer. */
function accountLine(a: GetAccountCommandOutput, account: string, region: string): CheckResult {
  const where = { account, region };
  const id = 'ses-account';
  const title = 'SES sending (sandbox)';
  const enforcement = a.EnforcementStatus ?? 'unknown';
  if (a.SendingEnabled === false) {
    return result(id, title, 'fail', `sending is disabled for the account in ${region} (EnforcementStatus ${enforcement})`, {
      ...where, fix: enforcement === 'SHUTDOWN' ? 'AWS paused the account\'s sending (SHUTDOWN): correct the cause shown on the SES console\'s Reputation metrics page, then ask AWS Support to resume it' : `in account ${account}: aws sesv2 put-account-sending-attributes --region ${region} --sending-enabled`,
    });
  }
  if (a.ProductionAccessEnabled !== true) {
    const review = a.Details?.ReviewDetails;
    const request = review?.Status ? `, production access request ${review.Status}${review.CaseId ? ` (case ${review.CaseId})` : ''}` : '';
    return result(id, title, 'fail', `in the SES sandbox (ProductionAccessEnabled false${request}): SES sends only to verified recipients, and the tenant admins are not`, {
      ...where, fix: review?.Status === 'PENDING'
        ? 'wait for AWS\'s answer to the production access request (SES console, Account dashboard)'
        : `in account ${account}: aws sesv2 put-account-details --region ${region} --production-access-enabled --mail-type TRANSACTIONAL --website-url <your site>, or request production access on the SES console's Account dashboard`,
    });
  }
  const quota = a.SendQuota?.Max24HourSend !== undefined ? `, quota ${a.SendQuota.Max24HourSend} mails/24 h` : '';
  if (enforcement === 'PROBATION') {
    return result(id, title, 'warn', `production access, but the account is on PROBATION${quota}: AWS may pause its sending`, { ...where, fix: 'see the SES console\'s Reputation metrics page and correct the bounce or complaint rate' });
  }
  return result(id, title, 'pass', `production access, sending enabled (EnforcementStatus ${enforcement}${quota})`, where);
}
