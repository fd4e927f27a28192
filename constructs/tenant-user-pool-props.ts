import { RemovalPolicy } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type { PlatformConfig } from '../lib/config/schema.js';

/**
 * How the platform pool mails its users: with `identity.email`, through the platform account's SES
 * (`EmailSendingAccount` DEVELOPER, `SourceArn` the SES identity in `sesRegion`); without it, undefined, which leaves the
 * template without `EmailConfiguration`: Cognito's own sender (COGNITO_DEFAULT) and its 50 mails a day
 * (lib/config/user-pool-email.ts). aws-cdk-lib writes the pool's `SourceArn` and attaches no SES identity policy: with
 * DEVELOPER, Cognito sends through its service-linked role (AWSServiceRoleForAmazonCognitoIdpEmailService), see docs/identity.md.
 */
export function tenantUserPoolEmail(config: Pick<PlatformConfig, 'identity'>): cognito.UserPoolEmail | undefined {
  const email = config.identity?.email;
  if (!email) return undefined;
  return cognito.UserPoolEmail.withSES({
    fromEmail: email.fromEmail, fromName: email.fromName, replyTo: email.replyTo, sesRegion: email.sesRegion,
    sesVerifiedDomain: email.sesVerifiedDomain, configurationSetName: email.configurationSetName,
  });
}

/**
 * The props of the platform's Cognito user pool of tenant users (`tessera-tenants`, InferenceApi's `UserPool`, built when
 * `gateway.jwt` is absent). One function so that a test can synthesize the pool alone under a config; InferenceApi keeps
 * the construct id `UserPool`, so the pool keeps its logical id (a new one would replace it, and its users with it).
 */
export function tenantUserPoolProps(config: Pick<PlatformConfig, 'identity'>): cognito.UserPoolProps {
  return {
    userPoolName: 'tessera-tenants',
    selfSignUpEnabled: false,
    signInAliases: { email: true },
    mfa: cognito.Mfa.REQUIRED,
    mfaSecondFactor: { otp: true, sms: false },
    passwordPolicy: { minLength: 14, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
    featurePlan: cognito.FeaturePlan.PLUS,
    standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
    customAttributes: { tenant_id: new cognito.StringAttribute({ mutable: false, minLen: 3, maxLen: 24 }) },
    // A user's change of their own email (UpdateUserAttributes with their access token) waits for the code sent to
    // the new address; until then the verified one stays in force (UserAttributeUpdateSettings). Without it the new,
    // unverified address replaced the old at once: the sign-in alias and the address budget alerts may mail.
    keepOriginal: { email: true },
    // ForgotPassword's code goes to the verified email only. aws-cdk-lib's default, PHONE_WITHOUT_MFA_AND_EMAIL, lists
    // verified_phone_number first: the pool has no SMS configuration and no user has a phone number (the users routes
    // set none, the app client cannot write one), so the setting must name what the pool can honour. AccountRecoverySetting
    // updates in place (CloudFormation: "Update requires: No interruption").
    accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
    email: tenantUserPoolEmail(config),
    removalPolicy: RemovalPolicy.RETAIN,
  };
}
