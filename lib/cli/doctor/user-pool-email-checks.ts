import { GetAccountCommand, GetEmailIdentityCommand, type GetAccountCommandOutput, type GetEmailIdentityCommandOutput } from '@aws-sdk/client-sesv2';
import { COGNITO_DEFAULT_EMAILS_PER_DAY, sesIdentityOf, sesRegionOf } from '../../config/user-pool-email.js';
import { describeAwsError, isAccessDenied, isNotFound } from '../aws-errors.js';
import { result, unreadable } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

const ID = 'cognito-email';
const TITLE = 'Cognito user pool mail';

/**
 * Check 9c: which sender the platform's Cognito user pool mails through (invitations, email verification and
 * forgot-password codes), and with SES whether Cognito can send.
 * - `gateway.jwt` set: a pass, no call (no pool is built).
 * - no `identity.email`: a pass naming Cognito's own sender (COGNITO_DEFAULT) and its quota of
 *   {@link COGNITO_DEFAULT_EMAILS_PER_DAY} mails a day for the account, no call.
 * - `identity.email`: the SES identity the pool's SourceArn names (`sesVerifiedDomain`, else `fromEmail`) is verified for
 *   sending in `sesRegion` (GetEmailIdentity `VerifiedForSendingStatus`), and that Region's SES account is out of the
 *   sandbox with sending enabled (GetAccount `ProductionAccessEnabled`, `SendingEnabled`): in the sandbox SES mails only
 *   verified recipients, and tenant users are not (Amazon Cognito Developer Guide, Email settings for Amazon Cognito
 *   user pools, step 2). No sending authorization policy is needed on the identity: with DEVELOPER, Cognito sends
 *   through its service-linked role (AWSServiceRoleForAmazonCognitoIdpEmailService); a policy is what a custom From address with
 *   COGNITO_DEFAULT needs, which Tessera does not configure. The identity's policies are reported, not required.
 * Calls (platform account, `sesRegion`): ses:GetEmailIdentity, ses:GetAccount.
 * Source: Amazon SES API v2 reference, GetEmailIdentity and GetAccount; Quotas in Amazon Cognito.
 */
export async function userPoolEmailChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const account = ctx.config.platformAccountId;
  const jwt = ctx.config.gateway.jwt;
  if (jwt) return [result(ID, TITLE, 'pass', `not used: gateway.jwt names the issuer ${jwt.issuer} (no Cognito user pool)`, { account, region: ctx.region })];
  const email = ctx.config.identity?.email;
  if (!email) {
    return [result(ID, TITLE, 'pass', `Cognito's own sender (COGNITO_DEFAULT, from no-reply@verificationemail.com): at most ${COGNITO_DEFAULT_EMAILS_PER_DAY} mails a day for the account (invitations, email verification and forgot-password codes); set identity.email to send through SES; no call made`, { account, region: ctx.region })];
  }
  const region = sesRegionOf(email, ctx.config.homeRegion);
  const identity = sesIdentityOf(email);
  const where = { account, region };
  const access = await ctx.clientsIn(account);
  if (!access.ok) return [unreadable(ID, TITLE, access, account, region)];
  const ses = access.clients.sesv2In(region);
  const inAccount = `in account ${account}:`;
  const fixOf = (call: string, cli: string, e: unknown) => (isAccessDenied(e) ? `grant ${call} to ${access.via}` : `rerun doctor; if it persists, see SES's answer: ${inAccount} aws sesv2 ${cli} --region ${region}`);

  let found: GetEmailIdentityCommandOutput;
  try {
    found = await ses.send(new GetEmailIdentityCommand({ EmailIdentity: identity }));
  } catch (e) {
    if (isNotFound(e)) {
      return [result(ID, TITLE, 'fail', `SES (DEVELOPER) from ${email.fromEmail}: ${identity} is not an SES identity in ${region}: Cognito cannot send invitations or codes`, {
        ...where, fix: `${inAccount} aws sesv2 create-email-identity --region ${region} --email-identity ${identity}, then ${email.sesVerifiedDomain ? 'publish its DKIM CNAME records' : 'open the link SES mails to it'}`,
      })];
    }
    return [result(ID, TITLE, 'fail', describeAwsError(`ses:GetEmailIdentity ${identity}`, e), { ...where, fix: fixOf('ses:GetEmailIdentity', `get-email-identity --email-identity ${identity}`, e) })];
  }
  if (!found.VerifiedForSendingStatus) {
    return [result(ID, TITLE, 'fail', `SES (DEVELOPER) from ${email.fromEmail}: ${identity} is ${found.VerificationStatus ?? 'not verified'} in ${region}, not verified for sending: Cognito cannot send invitations or codes`, {
      ...where, fix: email.sesVerifiedDomain
        ? `publish the DKIM CNAME records of ${identity} in its DNS (${inAccount} aws sesv2 get-email-identity --region ${region} --email-identity ${identity} --query DkimAttributes.Tokens)`
        : `open the verification link SES mailed to ${identity} (${inAccount} aws ses verify-email-identity --region ${region} --email-address ${identity} sends it again)`,
    })];
  }
  const policies = Object.keys(found.Policies ?? {});
  const policyNote = policies.length > 0 ? `, identity policies ${policies.join(', ')}` : '';

  let a: GetAccountCommandOutput;
  try {
    a = await ses.send(new GetAccountCommand({}));
  } catch (e) {
    return [result(ID, TITLE, 'fail', describeAwsError('ses:GetAccount', e), { ...where, fix: fixOf('ses:GetAccount', 'get-account', e) })];
  }
  const sender = `SES (DEVELOPER) from ${email.fromEmail}, identity ${identity} verified in ${region}${policyNote}`;
  if (a.SendingEnabled === false) {
    return [result(ID, TITLE, 'fail', `${sender}, but sending is disabled for the account in ${region} (EnforcementStatus ${a.EnforcementStatus ?? 'unknown'})`, {
      ...where, fix: a.EnforcementStatus === 'SHUTDOWN' ? 'AWS paused the account\'s sending (SHUTDOWN): correct the cause shown on the SES console\'s Reputation metrics page, then ask AWS Support to resume it' : `${inAccount} aws sesv2 put-account-sending-attributes --region ${region} --sending-enabled`,
    })];
  }
  if (a.ProductionAccessEnabled !== true) {
    return [result(ID, TITLE, 'fail', `${sender}, but the account is in the SES sandbox in ${region}: SES mails only verified recipients, and tenant users are not`, {
      ...where, fix: `${inAccount} aws sesv2 put-account-details --region ${region} --production-access-enabled --mail-type TRANSACTIONAL --website-url <your site>, or request production access on the SES console's Account dashboard`,
    })];
  }
  const quota = a.SendQuota?.Max24HourSend !== undefined ? `, quota ${a.SendQuota.Max24HourSend} mails/24 h` : '';
  return [result(ID, TITLE, 'pass', `${sender}; production access, sending enabled${quota}`, where)];
}
