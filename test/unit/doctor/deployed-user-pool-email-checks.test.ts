import { CloudFormationClient, DescribeStacksCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { CognitoIdentityProviderClient, DescribeUserPoolCommand, CognitoIdentityProviderServiceException } from '@aws-sdk/client-cognito-identity-provider';
import { GetAccountCommand, GetEmailIdentityCommand, SESv2Client, SESv2ServiceException } from '@aws-sdk/client-sesv2';
import { mockStrict } from '../../support/strict-mock.js';
import { beforeEach, describe, expect, it } from 'vitest';
import { deployedUserPoolEmailChecks } from '../../../lib/cli/doctor/deployed-user-pool-email-checks.js';
import { CHECK_GROUPS } from '../../../lib/cli/doctor/runner.js';
import { accessKeyOf, awsError, mockSts, PLATFORM, testConfig, testContext } from './support.js';

// doctor's cognito-email, its deployed half: the pool's EmailConfiguration (DescribeUserPool) against the config's.

const cfn = mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException);
const cognito = mockStrict(CognitoIdentityProviderClient, 'cognito-idp', CognitoIdentityProviderServiceException);
const ses = mockStrict(SESv2Client, 'sesv2', SESv2ServiceException);
const POOL = 'us-east-1_AbCdEf123';
const FROM = 'no-reply@mail.acme.example';
const SOURCE = `arn:aws:ses:us-east-1:${PLATFORM}:identity/${FROM}`;
const withSes = (email: Record<string, unknown> = {}) => testConfig({ identity: { email: { fromEmail: FROM, ...email } } });
const deployed = (pool: Record<string, unknown>) => cognito.on(DescribeUserPoolCommand).resolves({ UserPool: { Id: POOL, Name: 'tessera-tenants', ...pool } });

beforeEach(() => {
  cfn.reset();
  cognito.reset();
  ses.reset();
  mockSts();
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'TesseraPlatform', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: [{ OutputKey: 'TenantUserPoolId', OutputValue: POOL }] }] });
  deployed({ EmailConfiguration: { EmailSendingAccount: 'COGNITO_DEFAULT' }, EstimatedNumberOfUsers: 12 });
  ses.on(GetEmailIdentityCommand).resolves({ IdentityType: 'EMAIL_ADDRESS', VerifiedForSendingStatus: true, VerificationStatus: 'SUCCESS' });
  ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true, SendingEnabled: true, EnforcementStatus: 'HEALTHY' });
});

describe('the deployed user pool\'s mail (cognito-email-deployed)', () => {
  it('passes a pool that sends as the config says, read in the platform account (the pool the TesseraPlatform output names)', async () => {
    expect(await deployedUserPoolEmailChecks(testContext())).toEqual([{
      id: 'cognito-email-deployed', title: 'Cognito user pool mail, deployed', status: 'pass', account: PLATFORM, region: 'us-east-1',
      detail: `${POOL} as the config says: EmailSendingAccount COGNITO_DEFAULT, about 12 users`,
    }]);
    expect(cognito.commandCalls(DescribeUserPoolCommand)[0].args[0].input).toEqual({ UserPoolId: POOL });
    expect(await accessKeyOf(cognito.commandCalls(DescribeUserPoolCommand)[0])).toBe(`AKIA-cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1`);
    // a pool with no EmailConfiguration at all is on Cognito's default too
    deployed({});
    expect((await deployedUserPoolEmailChecks(testContext()))[0]).toMatchObject({ status: 'pass', detail: `${POOL} as the config says: EmailSendingAccount COGNITO_DEFAULT` });
    deployed({ EmailConfiguration: { EmailSendingAccount: 'DEVELOPER', SourceArn: SOURCE, From: `"Acme (AI)" <${FROM}>`, ReplyToEmailAddress: 'support@acme.example' } });
    const [sesLine] = await deployedUserPoolEmailChecks(testContext(withSes({ fromName: 'Acme (AI)', replyTo: 'support@acme.example' })));
    expect(sesLine).toMatchObject({ status: 'pass', detail: `${POOL} as the config says: EmailSendingAccount DEVELOPER, SourceArn ${SOURCE}, From "Acme (AI)" <${FROM}>, ReplyToEmailAddress support@acme.example` });
  });

  it('warns of a redeploy pending when the deployed pool does not send as the config says, naming each field', async () => {
    const [pending] = await deployedUserPoolEmailChecks(testContext(withSes()));
    expect(pending).toMatchObject({
      status: 'warn',
      detail: `${POOL} sends as deployed, not as the config says: EmailSendingAccount COGNITO_DEFAULT, config DEVELOPER; SourceArn (none), config ${SOURCE}; From (none), config ${FROM}; the pool mails through its deployed settings until TesseraPlatform is deployed with this config`,
      fix: 'npx cdk deploy TesseraPlatform -c tessera:configFile=<your config file>',
    });
    // another identity or Region deployed than configured (sesVerifiedDomain added since)
    deployed({ EmailConfiguration: { EmailSendingAccount: 'DEVELOPER', SourceArn: SOURCE, From: FROM } });
    const [domain] = await deployedUserPoolEmailChecks(testContext(withSes({ sesVerifiedDomain: 'mail.acme.example' })));
    expect(domain).toMatchObject({ status: 'warn', detail: expect.stringContaining(`SourceArn ${SOURCE}, config arn:aws:ses:us-east-1:${PLATFORM}:identity/mail.acme.example;`) });
    expect(domain.detail).not.toMatch(/From /);
    // identity.email removed from the config, the pool still on SES
    const [removed] = await deployedUserPoolEmailChecks(testContext());
    expect(removed).toMatchObject({ status: 'warn', detail: expect.stringContaining('EmailSendingAccount DEVELOPER, config COGNITO_DEFAULT') });
  });

  it('warns a pool on Cognito\'s own sender with more users than its 50 mails a day', async () => {
    deployed({ EmailConfiguration: { EmailSendingAccount: 'COGNITO_DEFAULT' }, EstimatedNumberOfUsers: 51 });
    const [line] = await deployedUserPoolEmailChecks(testContext());
    expect(line).toMatchObject({ status: 'warn', detail: expect.stringContaining('at most 50 mails a day for the account, and holds about 51 users') });
    expect(line.fix).toMatch(/^set identity\.email/);
    deployed({ EmailConfiguration: { EmailSendingAccount: 'COGNITO_DEFAULT' }, EstimatedNumberOfUsers: 50 });
    expect((await deployedUserPoolEmailChecks(testContext()))[0].status).toBe('pass');
  });

  it('fails a pool for which Cognito reports an EmailConfigurationFailure, quoting it', async () => {
    deployed({ EmailConfiguration: { EmailSendingAccount: 'DEVELOPER', SourceArn: SOURCE, From: FROM }, EmailConfigurationFailure: 'Email address is not verified.' });
    const [line] = await deployedUserPoolEmailChecks(testContext(withSes()));
    expect(line).toMatchObject({ status: 'fail', detail: `${POOL} (EmailSendingAccount DEVELOPER, SourceArn ${SOURCE}, From ${FROM}): Cognito reports it cannot send: Email address is not verified.` });
  });

  it('warns with nothing deployed to compare, names a refused call with its grant, and makes no line with gateway.jwt', async () => {
    cfn.on(DescribeStacksCommand).rejects(awsError('ValidationError', 'Stack with id TesseraPlatform does not exist'));
    expect((await deployedUserPoolEmailChecks(testContext()))[0]).toMatchObject({ status: 'warn', detail: `not compared: stack TesseraPlatform is not deployed in account ${PLATFORM} (us-east-1); the pool gets the config's mail settings at its first deploy` });
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'TesseraPlatform', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: [{ OutputKey: 'TenantUserPoolId', OutputValue: POOL }] }] });
    cognito.on(DescribeUserPoolCommand).rejects(awsError('AccessDeniedException', 'not authorized to perform: cognito-idp:DescribeUserPool', 403));
    expect((await deployedUserPoolEmailChecks(testContext()))[0]).toMatchObject({ status: 'fail', fix: `grant cognito-idp:DescribeUserPool to role cdk-hnb659fds-lookup-role-${PLATFORM}-us-east-1` });
    cognito.resetHistory();
    const jwt = { issuer: 'https://idp.example.com/', jwksUri: 'https://idp.example.com/.well-known/jwks.json', audience: 'tessera' };
    expect(await deployedUserPoolEmailChecks(testContext(testConfig({ gateway: { jwt } })))).toEqual([]);
    expect(cognito.calls()).toHaveLength(0);
  });

  it('is part of doctor\'s cognito-email group, after the config\'s sender line', async () => {
    const group = CHECK_GROUPS.find((g) => g.name === 'cognito-email')!;
    expect((await group.run(testContext())).map((l) => l.id)).toEqual(['cognito-email', 'cognito-email-deployed']);
  });
});
