import { GetAccountCommand, GetEmailIdentityCommand, SESv2Client, SESv2ServiceException } from '@aws-sdk/client-sesv2';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { userPoolEmailChecks } from '../../../lib/cli/doctor/user-pool-email-checks.js';
import { accessKeyOf, awsError, mockSts, PLATFORM, testConfig, testContext } from './support.js';

const ses = mockStrict(SESv2Client, 'sesv2', SESv2ServiceException);
const FROM = 'no-reply@mail.acme.example';
const withSes = (email: Record<string, unknown> = {}) => testConfig({ identity: { email: { fromEmail: FROM, ...email } } });
const PRODUCTION = { ProductionAccessEnabled: true, SendingEnabled: true, EnforcementStatus: 'HEALTHY', SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 0 } };
/** The Region of the client a mocked call went through. */
const regionOf = async (call: { thisValue: unknown }) => (call.thisValue as { config: { region: () => Promise<string> } }).config.region();

beforeEach(() => {
  ses.reset();
  mockSts();
  ses.on(GetEmailIdentityCommand).resolves({ IdentityType: 'EMAIL_ADDRESS', VerifiedForSendingStatus: true, VerificationStatus: 'SUCCESS' });
  ses.on(GetAccountCommand).resolves(PRODUCTION);
});

describe('Cognito user pool mail (cognito-email)', () => {
  it('names Cognito\'s own sender and its 50 mails a day without identity.email, with no call', async () => {
    expect(await userPoolEmailChecks(testContext())).toEqual([{
      id: 'cognito-email', title: 'Cognito user pool mail', status: 'pass', account: PLATFORM, region: 'us-east-1',
      detail: 'Cognito\'s own sender (COGNITO_DEFAULT, from no-reply@verificationemail.com): at most 50 mails a day for the account (invitations, email verification and forgot-password codes); set identity.email to send through SES; no call made',
    }]);
    const jwt = { issuer: 'https://idp.example.com/', jwksUri: 'https://idp.example.com/.well-known/jwks.json', audience: 'tessera' };
    expect((await userPoolEmailChecks(testContext(testConfig({ gateway: { jwt } }))))[0]).toMatchObject({ status: 'pass', detail: 'not used: gateway.jwt names the issuer https://idp.example.com/ (no Cognito user pool)' });
    expect(ses.calls()).toHaveLength(0);
  });

  it('passes a verified identity in an account out of the sandbox, read in the platform account in the SES Region', async () => {
    ses.on(GetEmailIdentityCommand).resolves({ IdentityType: 'DOMAIN', VerifiedForSendingStatus: true, VerificationStatus: 'SUCCESS', Policies: { CognitoSend: '{}' } });
    const [line] = await userPoolEmailChecks(testContext(withSes({ sesVerifiedDomain: 'mail.acme.example' })));
    expect(line).toMatchObject({ status: 'pass', account: PLATFORM, region: 'us-east-1', detail: `SES (DEVELOPER) from ${FROM}, identity mail.acme.example verified in us-east-1, identity policies CognitoSend; production access, sending enabled, quota 50000 mails/24 h` });
    // the identity the pool's SourceArn names: the domain with sesVerifiedDomain
    expect(ses.commandCalls(GetEmailIdentityCommand).map((c) => c.args[0].input.EmailIdentity)).toEqual(['mail.acme.example']);
    expect(await accessKeyOf(ses.commandCalls(GetAccountCommand)[0])).toBe(`AKIA-cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`);
  });

  it('reads SES in sesRegion when it is not the home Region', async () => {
    // fine-tuning images follow the home Region (the config refuses another Region's)
    const move = (image: string) => image.replace('.us-east-1.', '.us-east-2.');
    const baseModels = testConfig().fineTuning.baseModels.map((m) => ({ ...m, trainingImage: move(m.trainingImage), servingImage: move(m.servingImage) }));
    const config = testConfig({ homeRegion: 'us-east-2', allowedRegions: ['us-east-2', 'us-east-1'], fineTuning: { baseModels }, identity: { email: { fromEmail: FROM, sesRegion: 'us-east-1' } } });
    const [line] = await userPoolEmailChecks({ ...testContext(config), region: 'us-east-2' });
    expect(line).toMatchObject({ status: 'pass', region: 'us-east-1' });
    expect(await regionOf(ses.commandCalls(GetEmailIdentityCommand)[0])).toBe('us-east-1');
    expect(await regionOf(ses.commandCalls(GetAccountCommand)[0])).toBe('us-east-1');
  });

  it('fails an identity SES does not have, or one not verified yet, with the command to create or verify it', async () => {
    ses.on(GetEmailIdentityCommand).rejects(awsError('NotFoundException', FROM, 404));
    const [missing] = await userPoolEmailChecks(testContext(withSes()));
    expect(missing).toMatchObject({
      status: 'fail', detail: `SES (DEVELOPER) from ${FROM}: ${FROM} is not an SES identity in us-east-1: Cognito cannot send invitations or codes`,
      fix: `in account ${PLATFORM}: aws sesv2 create-email-identity --region us-east-1 --email-identity ${FROM}, then open the link SES mails to it`,
    });
    ses.on(GetEmailIdentityCommand).resolves({ IdentityType: 'EMAIL_ADDRESS', VerifiedForSendingStatus: false, VerificationStatus: 'PENDING' });
    const [pending] = await userPoolEmailChecks(testContext(withSes()));
    expect(pending).toMatchObject({ status: 'fail', detail: `SES (DEVELOPER) from ${FROM}: ${FROM} is PENDING in us-east-1, not verified for sending: Cognito cannot send invitations or codes` });
    expect(pending.fix).toBe(`open the verification link SES mailed to ${FROM} (in account ${PLATFORM}: aws ses verify-email-identity --region us-east-1 --email-address ${FROM} sends it again)`);
    // no GetAccount once the identity fails
    expect(ses.commandCalls(GetAccountCommand)).toHaveLength(0);
  });

  it('fails an account in the SES sandbox or with sending disabled', async () => {
    ses.on(GetAccountCommand).resolves({ ...PRODUCTION, ProductionAccessEnabled: false });
    const [sandbox] = await userPoolEmailChecks(testContext(withSes()));
    expect(sandbox).toMatchObject({ status: 'fail', detail: `SES (DEVELOPER) from ${FROM}, identity ${FROM} verified in us-east-1, but the account is in the SES sandbox in us-east-1: SES mails only verified recipients, and tenant users are not` });
    expect(sandbox.fix).toMatch(/aws sesv2 put-account-details --region us-east-1 --production-access-enabled/);
    ses.on(GetAccountCommand).resolves({ ...PRODUCTION, SendingEnabled: false, EnforcementStatus: 'HEALTHY' });
    const [disabled] = await userPoolEmailChecks(testContext(withSes()));
    expect(disabled).toMatchObject({ status: 'fail', fix: `in account ${PLATFORM}: aws sesv2 put-account-sending-attributes --region us-east-1 --sending-enabled` });
  });

  it('names the refused call and the grant, and fails without a call when the platform account cannot be read', async () => {
    ses.on(GetEmailIdentityCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform: ses:GetEmailIdentity', 403));
    const [denied] = await userPoolEmailChecks(testContext(withSes()));
    expect(denied).toMatchObject({ status: 'fail', fix: `grant ses:GetEmailIdentity to role cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1` });
    expect(denied.detail).toMatch(new RegExp(`^ses:GetEmailIdentity ${FROM} failed: AccessDeniedException`));
    ses.reset();
    mockSts(() => true);
    const [unread] = await userPoolEmailChecks(testContext(withSes()));
    expect(unread.status).toBe('fail');
    expect(unread.detail).toMatch(new RegExp(`^not checked: cannot read account ${PLATFORM}`));
    expect(ses.calls()).toHaveLength(0);
  });
});
