import { CliError } from '../cli-error.js';

/** Names the SDK gives an error thrown before any request is sent: no credentials, no region. */
const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'ExpiredTokenException', 'ExpiredToken', 'InvalidClientTokenId', 'UnrecognizedClientException', 'InvalidSignatureException']);

/**
 * A one-line CliError for an AWS call that failed: which call, the AWS error name and message, and
 * `fix`. Credential and permission errors get their own fix (configure credentials; the IAM action).
 * Exit code 1 (a runtime failure).
 */
export function awsCallError(call: string, e: unknown, fix?: string): CliError {
  if (e instanceof CliError) return e;
  const { name = 'Error', message = String(e) } = (e ?? {}) as Error;
  if (CREDENTIAL_ERRORS.has(name)) {
    return new CliError(`${call}: no valid AWS credentials (${name}: ${message.split('\n')[0]}): sign in to the platform account (aws sso login, a profile in AWS_PROFILE, or the AWS_* variables)`, 1);
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    const action = /not authorized to perform: (\S+)/.exec(message)?.[1];
    return new CliError(`${call}: access denied${action ? ` (${action})` : ''}: use the platform account's admin role, or grant it ${action ?? 'this action'}`, 1);
  }
  return new CliError(`${call} failed (${name}: ${message.split('\n')[0]})${fix ? `: ${fix}` : ''}`, 1);
}

/** What a sign-in error is about, for the fix: the user, and the admin command that helps. */
export interface SignInContext {
  email: string;
  userPoolId: string;
  clientId: string;
}

/**
 * Translates a Cognito error of the sign-in calls (InitiateAuth, RespondToAuthChallenge,
 * AssociateSoftwareToken, VerifySoftwareToken) into a one-line CliError with the fix. Error
 * names and messages are those of the Cognito API reference (InitiateAuth "Errors").
 */
export function signInError(call: string, e: unknown, ctx: SignInContext): CliError {
  if (e instanceof CliError) return e;
  const { name = 'Error', message = String(e) } = (e ?? {}) as Error;
  const resend = `ask your platform admin for a new temporary password (tessera users invite --tenant <tenant> --email ${ctx.email} --resend)`;
  const call1 = `Cognito ${call}`;
  switch (name) {
    case 'NotAuthorizedException':
      if (/password attempts exceeded/i.test(message)) return new CliError(`${call1}: too many wrong passwords for ${ctx.email} (${message}): wait a few minutes, then run tessera login again`, 1);
      if (/disabled/i.test(message)) return new CliError(`${call1}: the user ${ctx.email} is disabled: ask your platform admin to enable it (AdminEnableUser)`, 1);
      if (/temporary password has expired/i.test(message)) return new CliError(`${call1}: the temporary password of ${ctx.email} has expired (they last 7 days unless the pool says otherwise): ${resend}`, 1);
      if (/session is expired|invalid session/i.test(message)) return new CliError(`${call1}: the sign-in session expired (Cognito allows 3 minutes per step): run tessera login again and answer each prompt sooner`, 1);
      if (/incorrect username or password/i.test(message)) return new CliError(`${call1}: wrong password for ${ctx.email} (NotAuthorizedException): check it (the temporary one from the invitation email on the first sign-in), or ${resend}`, 1);
      return new CliError(`${call1}: not authorized (${message}): check --email and the password; if it persists, ${resend}`, 1);
    case 'UserNotFoundException':
      return new CliError(`${call1}: no user ${ctx.email} in user pool ${ctx.userPoolId} (UserNotFoundException): check --email and --user-pool-id, or ask your platform admin to invite you (tessera users invite --tenant <tenant> --email ${ctx.email})`, 1);
    case 'UserNotConfirmedException':
      return new CliError(`${call1}: ${ctx.email} is not confirmed (UserNotConfirmedException): ask your platform admin to invite you again (tessera users invite ... --resend) or confirm the user (AdminConfirmSignUp)`, 1);
    case 'PasswordResetRequiredException':
      return new CliError(`${call1}: an administrator reset the password of ${ctx.email} (PasswordResetRequiredException): set a new one with the code Cognito emailed you (aws cognito-idp confirm-forgot-password --client-id ${ctx.clientId} --username ${ctx.email} --confirmation-code <code> --password <new>), then run tessera login again`, 1);
    case 'CodeMismatchException':
    case 'EnableSoftwareTokenMFAException':
      return new CliError(`${call1}: the authenticator code was not accepted (${name}): type the current 6-digit code for Tessera (codes change every 30 s; check the device's clock) and run tessera login again`, 1);
    case 'ExpiredCodeException':
      return new CliError(`${call1}: the authenticator code has expired (ExpiredCodeException): run tessera login again with the current code`, 1);
    case 'InvalidPasswordException':
      return new CliError(`${call1}: the new password was refused (${message}): choose one that meets the pool's policy (at least 14 characters with upper- and lower-case letters, a digit and a symbol) and is not one you used before`, 2);
    case 'TooManyRequestsException':
    case 'TooManyFailedAttemptsException':
    case 'LimitExceededException':
      return new CliError(`${call1}: Cognito is throttling this user or client (${name}): wait a minute and run tessera login again`, 1);
    case 'ResourceNotFoundException':
      return new CliError(`${call1}: Cognito has no app client ${ctx.clientId} (ResourceNotFoundException: ${message}): pass --client-id with the TenantUserPoolClientId output of the TesseraPlatform stack`, 2);
    case 'InvalidParameterException':
      if (/USER_SRP_AUTH|auth flow|not enabled/i.test(message)) return new CliError(`${call1}: app client ${ctx.clientId} does not allow SRP sign-in (${message}): pass --client-id with the TenantUserPoolClientId output (the gateway's client, GatewayClient)`, 2);
      return new CliError(`${call1} refused a parameter (${message}): check --email, --user-pool-id and --client-id`, 2);
    case 'SoftwareTokenMFANotFoundException':
      return new CliError(`${call1}: ${ctx.email} has no authenticator app registered (SoftwareTokenMFANotFoundException): ask your platform admin to reset your MFA (AdminSetUserMFAPreference), then sign in again to set one up`, 1);
    default:
      return awsCallError(call1, e, 'run tessera login again; if it persists, tell your platform admin');
  }
}
