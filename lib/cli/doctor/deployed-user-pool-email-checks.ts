import type { EmailConfigurationType } from '@aws-sdk/client-cognito-identity-provider';
import { COGNITO_DEFAULT_EMAILS_PER_DAY } from '../../config/user-pool-email.js';
import { userPoolEmailConfiguration } from '../../config/user-pool-email-configuration.js';
import { describeAwsError, errorName, isNotFound } from '../aws-errors.js';
import { deployedUserPool, PLATFORM_STACK, USER_POOL_OUTPUT } from './deployed-user-pool.js';
import { grantOrRerun, result, unreadable } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

const ID = 'cognito-email-deployed';
const TITLE = 'Cognito user pool mail, deployed';

/** The EmailConfiguration fields compared, in the order reported. */
const FIELDS = ['EmailSendingAccount', 'SourceArn', 'From', 'ReplyToEmailAddress', 'ConfigurationSet'] as const;

/**
 * Users above which a pool on Cognito's own sender warns: {@link COGNITO_DEFAULT_EMAILS_PER_DAY}, the account's mails a
 * day. Past it, one day on which each user needs one mail (a round of invitations, a forgot-password wave after a
 * password change) cannot be served; below it the quota covers each user once a day. Cognito counts the pool's users
 * only roughly (UserPoolType `EstimatedNumberOfUsers`: "A number estimating the size of the user pool"), so this is a
 * warning, not a failure.
 */
export const DEFAULT_SENDER_USER_WARNING = COGNITO_DEFAULT_EMAILS_PER_DAY;

/** `field value` pairs of what is set, for the line; COGNITO_DEFAULT when nothing is. */
const shown = (c: EmailConfigurationType) => FIELDS.filter((f) => c[f] !== undefined).map((f) => `${f} ${c[f]}`).join(', ');

/**
 * Check 9c, the deployed half: the platform's tenant user pool (TesseraPlatform output TenantUserPoolId, as
 * `cognito-user-pool` finds it) read with DescribeUserPool, its `EmailConfiguration` (EmailSendingAccount, SourceArn,
 * From, ReplyToEmailAddress, ConfigurationSet; absent = COGNITO_DEFAULT) against what the config deploys
 * (userPoolEmailConfiguration). `cognito-email` judges the config's sender; this line says whether the pool sends
 * through it yet.
 * - `gateway.jwt`: no line (no pool).
 * - TesseraPlatform not deployed, or without the output: a warn (nothing deployed to compare; `cognito-user-pool` fails it).
 * - `EmailConfigurationFailure` set ("The reason why the email configuration cannot send the messages to your users",
 *   UserPoolType): a fail quoting it.
 * - a field that differs: a warn naming each (deployed, then config): a `cdk deploy TesseraPlatform` is pending.
 * - the same, COGNITO_DEFAULT, and more than {@link DEFAULT_SENDER_USER_WARNING} users (EstimatedNumberOfUsers): a warn
 *   to set `identity.email`.
 * - else a pass.
 * Calls (platform account, home Region): cloudformation:DescribeStacks, cognito-idp:DescribeUserPool.
 * Source: Amazon Cognito API Reference, DescribeUserPool, UserPoolType and EmailConfigurationType.
 */
export async function deployedUserPoolEmailChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const { config, region } = ctx;
  if (config.gateway.jwt) return [];
  const account = config.platformAccountId;
  const where = { account, region };
  const access = await ctx.clientsIn(account);
  if (!access.ok) return [unreadable(ID, TITLE, access, account, region)];
  const inAccount = `in account ${account}:`;
  const deploy = `npx cdk deploy TesseraPlatform -c tessera:configFile=<your config file>`;
  const found = await deployedUserPool(ctx, access.clients);
  if (found.step === 'output') return [result(ID, TITLE, 'warn', `not compared: stack ${PLATFORM_STACK} (${found.stackStatus}) has no output ${USER_POOL_OUTPUT}`, { ...where, fix: deploy })];
  if (found.step === 'stack') {
    const e = found.error;
    if (errorName(e) === 'ValidationError' && /does not exist/.test((e as Error).message)) {
      return [result(ID, TITLE, 'warn', `not compared: stack ${PLATFORM_STACK} is not deployed in account ${account} (${region}); the pool gets the config's mail settings at its first deploy`, { ...where, fix: deploy })];
    }
    return [result(ID, TITLE, 'fail', describeAwsError(`cloudformation:DescribeStacks ${PLATFORM_STACK}`, e), {
      ...where, fix: grantOrRerun(e, `grant cloudformation:DescribeStacks to ${access.via}`, `${inAccount} aws cloudformation describe-stacks --stack-name ${PLATFORM_STACK} --region ${region}`),
    })];
  }
  const { poolId } = found;
  if (found.step === 'pool') {
    const e = found.error;
    if (isNotFound(e)) return [result(ID, TITLE, 'warn', `not compared: user pool ${poolId} (output ${USER_POOL_OUTPUT}) does not exist`, { ...where, fix: deploy })];
    return [result(ID, TITLE, 'fail', describeAwsError(`cognito-idp:DescribeUserPool ${poolId}`, e), {
      ...where, fix: grantOrRerun(e, `grant cognito-idp:DescribeUserPool to ${access.via}`, `${inAccount} aws cognito-idp describe-user-pool --user-pool-id ${poolId} --region ${region}`),
    })];
  }
  const { pool } = found;
  const deployed: EmailConfigurationType = { EmailSendingAccount: 'COGNITO_DEFAULT', ...pool?.EmailConfiguration };
  const wanted = userPoolEmailConfiguration(config.identity?.email, { account, homeRegion: config.homeRegion });
  if (pool?.EmailConfigurationFailure) {
    return [result(ID, TITLE, 'fail', `${poolId} (${shown(deployed)}): Cognito reports it cannot send: ${pool.EmailConfigurationFailure}`, {
      ...where, fix: `correct what Cognito names (the SES identity, the account's sending, the service-linked role), then ${inAccount} aws cognito-idp describe-user-pool --user-pool-id ${poolId} --region ${region} --query UserPool.EmailConfigurationFailure`,
    })];
  }
  const differ = FIELDS.filter((f) => (deployed[f] ?? '') !== (wanted[f] ?? ''));
  if (differ.length) {
    const both = differ.map((f) => `${f} ${deployed[f] ?? '(none)'}, config ${wanted[f] ?? '(none)'}`).join('; ');
    return [result(ID, TITLE, 'warn', `${poolId} sends as deployed, not as the config says: ${both}; the pool mails through its deployed settings until TesseraPlatform is deployed with this config`, { ...where, fix: deploy })];
  }
  const users = pool?.EstimatedNumberOfUsers;
  const count = users !== undefined ? `, about ${users} users` : '';
  if (deployed.EmailSendingAccount === 'COGNITO_DEFAULT' && users !== undefined && users > DEFAULT_SENDER_USER_WARNING) {
    return [result(ID, TITLE, 'warn', `${poolId} sends through Cognito's own sender (COGNITO_DEFAULT), at most ${COGNITO_DEFAULT_EMAILS_PER_DAY} mails a day for the account, and holds about ${users} users: a day on which more than ${COGNITO_DEFAULT_EMAILS_PER_DAY} of them need an invitation or a code, the rest get none`, {
      ...where, fix: 'set identity.email (an SES identity in the platform account: docs/identity.md, The pool\'s mail and account recovery), then ' + deploy,
    })];
  }
  return [result(ID, TITLE, 'pass', `${poolId} as the config says: ${shown(deployed)}${count}`, where)];
}
