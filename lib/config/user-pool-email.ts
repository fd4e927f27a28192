import { z } from 'zod';
import { regionProblem } from './region.js';

/**
 * The mails Cognito's own sender (`EmailSendingAccount` COGNITO_DEFAULT) sends a day: "Maximum number of email messages
 * sent daily per AWS account | 50", a non-adjustable quota that "applies only if you are using the default email feature
 * for an Amazon Cognito User Pool" (Amazon Cognito Developer Guide, Quotas in Amazon Cognito). The platform pool mails
 * each invitation (AdminCreateUser: `tessera users invite`, the onboarding's first admin, `/v1/tenant/users`), each
 * resent one, each code for a changed email (UpdateUserAttributes) and each forgot-password code.
 */
export const COGNITO_DEFAULT_EMAILS_PER_DAY = 50;

/**
 * The SES Region outside its own that a user pool in a Region may send through: the Amazon Cognito Developer Guide,
 * "Email settings for Amazon Cognito user pools", *Amazon SES email configuration regions*: "you must choose from the
 * following Regions: us-east-1, us-west-2, or eu-west-1", with its table of a pool's Region and the SES Region to use.
 * A pool also sends through SES in its own Region (Cognito API Reference, EmailConfigurationType `SourceArn`: "The
 * Region value of the SourceArn parameter must indicate a supported AWS Region of your user pool. Typically, the Region
 * in the SourceArn and the user pool Region are the same").
 */
export const COGNITO_ALTERNATE_SES_REGION: Readonly<Record<string, string>> = {
  'us-east-1': 'us-east-1', 'us-east-2': 'us-east-1', 'ca-central-1': 'us-east-1',
  'us-west-2': 'us-west-2', 'ap-northeast-1': 'us-west-2', 'ap-northeast-2': 'us-west-2', 'ap-south-1': 'us-west-2',
  'ap-southeast-1': 'us-west-2', 'ap-southeast-2': 'us-west-2',
  'eu-west-1': 'eu-west-1', 'eu-central-1': 'eu-west-1', 'eu-west-2': 'eu-west-1',
};

/** The SES Regions a user pool in `poolRegion` may send through: its own, then its alternate (COGNITO_ALTERNATE_SES_REGION) if it has one. */
export function cognitoSesRegions(poolRegion: string): string[] {
  const alternate = COGNITO_ALTERNATE_SES_REGION[poolRegion];
  return alternate && alternate !== poolRegion ? [poolRegion, alternate] : [poolRegion];
}

/** An SES configuration set name: CreateConfigurationSet's and the user pool's `EmailConfiguration.ConfigurationSet` pattern. */
const CONFIGURATION_SET_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/** A DNS domain name of letters, digits and hyphens (an SES domain identity, ASCII or punycode). */
const DOMAIN = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/**
 * `identity.email`: the platform's Cognito user pool sends its mail through the platform account's Amazon SES
 * (`EmailSendingAccount` DEVELOPER, aws-cdk-lib `UserPoolEmail.withSES`, whose options these are) instead of Cognito's
 * own sender and its {@link COGNITO_DEFAULT_EMAILS_PER_DAY} mails a day. Absent: Cognito's own sender (COGNITO_DEFAULT).
 *
 * - `fromEmail`: the From address; an SES identity verified for sending in `sesRegion`, itself or (with
 *   `sesVerifiedDomain`) through its domain.
 * - `fromName`: the sender's name shown with it. @default - the address alone
 * - `replyTo`: the Reply-To address. @default - the From address
 * - `sesRegion`: the Region of the SES identity; the home Region (the pool's) or the one alternate Region Cognito allows
 *   for it ({@link cognitoSesRegions}). @default - `homeRegion`
 * - `sesVerifiedDomain`: the verified SES domain identity `fromEmail` belongs to; the pool's `SourceArn` then names the
 *   domain, not the address. @default - the address is the identity
 * - `configurationSetName`: an SES configuration set of `sesRegion` applied to every mail (event publishing, a
 *   dedicated IP pool). @default - none
 *
 * The Region rule needs `homeRegion` and `gateway.jwt`: {@link checkUserPoolEmail}.
 */
export const UserPoolEmailConfigSchema = z.strictObject({
  fromEmail: z.email('must be an email address, the SES-verified sender, e.g. no-reply@mail.your-company.com'),
  fromName: z.string().min(1).optional(),
  replyTo: z.email('must be an email address, e.g. support@your-company.com').optional(),
  sesRegion: z.string().check((c) => {
    const problem = regionProblem(c.value);
    if (problem) c.issues.push({ code: 'custom', message: problem, input: c.value });
  }).optional(),
  sesVerifiedDomain: z.string().regex(DOMAIN, 'must be a domain name such as mail.your-company.com, the SES domain identity fromEmail belongs to').optional(),
  configurationSetName: z.string().regex(CONFIGURATION_SET_NAME, 'must be an SES configuration set name: 1-64 letters, digits, "_" and "-"').optional(),
}).superRefine((e, ctx) => {
  const domain = e.fromEmail.slice(e.fromEmail.lastIndexOf('@') + 1);
  if (e.sesVerifiedDomain !== undefined && domain.toLowerCase() !== e.sesVerifiedDomain.toLowerCase()) {
    ctx.addIssue({ code: 'custom', path: ['sesVerifiedDomain'], message: `is not the domain of fromEmail (${e.fromEmail}): Cognito sends as the identity named in SourceArn, so the From address must belong to it; set it to ${domain} or leave it out to use the address's own identity` });
  }
});
export type UserPoolEmailConfig = z.infer<typeof UserPoolEmailConfigSchema>;

/**
 * `identity`: the platform's own Cognito user pool (built when `gateway.jwt` is absent).
 * - `email`: {@link UserPoolEmailConfigSchema}. @default - Cognito's own sender
 */
export const IdentityConfigSchema = z.strictObject({ email: UserPoolEmailConfigSchema.optional() });
export type IdentityConfig = z.infer<typeof IdentityConfigSchema>;

/** The SES Region the pool sends through (`identity.email.sesRegion`, else the home Region, the pool's). */
export const sesRegionOf = (email: UserPoolEmailConfig, homeRegion: string): string => email.sesRegion ?? homeRegion;

/** The SES identity the pool's `SourceArn` names: the verified domain when given, else the From address (aws-cdk-lib's withSES). */
export const sesIdentityOf = (email: UserPoolEmailConfig): string => email.sesVerifiedDomain ?? email.fromEmail;

/**
 * Config-wide rules of `identity.email`: refused with `gateway.jwt` (no Cognito pool is built), and a `sesRegion` Cognito
 * cannot send through from the home Region ({@link cognitoSesRegions}), each issue at its key's path.
 */
export function checkUserPoolEmail(
  c: { identity?: IdentityConfig; homeRegion: string; gateway: { jwt?: { issuer: string } } },
  ctx: z.RefinementCtx,
): void {
  const email = c.identity?.email;
  if (!email) return;
  if (c.gateway.jwt) {
    ctx.addIssue({ code: 'custom', path: ['identity', 'email'], message: `is set, but gateway.jwt names another token issuer (${c.gateway.jwt.issuer}): the platform then builds no Cognito user pool, so nothing would send through it; remove identity.email, or gateway.jwt to use the platform's pool` });
    return;
  }
  const allowed = cognitoSesRegions(c.homeRegion);
  if (email.sesRegion !== undefined && !allowed.includes(email.sesRegion)) {
    ctx.addIssue({ code: 'custom', path: ['identity', 'email', 'sesRegion'], message: `is not an SES Region Cognito sends through for a user pool in ${c.homeRegion} (homeRegion): use ${allowed.join(' or ')} (Amazon Cognito Developer Guide, Email settings for Amazon Cognito user pools), with the SES identity verified there` });
  }
}
