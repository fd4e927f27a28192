import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { accountEmailTemplateProblem, rootEmailProblem, tenantAccountEmail } from '../../../lib/tenant-account-email.js';
import { configErrorOf } from '../../support/config-errors.js';

/**
 * organization.accountEmail: the root email of each account-isolation tenant's AWS account, an address of the platform's
 * (never the tenant admin's), checked at synth against CreateAccount's Email rules for the shortest and longest tenant id.
 */
describe('organization.accountEmail', () => {
  it('takes a template of the platform\'s with {tenantId}, and gives each tenant its own address', () => {
    const config = loadConfig({ overrides: { organization: { accountEmail: 'aws+tessera-{tenantId}@platform.acme.test' } } });
    expect(tenantAccountEmail(config.organization.accountEmail!, 'globex')).toBe('aws+tessera-globex@platform.acme.test');
  });

  it('refuses a fixed address: the second tenant\'s CreateAccount would fail EMAIL_ALREADY_EXISTS', () => {
    expect(configErrorOf({ organization: { accountEmail: 'aws@platform.acme.test' } })).toContain(
      'organization.accountEmail = "aws@platform.acme.test": must contain {tenantId}, which each tenant\'s id replaces',
    );
  });

  it('refuses a template whose address for the longest tenant id (24 characters) exceeds CreateAccount\'s 64 characters, naming the key', () => {
    // 19 + 24 + 22 = 65 characters for the longest id
    const template = 'aws-tessera-tenant+{tenantId}@accounts.acme-corp.io';
    expect(tenantAccountEmail(template, 'a'.repeat(24))).toHaveLength(65);
    const message = configErrorOf({ organization: { accountEmail: template } });
    expect(message).toContain(`organization.accountEmail = "${template}": gives the longest tenant id (24 characters) the address`);
    expect(message).toContain('which has 65 characters; CreateAccount takes 6-64');
    // one character less fits
    expect(() => loadConfig({ overrides: { organization: { accountEmail: template.replace('.io', '.i') } } })).not.toThrow();
  });

  it('refuses what CreateAccount refuses in an address', () => {
    expect(accountEmailTemplateProblem('aws {tenantId}@platform.acme.test')).toMatch(/has " " before "@", which CreateAccount refuses there/);
    expect(accountEmailTemplateProblem('aws+{tenantId}@@platform.acme.test')).toMatch(/has 2 "@"/);
    expect(accountEmailTemplateProblem('aws+{tenantId}@localhost')).toMatch(/has a domain \("localhost"\) without a dot/);
    expect(accountEmailTemplateProblem('aws+{tenantId}@-platform.acme.test')).toMatch(/begins or ends with "-" or "."/);
    expect(accountEmailTemplateProblem('aws+{tenantId}@platform_acme.test')).toMatch(/a character other than a-z/);
    expect(accountEmailTemplateProblem('.{tenantId}@platform.acme.test')).toMatch(/begins with a dot/);
    expect(rootEmailProblem('aws+é@platform.acme.test')).toBe('has a character outside 7-bit ASCII');
    expect(rootEmailProblem('a@b.c')).toBe('has 5 characters; CreateAccount takes 6-64');
  });

  it('is required while a tier uses account isolation, and optional without one', () => {
    expect(configErrorOf({ organization: { accountEmail: null } })).toContain(
      'organization.accountEmail = (missing): is required: tier enterprise uses account isolation, and each of its tenants\' AWS accounts needs a root email of the platform\'s own',
    );
    const vpcOnly = loadConfig({ overrides: { organization: { accountEmail: null }, tiers: { enterprise: null } } });
    expect(vpcOnly.organization.accountEmail).toBeUndefined();
  });
});
