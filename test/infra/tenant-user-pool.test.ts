import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tenantUserPoolProps } from '../../constructs/tenant-user-pool-props.js';
import { userPoolEmailConfiguration } from '../../lib/config/user-pool-email-configuration.js';
import { applyCompliancePacks } from '../../lib/compliance.js';
import { configWith, homedIn } from '../support/config-with.js';
import { newApp } from '../support/synth.js';

// The platform's tenant user pool (constructs/tenant-user-pool-props.ts) alone in a stack, under a config: its email
// sending (identity.email) and its account recovery. The whole platform stack's pool: test/infra/tenant-identity.test.ts.

const ACCOUNT = '123456789012';
type Pool = { Properties: Record<string, any> };

/** The pool's CloudFormation resource under `overrides`, and the cdk-nag findings on it (rule names). */
function build(overrides: Record<string, unknown> = {}): { pool: Pool; findings: string[] } {
  const config = configWith(overrides);
  const app = newApp();
  applyCompliancePacks(app);
  const stack = new Stack(app, 'PoolTest', { env: { account: ACCOUNT, region: config.homeRegion } });
  new cognito.UserPool(stack, 'UserPool', tenantUserPoolProps(config));
  const assembly = app.synth();
  const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ violations: Array<{ ruleName?: string; violatingConstructs?: Array<{ constructPath: string }> }> }> };
  const findings = report.pluginReports.flatMap((r) => r.violations.filter((v) => v.violatingConstructs?.some((c) => c.constructPath.includes('/UserPool'))).map((v) => v.ruleName ?? '')).sort();
  const [pool] = Object.values(Template.fromStack(stack).findResources('AWS::Cognito::UserPool')) as Pool[];
  return { pool, findings };
}

describe('the tenant user pool (constructs/tenant-user-pool-props.ts)', () => {
  let plain: ReturnType<typeof build>;
  beforeAll(() => {
    plain = build();
  });

  it('recovers an account through the verified email only: the pool has no SMS configuration and its users no phone number', () => {
    // aws-cdk-lib's default, PHONE_WITHOUT_MFA_AND_EMAIL, is [verified_phone_number 1, verified_email 2].
    expect(plain.pool.Properties.AccountRecoverySetting).toEqual({ RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] });
    expect(plain.pool.Properties.SmsConfiguration).toBeUndefined();
    // without identity.email: Cognito's own sender (no EmailConfiguration, COGNITO_DEFAULT), the template as before
    expect(plain.pool.Properties.EmailConfiguration).toBeUndefined();
  });

  it('with identity.email, sends through the platform account\'s SES identity in the home Region (DEVELOPER), with its options', () => {
    const { pool, findings } = build({ identity: { email: { fromEmail: 'no-reply@mail.acme.example', fromName: 'Acme AI', replyTo: 'support@acme.example', configurationSetName: 'tessera-cognito' } } });
    expect(pool.Properties.EmailConfiguration).toEqual({
      EmailSendingAccount: 'DEVELOPER',
      From: 'Acme AI <no-reply@mail.acme.example>',
      ReplyToEmailAddress: 'support@acme.example',
      ConfigurationSet: 'tessera-cognito',
      SourceArn: `arn:aws:ses:us-east-1:${ACCOUNT}:identity/no-reply@mail.acme.example`,
    });
    expect(pool.Properties.AccountRecoverySetting).toEqual(plain.pool.Properties.AccountRecoverySetting);
    // cdk-nag finds nothing on the pool that it did not find with Cognito's sender
    expect(findings).toEqual(plain.findings);
  });

  it('names the domain identity with sesVerifiedDomain, and the SES Region with sesRegion', () => {
    const { pool } = build({ ...homedIn('us-east-2'), identity: { email: { fromEmail: 'no-reply@mail.acme.example', sesVerifiedDomain: 'mail.acme.example', sesRegion: 'us-east-1' } } });
    expect(pool.Properties.EmailConfiguration).toMatchObject({ EmailSendingAccount: 'DEVELOPER', From: 'no-reply@mail.acme.example' });
    expect(pool.Properties.EmailConfiguration.SourceArn).toBe(`arn:aws:ses:us-east-1:${ACCOUNT}:identity/mail.acme.example`);
  });

  it('is deployed as userPoolEmailConfiguration says, which doctor\'s cognito-email-deployed compares the pool with', () => {
    const emails = [
      undefined,
      { fromEmail: 'no-reply@mail.acme.example', fromName: 'Acme AI', replyTo: 'support@acme.example', configurationSetName: 'tessera-cognito' },
      { fromEmail: 'no-reply@mail.acme.example', fromName: 'Acme, Inc.' },
      { fromEmail: 'no-reply@mail.acme.example', fromName: 'Acme (AI) "Mail"' },
      { fromEmail: 'no-reply@mail.acme.example', fromName: 'Acmé Société' },
      { fromEmail: 'no-reply@mail.acme.example', sesVerifiedDomain: 'mail.acme.example', sesRegion: 'us-east-1' },
    ];
    for (const email of emails) {
      const overrides = { ...(email?.sesRegion ? homedIn('us-east-2') : {}), ...(email ? { identity: { email } } : {}) };
      const { pool } = build(overrides);
      const config = configWith(overrides);
      // the template leaves EmailConfiguration out for Cognito's default; DescribeUserPool then answers COGNITO_DEFAULT
      expect(pool.Properties.EmailConfiguration ?? { EmailSendingAccount: 'COGNITO_DEFAULT' }).toEqual(userPoolEmailConfiguration(config.identity?.email, { account: ACCOUNT, homeRegion: config.homeRegion }));
    }
  });
});
