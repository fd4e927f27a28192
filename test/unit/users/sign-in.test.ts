import {
  AssociateSoftwareTokenCommand, CognitoIdentityProviderClient, InitiateAuthCommand, RespondToAuthChallengeCommand, VerifySoftwareTokenCommand, CognitoIdentityProviderServiceException } from '@aws-sdk/client-cognito-identity-provider';
import { mockStrict } from '../../support/strict-mock.js';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CliError } from '../../../lib/cli/cli-error.js';
import { CredentialSource, type CredentialFlags } from '../../../lib/cli/users/credentials.js';
import { signIn } from '../../../lib/cli/users/sign-in.js';
import { loginTokens } from '../../../lib/cli/users/tokens.js';
import { FakeTerminal, fakeJwt, nativeModPow, passwordVerifier, useJsbnModPow, useNativeModPow, type ModPowCall } from './support.js';

const cognito = mockStrict(CognitoIdentityProviderClient, 'cognito-idp', CognitoIdentityProviderServiceException);
const ctx = { email: 'dev@acme.example.com', userPoolId: 'us-east-1_AbC123', clientId: 'client123' };
const USER_ID = 'a1b2c3d4-0000-4000-8000-000000000001';
const tokens = (tenant = 'acme') => ({
  IdToken: fakeJwt({ aud: ctx.clientId, token_use: 'id', email: ctx.email, exp: 2_000_000_000, ...(tenant ? { 'custom:tenant_id': tenant } : {}) }),
  AccessToken: fakeJwt({ client_id: ctx.clientId, token_use: 'access' }), RefreshToken: 'refresh', ExpiresIn: 3600, TokenType: 'Bearer',
});
const client = () => new CognitoIdentityProviderClient({ region: 'us-east-1' });

function run(terminal: FakeTerminal, flags: CredentialFlags = {}, env: NodeJS.ProcessEnv = {}) {
  return signIn(client(), ctx, new CredentialSource(flags, terminal, env), terminal);
}
const respondCalls = () => cognito.commandCalls(RespondToAuthChallengeCommand).map((c) => c.args[0].input);

// Every test runs the real SRP of cognito-srp-helper; after the first, its modular exponentiations (jsbn's modPow,
// three a sign-in, ~0.1-0.4 s each) are computed by Node's BigInt: the same values (the first test checks its three),
// so the same requests, at a tenth of the CPU. The first test keeps jsbn's own arithmetic.
beforeEach(() => {
  cognito.reset();
  cognito.on(InitiateAuthCommand).resolves(passwordVerifier(USER_ID));
  useNativeModPow();
});
afterAll(() => useJsbnModPow());

describe('tessera login: SRP sign-in and its challenges', () => {
  describe('with jsbn\'s own arithmetic', () => {
    const modPows: ModPowCall[] = [];
    beforeEach(() => useJsbnModPow(modPows));

    it('signs in with SRP: USER_SRP_AUTH with SRP_A, then the password proof under USER_ID_FOR_SRP', async () => {
      cognito.on(RespondToAuthChallengeCommand).resolves({ AuthenticationResult: tokens() });
      const terminal = new FakeTerminal(true, ['correct horse battery staple']);
      const result = await run(terminal);
      expect(loginTokens(result, ctx.email)).toMatchObject({ tenantId: 'acme', expiresIn: 3600, expiresAt: '2033-05-18T03:33:20.000Z' });
      const init = cognito.commandCalls(InitiateAuthCommand)[0].args[0].input;
      expect(init).toMatchObject({ ClientId: 'client123', AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: ctx.email } });
      expect(init.AuthParameters!.SRP_A).toMatch(/^[0-9a-f]{256,}$/);
      expect(init.AuthParameters).not.toHaveProperty('PASSWORD');
      const [verifier] = respondCalls();
      expect(verifier).toMatchObject({ ChallengeName: 'PASSWORD_VERIFIER', ChallengeResponses: { USERNAME: USER_ID } });
      expect(verifier.ChallengeResponses!.PASSWORD_CLAIM_SIGNATURE).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(verifier.ChallengeResponses!.TIMESTAMP).toMatch(/^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{1,2} \d{2}:\d{2}:\d{2} UTC \d{4}$/);
      expect(JSON.stringify(cognito.calls().map((c) => c.args[0].input))).not.toContain('correct horse');
      expect(terminal.asked).toEqual([{ question: `Password for ${ctx.email}: `, secret: true }]);
      // The other tests' native modPow gives jsbn's values for this sign-in's A = g^a, g^x and (B - k·g^x)^(a+u·x).
      expect(modPows).toHaveLength(3);
      expect(modPows[2].base).toBeLessThan(0n); // B - k·g^x: jsbn reduces a negative base first
      for (const { base, exponent, modulus, value } of modPows) expect(nativeModPow(base, exponent, modulus)).toBe(value);
    });
  });

  it('first sign-in: NEW_PASSWORD_REQUIRED, then MFA_SETUP (secret, otpauth URI, verify), then tokens — all from stdin', async () => {
    cognito.on(RespondToAuthChallengeCommand, { ChallengeName: 'PASSWORD_VERIFIER' }).resolves({ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'cognito-session-0001', ChallengeParameters: {} })
      .on(RespondToAuthChallengeCommand, { ChallengeName: 'NEW_PASSWORD_REQUIRED' }).resolves({ ChallengeName: 'MFA_SETUP', Session: 'cognito-session-0002', ChallengeParameters: { MFAS_CAN_SETUP: '["SOFTWARE_TOKEN_MFA"]' } })
      .on(RespondToAuthChallengeCommand, { ChallengeName: 'MFA_SETUP' }).resolves({ AuthenticationResult: tokens() });
    cognito.on(AssociateSoftwareTokenCommand).resolves({ SecretCode: 'JBSWY3DPEHPK3PXP', Session: 'cognito-session-0003' });
    cognito.on(VerifySoftwareTokenCommand).resolves({ Status: 'SUCCESS', Session: 'cognito-session-0004' });
    const terminal = new FakeTerminal(false, [], ['Temp-Pass-1!', 'A-New-Passw0rd!!', '123456']);
    const result = await run(terminal, { passwordStdin: true, newPasswordStdin: true, totpCode: '-' });
    expect(result.IdToken).toBe(tokens().IdToken);
    expect(respondCalls().map((c) => [c.ChallengeName, c.Session, c.ChallengeResponses])).toEqual([
      ['PASSWORD_VERIFIER', undefined, expect.objectContaining({ USERNAME: USER_ID })],
      ['NEW_PASSWORD_REQUIRED', 'cognito-session-0001', { USERNAME: USER_ID, NEW_PASSWORD: 'A-New-Passw0rd!!' }],
      ['MFA_SETUP', 'cognito-session-0004', { USERNAME: USER_ID }],
    ]);
    expect(cognito.commandCalls(AssociateSoftwareTokenCommand)[0].args[0].input).toEqual({ Session: 'cognito-session-0002' });
    expect(cognito.commandCalls(VerifySoftwareTokenCommand)[0].args[0].input).toEqual({ Session: 'cognito-session-0003', UserCode: '123456', FriendlyDeviceName: 'tessera-cli' });
    expect(terminal.told[0]).toContain('secret key: JBSWY3DPEHPK3PXP');
    expect(terminal.told[0]).toContain('otpauth://totp/Tessera:dev%40acme.example.com?secret=JBSWY3DPEHPK3PXP&issuer=Tessera&algorithm=SHA1&digits=6&period=30');
  });

  it('first sign-in on a terminal: the new password is typed twice without echo, the code with echo', async () => {
    cognito.on(RespondToAuthChallengeCommand, { ChallengeName: 'PASSWORD_VERIFIER' }).resolves({ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'cognito-session-0001' })
      .on(RespondToAuthChallengeCommand, { ChallengeName: 'NEW_PASSWORD_REQUIRED' }).resolves({ ChallengeName: 'MFA_SETUP', Session: 'cognito-session-0002' })
      .on(RespondToAuthChallengeCommand, { ChallengeName: 'MFA_SETUP' }).resolves({ AuthenticationResult: tokens() });
    cognito.on(AssociateSoftwareTokenCommand).resolves({ SecretCode: 'JBSWY3DPEHPK3PXP', Session: 'cognito-session-0003' });
    cognito.on(VerifySoftwareTokenCommand).resolves({ Status: 'SUCCESS', Session: 'cognito-session-0004' });
    const terminal = new FakeTerminal(true, ['Temp-Pass-1!', 'A-New-Passw0rd!!', 'A-New-Passw0rd!!', '123 456']);
    await run(terminal);
    expect(terminal.asked.map((a) => a.secret)).toEqual([true, true, true, false]);
    expect(cognito.commandCalls(VerifySoftwareTokenCommand)[0].args[0].input.UserCode).toBe('123456');
  });

  it('refuses two different new passwords typed on the terminal', async () => {
    cognito.on(RespondToAuthChallengeCommand).resolves({ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'cognito-session-0001' });
    await expect(run(new FakeTerminal(true, ['Temp-Pass-1!', 'A-New-Passw0rd!!', 'Another-Passw0rd!']))).rejects.toThrow(/the two new passwords differ/);
  });

  it('answers SOFTWARE_TOKEN_MFA with --totp-code, the password from TESSERA_PASSWORD', async () => {
    cognito.on(RespondToAuthChallengeCommand, { ChallengeName: 'PASSWORD_VERIFIER' }).resolves({ ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 'cognito-session-0001' })
      .on(RespondToAuthChallengeCommand, { ChallengeName: 'SOFTWARE_TOKEN_MFA' }).resolves({ AuthenticationResult: tokens() });
    await run(new FakeTerminal(false), { totpCode: '654321' }, { TESSERA_PASSWORD: 'Pw-from-env-123!' });
    expect(respondCalls()[1]).toEqual({ ClientId: 'client123', ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 'cognito-session-0001', ChallengeResponses: { USERNAME: USER_ID, SOFTWARE_TOKEN_MFA_CODE: '654321' } });
  });

  describe('without a terminal, a missing value names its flag', () => {
    it.each([
      ['the password', {}, /no password and no terminal to ask on: pass --password-stdin .* or set TESSERA_PASSWORD/, undefined],
      ['the new password', { passwordStdin: true }, /no terminal to ask on: pass --new-password-stdin .* or set TESSERA_NEW_PASSWORD/, 'NEW_PASSWORD_REQUIRED'],
      ['the code', { passwordStdin: true }, /authenticator code is needed and there is no terminal to ask on: pass --totp-code/, 'SOFTWARE_TOKEN_MFA'],
      ['a stdin line', { passwordStdin: true, newPasswordStdin: true }, /--new-password-stdin: stdin ended before the new password/, 'NEW_PASSWORD_REQUIRED'],
    ] as const)('%s', async (_what, flags, message, challenge) => {
      if (challenge) cognito.on(RespondToAuthChallengeCommand).resolves({ ChallengeName: challenge, Session: 'cognito-session-0001' });
      const error = await run(new FakeTerminal(false, [], ['Pw-123456789012!']), flags).catch((e) => e);
      expect(error).toBeInstanceOf(CliError);
      expect(error.exitCode).toBe(2);
      expect(error.message).toMatch(message);
    });

    it('a code that is not 6 digits', async () => {
      cognito.on(RespondToAuthChallengeCommand).resolves({ ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 'cognito-session-0001' });
      await expect(run(new FakeTerminal(false, [], ['pw']), { passwordStdin: true, totpCode: '12345' })).rejects.toThrow('the authenticator code "12345" is not 6 digits');
    });
  });

  describe('Cognito refusals become one-line errors with the fix', () => {
    const cases: Array<[string, 'InitiateAuth' | 'PASSWORD_VERIFIER' | 'VerifySoftwareToken' | 'SOFTWARE_TOKEN_MFA', string, string, RegExp]> = [
      ['a wrong password', 'PASSWORD_VERIFIER', 'NotAuthorizedException', 'Incorrect username or password.', /^Cognito RespondToAuthChallenge: wrong password for dev@acme.example.com \(NotAuthorizedException\): check it .*--resend\)$/],
      ['an unknown user', 'InitiateAuth', 'UserNotFoundException', 'User does not exist.', /no user dev@acme.example.com in user pool us-east-1_AbC123 .*tessera users invite --tenant <tenant> --email dev@acme.example.com/],
      ['an expired temporary password', 'PASSWORD_VERIFIER', 'NotAuthorizedException', 'Temporary password has expired and must be reset by an administrator.', /temporary password of dev@acme.example.com has expired .*--resend/],
      ['a disabled user', 'InitiateAuth', 'NotAuthorizedException', 'User is disabled.', /is disabled: ask your platform admin to enable it/],
      ['too many attempts', 'PASSWORD_VERIFIER', 'NotAuthorizedException', 'Password attempts exceeded', /too many wrong passwords .* wait a few minutes/],
      ['an expired session', 'SOFTWARE_TOKEN_MFA', 'NotAuthorizedException', 'Invalid session for the user, session is expired.', /sign-in session expired \(Cognito allows 3 minutes per step\)/],
      ['a password reset', 'InitiateAuth', 'PasswordResetRequiredException', 'Password reset required for the user', /an administrator reset the password .* confirm-forgot-password --client-id client123 --username dev@acme.example.com/],
      ['a wrong code at sign-in', 'SOFTWARE_TOKEN_MFA', 'CodeMismatchException', 'Invalid code received for user', /Cognito RespondToAuthChallenge: the authenticator code was not accepted \(CodeMismatchException\): type the current 6-digit code/],
      ['a wrong code at MFA setup', 'VerifySoftwareToken', 'EnableSoftwareTokenMFAException', 'Code mismatch', /Cognito VerifySoftwareToken: the authenticator code was not accepted/],
      ['a client without SRP', 'InitiateAuth', 'InvalidParameterException', 'USER_SRP_AUTH is not enabled for the client.', /app client client123 does not allow SRP sign-in .* pass --client-id/],
      ['an unknown client', 'InitiateAuth', 'ResourceNotFoundException', 'User pool client client123 does not exist.', /no app client client123 .* pass --client-id/],
      ['throttling', 'InitiateAuth', 'TooManyRequestsException', 'Rate exceeded', /throttling .* wait a minute/],
    ];
    it.each(cases)('%s', async (_what, where, name, message, expected) => {
      const error = Object.assign(new Error(message), { name });
      if (where === 'InitiateAuth') cognito.on(InitiateAuthCommand).rejects(error);
      else if (where === 'PASSWORD_VERIFIER') cognito.on(RespondToAuthChallengeCommand).rejects(error);
      else {
        cognito.on(RespondToAuthChallengeCommand, { ChallengeName: 'PASSWORD_VERIFIER' }).resolves(where === 'VerifySoftwareToken' ? { ChallengeName: 'MFA_SETUP', Session: 'cognito-session-0001' } : { ChallengeName: 'SOFTWARE_TOKEN_MFA', Session: 'cognito-session-0001' });
        cognito.on(AssociateSoftwareTokenCommand).resolves({ SecretCode: 'JBSWY3DPEHPK3PXP', Session: 'cognito-session-0002' });
        if (where === 'VerifySoftwareToken') cognito.on(VerifySoftwareTokenCommand).rejects(error);
        else cognito.on(RespondToAuthChallengeCommand, { ChallengeName: 'SOFTWARE_TOKEN_MFA' }).rejects(error);
      }
      const thrown = await run(new FakeTerminal(false, [], ['pw']), { passwordStdin: true, totpCode: '123456' }).catch((e) => e);
      expect(thrown).toBeInstanceOf(CliError);
      expect(thrown.message).toMatch(expected);
      expect(thrown.message).not.toContain('\n');
    });

    it('a new password the policy refuses is a usage error (exit 2)', async () => {
      cognito.on(RespondToAuthChallengeCommand, { ChallengeName: 'PASSWORD_VERIFIER' }).resolves({ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'cognito-session-0001' })
        .on(RespondToAuthChallengeCommand, { ChallengeName: 'NEW_PASSWORD_REQUIRED' }).rejects(Object.assign(new Error('Password did not conform with policy: Password not long enough'), { name: 'InvalidPasswordException' }));
      const thrown = await run(new FakeTerminal(false, [], ['pw', 'short']), { passwordStdin: true, newPasswordStdin: true }).catch((e) => e);
      expect(thrown.exitCode).toBe(2);
      expect(thrown.message).toMatch(/the new password was refused \(Password did not conform with policy: Password not long enough\): choose one .*at least 14 characters/);
    });

    it('VerifySoftwareToken answering ERROR', async () => {
      cognito.on(RespondToAuthChallengeCommand).resolves({ ChallengeName: 'MFA_SETUP', Session: 'cognito-session-0001' });
      cognito.on(AssociateSoftwareTokenCommand).resolves({ SecretCode: 'JBSWY3DPEHPK3PXP', Session: 'cognito-session-0002' });
      cognito.on(VerifySoftwareTokenCommand).resolves({ Status: 'ERROR' });
      await expect(run(new FakeTerminal(false, [], ['pw']), { passwordStdin: true, totpCode: '123456' })).rejects.toThrow(/VerifySoftwareToken answered ERROR/);
    });

    it('a challenge the platform pool never asks (SMS_MFA)', async () => {
      cognito.on(RespondToAuthChallengeCommand).resolves({ ChallengeName: 'SMS_MFA', Session: 'cognito-session-0001' });
      await expect(run(new FakeTerminal(false, [], ['pw']), { passwordStdin: true })).rejects.toThrow(/asked for the SMS_MFA challenge, which tessera login does not answer: the platform pool uses TOTP MFA only/);
    });

    it('an ID token without custom:tenant_id (the gateway would refuse it)', () => {
      expect(() => loginTokens(tokens(''), ctx.email)).toThrow(/has no custom:tenant_id claim, so the gateway would refuse it/);
    });
  });
});
