import {
  AssociateSoftwareTokenCommand, InitiateAuthCommand, RespondToAuthChallengeCommand, VerifySoftwareTokenCommand,
  type AuthenticationResultType, type CognitoIdentityProviderClient, type RespondToAuthChallengeCommandOutput,
} from '@aws-sdk/client-cognito-identity-provider';
import { createSrpSession, signSrpSession, wrapAuthChallenge, wrapInitiateAuth } from 'cognito-srp-helper';
import { CliError } from '../cli-error.js';
import { signInError, type SignInContext } from './cognito-errors.js';
import type { CredentialSource } from './credentials.js';
import type { Terminal } from './terminal.js';
import { totpUri } from './totp-uri.js';

/** The most challenges one sign-in answers (password, new password, MFA setup, MFA, with room to spare). */
const MAX_CHALLENGES = 6;

/** The device name Cognito records for the authenticator app registered during MFA setup. */
export const TOTP_DEVICE_NAME = 'tessera-cli';

/**
 * Signs a user of the platform pool in with SRP (USER_SRP_AUTH: the password never leaves this
 * process) and answers Cognito's challenges until it issues tokens:
 * - PASSWORD_VERIFIER: the SRP proof (cognito-srp-helper);
 * - NEW_PASSWORD_REQUIRED: the first sign-in with the emailed temporary password;
 * - MFA_SETUP: AssociateSoftwareToken → the secret and an otpauth:// URI for an authenticator app →
 *   VerifySoftwareToken with its code → MFA_SETUP answered;
 * - SOFTWARE_TOKEN_MFA: the current authenticator code.
 * Challenge flow and parameter names: Cognito API reference, RespondToAuthChallenge.
 * @returns the AuthenticationResult (IdToken, AccessToken, RefreshToken, ExpiresIn in seconds).
 * @throws CliError with the fix for every Cognito refusal (signInError) and for a challenge it does not answer.
 */
export async function signIn(cognito: CognitoIdentityProviderClient, ctx: SignInContext, credentials: CredentialSource, terminal: Terminal): Promise<AuthenticationResultType> {
  const { clientId, email, userPoolId } = ctx;
  const call = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (e) {
      throw signInError(name, e, ctx);
    }
  };
  const password = await credentials.password(email);
  const srp = createSrpSession(email, password, userPoolId, false);
  const init = await call('InitiateAuth', () => cognito.send(new InitiateAuthCommand(wrapInitiateAuth(srp, {
    ClientId: clientId, AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: email },
  }))));
  if (init.ChallengeName !== 'PASSWORD_VERIFIER') throw new CliError(`Cognito InitiateAuth answered ${init.ChallengeName ?? 'no challenge'} instead of PASSWORD_VERIFIER: app client ${clientId} is not the gateway's SRP client; pass --client-id with the TenantUserPoolClientId output`, 1);
  // With email sign-in the username is the user's internal id (USER_ID_FOR_SRP), which the proof and every later answer name.
  const username = init.ChallengeParameters?.USER_ID_FOR_SRP ?? email;
  let signed;
  try {
    signed = signSrpSession(srp, init);
  } catch (e) {
    throw new CliError(`Cognito InitiateAuth answered an SRP challenge that cannot be signed (${(e as Error).message}): run tessera login again`, 1);
  }
  let res: RespondToAuthChallengeCommandOutput = await call('RespondToAuthChallenge', () => cognito.send(new RespondToAuthChallengeCommand(wrapAuthChallenge(signed, {
    ClientId: clientId, ChallengeName: 'PASSWORD_VERIFIER', Session: init.Session, ChallengeResponses: { USERNAME: username },
  }))));
  const respond = (challenge: string, responses: Record<string, string>, session = res.Session) =>
    call('RespondToAuthChallenge', () => cognito.send(new RespondToAuthChallengeCommand({ ClientId: clientId, ChallengeName: challenge as never, Session: session, ChallengeResponses: { USERNAME: username, ...responses } })));

  for (let step = 0; step < MAX_CHALLENGES; step++) {
    if (res.AuthenticationResult?.IdToken) return res.AuthenticationResult;
    switch (res.ChallengeName) {
      case 'NEW_PASSWORD_REQUIRED':
        res = await respond('NEW_PASSWORD_REQUIRED', { NEW_PASSWORD: await credentials.newPassword() });
        break;
      case 'MFA_SETUP': {
        const associated = await call('AssociateSoftwareToken', () => cognito.send(new AssociateSoftwareTokenCommand({ Session: res.Session })));
        // Base32 (RFC 4648) in its canonical upper case: some authenticator apps refuse lower case.
        const secret = associated.SecretCode!.toUpperCase();
        terminal.info([
          'Multi-factor authentication is required: add Tessera to an authenticator app (any TOTP app).',
          `  secret key: ${secret}`,
          `  or its URI (QR-code generators take it): ${totpUri(secret, email)}`,
        ].join('\n'));
        const code = await credentials.totpCode();
        const verified = await call('VerifySoftwareToken', () => cognito.send(new VerifySoftwareTokenCommand({ Session: associated.Session, UserCode: code, FriendlyDeviceName: TOTP_DEVICE_NAME })));
        if (verified.Status !== 'SUCCESS') throw new CliError(`Cognito VerifySoftwareToken answered ${verified.Status}: the code did not register the authenticator app; run tessera login again with a fresh code`, 1);
        terminal.info('Authenticator app registered: from now on, sign-in asks for its code.');
        res = await respond('MFA_SETUP', {}, verified.Session);
        break;
      }
      case 'SOFTWARE_TOKEN_MFA':
        res = await respond('SOFTWARE_TOKEN_MFA', { SOFTWARE_TOKEN_MFA_CODE: await credentials.totpCode() });
        break;
      default:
        throw new CliError(`Cognito asked for the ${res.ChallengeName ?? '(unnamed)'} challenge, which tessera login does not answer: the platform pool uses TOTP MFA only; ask your platform admin to check the pool's MFA settings`, 1);
    }
  }
  throw new CliError(`Cognito asked for more than ${MAX_CHALLENGES} challenges without issuing tokens (last: ${res.ChallengeName}): run tessera login again; if it persists, tell your platform admin`, 1);
}
