import { GetAccountCommand, GetEmailIdentityCommand, SESv2Client, SESv2ServiceException } from '@aws-sdk/client-sesv2';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { sesChecks } from '../../../lib/cli/doctor/ses-checks.js';
import { accessKeyOf, awsError, mockSts, PLATFORM, testConfig, testContext } from './support.js';

const ses = mockStrict(SESv2Client, 'sesv2', SESv2ServiceException);
const SENDER = 'alerts@mail.acme.example';
const mailing = (tiers: Record<string, unknown> = { starter: { budgetAlerts: { emailTenantAdmins: true, senderEmail: SENDER } } }) => testConfig({ tiers });
const notFound = (name: string) => awsError('NotFoundException', name, 404);
const PRODUCTION = { ProductionAccessEnabled: true, SendingEnabled: true, EnforcementStatus: 'HEALTHY', SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 0 } };

beforeEach(() => {
  ses.reset();
  mockSts();
  ses.on(GetEmailIdentityCommand).resolves({ IdentityType: 'EMAIL_ADDRESS', VerifiedForSendingStatus: true, VerificationStatus: 'SUCCESS' });
  ses.on(GetAccountCommand).resolves(PRODUCTION);
});

describe('budget alert mail (SES)', () => {
  it('makes no SES call and passes with the reason when no tier mails', async () => {
    const lines = await sesChecks(testContext());
    expect(lines).toEqual([{ id: 'budget-alert-mail', title: 'Budget alert mail (SES)', status: 'pass', detail: 'no tier sets budgetAlerts.emailTenantAdmins: true: nothing is mailed, no SES call made', account: PLATFORM, region: 'us-east-1' }]);
    expect(ses.calls()).toHaveLength(0);
  });

  it('passes a verified sender address and an account out of the sandbox, read in the platform account', async () => {
    const lines = await sesChecks(testContext(mailing()));
    expect(lines.map((l) => [l.id, l.status, l.detail, l.account])).toEqual([
      [`ses-sender:${SENDER}`, 'pass', `identity ${SENDER} is verified for sending (senderEmail of tier starter)`, PLATFORM],
      ['ses-account', 'pass', 'production access, sending enabled (EnforcementStatus HEALTHY, quota 50000 mails/24 h)', PLATFORM],
    ]);
    // the address was enough: its domain is not read
    expect(ses.commandCalls(GetEmailIdentityCommand).map((c) => c.args[0].input.EmailIdentity)).toEqual([SENDER]);
    expect(await accessKeyOf(ses.commandCalls(GetAccountCommand)[0])).toBe(`AKIA-cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`);
  });

  it('passes an address that is no identity when its domain is verified, and checks a sender shared by two tiers once', async () => {
    ses.on(GetEmailIdentityCommand, { EmailIdentity: SENDER }).rejects(notFound(SENDER));
    const lines = await sesChecks(testContext(mailing({
      starter: { budgetAlerts: { emailTenantAdmins: true, senderEmail: SENDER } },
      enterprise: { budgetAlerts: { emailTenantAdmins: true, senderEmail: SENDER } },
    })));
    expect(lines[0]).toMatchObject({ id: `ses-sender:${SENDER}`, status: 'pass', detail: `its domain mail.acme.example is verified for sending (${SENDER} is not an SES identity) (senderEmail of tiers starter, enterprise)` });
    expect(lines).toHaveLength(2);
    expect(ses.commandCalls(GetEmailIdentityCommand).map((c) => c.args[0].input.EmailIdentity)).toEqual([SENDER, 'mail.acme.example']);
  });

  it('fails a sender that is neither an identity nor in a verified domain, with create-email-identity', async () => {
    ses.on(GetEmailIdentityCommand).callsFake((input: { EmailIdentity: string }) => Promise.reject(notFound(input.EmailIdentity)));
    const [sender] = await sesChecks(testContext(mailing()));
    expect(sender).toMatchObject({
      status: 'fail', detail: `${SENDER} is not an SES identity and mail.acme.example is not an SES identity: SES refuses SendEmail from it (senderEmail of tier starter)`,
      fix: `in account ${PLATFORM}: aws sesv2 create-email-identity --region us-east-1 --email-identity ${SENDER}, then open the link SES mails to it (or verify the domain: --email-identity mail.acme.example, then publish its DKIM records)`,
    });
  });

  it('fails an address identity still PENDING (VerifiedForSendingStatus false), naming its status and the resend command', async () => {
    ses.on(GetEmailIdentityCommand, { EmailIdentity: SENDER }).resolves({ IdentityType: 'EMAIL_ADDRESS', VerifiedForSendingStatus: false, VerificationStatus: 'PENDING' });
    ses.on(GetEmailIdentityCommand, { EmailIdentity: 'mail.acme.example' }).rejects(notFound('mail.acme.example'));
    const [sender] = await sesChecks(testContext(mailing()));
    expect(sender.status).toBe('fail');
    expect(sender.detail).toBe(`${SENDER} is PENDING, not verified for sending and mail.acme.example is not an SES identity: SES refuses SendEmail from it (senderEmail of tier starter)`);
    expect(sender.fix).toBe(`open the verification link SES mailed to ${SENDER} (in account ${PLATFORM}: aws ses verify-email-identity --region us-east-1 --email-address ${SENDER} sends it again)`);
  });

  it('fails a domain identity whose DKIM verification FAILED, with the DKIM records to publish', async () => {
    ses.on(GetEmailIdentityCommand, { EmailIdentity: SENDER }).rejects(notFound(SENDER));
    ses.on(GetEmailIdentityCommand, { EmailIdentity: 'mail.acme.example' }).resolves({ IdentityType: 'DOMAIN', VerifiedForSendingStatus: false, VerificationStatus: 'FAILED' });
    const [sender] = await sesChecks(testContext(mailing()));
    expect(sender.detail).toContain('mail.acme.example is FAILED, not verified for sending');
    expect(sender.fix).toMatch(/^publish the DKIM CNAME records of mail\.acme\.example in its DNS \(in account 555555555555: aws sesv2 get-email-identity --region us-east-1 --email-identity mail\.acme\.example --query DkimAttributes\.Tokens\)/);
  });

  it('fails an account in the SES sandbox, with put-account-details; a pending request says to wait', async () => {
    ses.on(GetAccountCommand).resolves({ ...PRODUCTION, ProductionAccessEnabled: false });
    const sandbox = (await sesChecks(testContext(mailing())))[1];
    expect(sandbox).toMatchObject({
      id: 'ses-account', status: 'fail', detail: 'in the SES sandbox (ProductionAccessEnabled false): SES sends only to verified recipients, and the tenant admins are not',
      fix: `in account ${PLATFORM}: aws sesv2 put-account-details --region us-east-1 --production-access-enabled --mail-type TRANSACTIONAL --website-url <your site>, or request production access on the SES console's Account dashboard`,
    });
    ses.on(GetAccountCommand).resolves({ ...PRODUCTION, ProductionAccessEnabled: false, Details: { MailType: 'TRANSACTIONAL', WebsiteURL: 'https://acme.example', ReviewDetails: { Status: 'PENDING', CaseId: '1234' } } });
    const pending = (await sesChecks(testContext(mailing())))[1];
    expect(pending).toMatchObject({ status: 'fail', detail: 'in the SES sandbox (ProductionAccessEnabled false, production access request PENDING (case 1234)): SES sends only to verified recipients, and the tenant admins are not' });
    expect(pending.fix).toMatch(/^wait for AWS's answer/);
  });

  it('fails an account whose sending is disabled, and warns on PROBATION', async () => {
    ses.on(GetAccountCommand).resolves({ ...PRODUCTION, SendingEnabled: false, EnforcementStatus: 'SHUTDOWN' });
    expect((await sesChecks(testContext(mailing())))[1]).toMatchObject({ status: 'fail', detail: 'sending is disabled for the account in us-east-1 (EnforcementStatus SHUTDOWN)' });
    ses.on(GetAccountCommand).resolves({ ...PRODUCTION, EnforcementStatus: 'PROBATION' });
    expect((await sesChecks(testContext(mailing())))[1]).toMatchObject({ status: 'warn', detail: 'production access, but the account is on PROBATION, quota 50000 mails/24 h: AWS may pause its sending' });
  });

  it('translates AccessDenied of each call into its own line naming the call', async () => {
    ses.on(GetEmailIdentityCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform: ses:GetEmailIdentity', 403));
    ses.on(GetAccountCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform: ses:GetAccount', 403));
    const [sender, account] = await sesChecks(testContext(mailing()));
    expect(sender).toMatchObject({ status: 'fail', fix: `grant ses:GetEmailIdentity to role cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1` });
    expect(sender.detail).toMatch(new RegExp(`^ses:GetEmailIdentity ${SENDER} failed: AccessDeniedException`));
    expect(account.detail).toMatch(/^ses:GetAccount failed: AccessDeniedException/);
  });

  it('an error other than a refusal (throttling) fails naming the call, with a rerun and the CLI command, not a grant', async () => {
    ses.on(GetAccountCommand).rejects(awsError('TooManyRequestsException', 'Too many requests', 429));
    const account = (await sesChecks(testContext(mailing())))[1];
    expect(account).toMatchObject({ status: 'fail', detail: 'ses:GetAccount failed: TooManyRequestsException: Too many requests', fix: `rerun doctor; if it persists, see SES's answer: in account ${PLATFORM}: aws sesv2 get-account --region us-east-1` });
  });

  it('fails, not crashes, when the platform account cannot be read', async () => {
    mockSts(() => true);
    const lines = await sesChecks(testContext(mailing()));
    expect(lines.map((l) => l.id)).toEqual([`ses-sender:${SENDER}`, 'ses-account']);
    expect(lines.every((l) => l.status === 'fail' && l.detail.startsWith(`not checked: cannot read account ${PLATFORM}`))).toBe(true);
    expect(ses.calls()).toHaveLength(0);
  });
});
