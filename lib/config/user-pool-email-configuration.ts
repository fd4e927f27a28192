import { domainToASCII } from 'node:url';
import type { EmailConfigurationType } from '@aws-sdk/client-cognito-identity-provider';
import { partition } from '../../lambdas/shared/environment.js';
import { sesIdentityOf, sesRegionOf, type UserPoolEmailConfig } from './user-pool-email.js';

/**
 * An address as aws-cdk-lib writes it into the pool (`encodeAndTest`: punycode for a non-ASCII domain; the local part
 * must be ASCII, which the config's z.email() already requires).
 */
function asciiAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, at)}@${domainToASCII(address.slice(at + 1)) || address.slice(at + 1)}`;
}

/**
 * A From display name as aws-cdk-lib's `UserPoolEmail.withSES` writes it (`formatFromName`): printable ASCII kept as
 * is when it is an RFC 5322 phrase of atoms or already a quoted string, else quoted with `\` before `"` and `\`;
 * anything else an RFC 2047 encoded word (`=?UTF-8?B?<base64>?=`).
 */
function fromName(name: string): string {
  if (!/^[\u0020-\u007E]+$/u.test(name)) return `=?UTF-8?B?${Buffer.from(name, 'utf-8').toString('base64')}?=`;
  if (/^[\w !#$%&'*+-\/=?^_`{|}~]+$/.test(name) || /^"(?:[^\\"]|\\.)*"$/.test(name)) return name;
  return `"${name.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`;
}

/**
 * The `EmailConfiguration` the platform's tenant user pool gets from `identity.email` (constructs/tenant-user-pool-props.ts,
 * aws-cdk-lib `UserPoolEmail.withSES`), as Cognito's DescribeUserPool answers it (EmailConfigurationType): without
 * `identity.email`, `EmailSendingAccount` COGNITO_DEFAULT alone (the template sets none: Cognito's default); with it,
 * DEVELOPER, `SourceArn` `arn:<partition>:ses:<sesRegion>:<account>:identity/<identity>` (sesIdentityOf), `From`
 * (`<fromName> <fromEmail>` or the address), and `ReplyToEmailAddress` and `ConfigurationSet` when set.
 * test/infra/tenant-user-pool.test.ts holds it to the synthesized pool.
 * @param email `identity.email`, or undefined
 * @param at the platform account and its home Region (the pool's)
 */
export function userPoolEmailConfiguration(email: UserPoolEmailConfig | undefined, at: { account: string; homeRegion: string }): EmailConfigurationType {
  if (!email) return { EmailSendingAccount: 'COGNITO_DEFAULT' };
  const region = sesRegionOf(email, at.homeRegion);
  const address = asciiAddress(email.fromEmail);
  const identity = email.sesVerifiedDomain ? domainToASCII(sesIdentityOf(email)) || sesIdentityOf(email) : address;
  return {
    EmailSendingAccount: 'DEVELOPER',
    SourceArn: `arn:${partition(region)}:ses:${region}:${at.account}:identity/${identity}`,
    From: email.fromName ? `${fromName(email.fromName)} <${address}>` : address,
    ...(email.replyTo ? { ReplyToEmailAddress: asciiAddress(email.replyTo) } : {}),
    ...(email.configurationSetName ? { ConfigurationSet: email.configurationSetName } : {}),
  };
}
