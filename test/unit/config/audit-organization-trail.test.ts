import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { organizationTrailOf } from '../../../lib/config/organization-trail.js';
import { configErrorOf } from '../../support/config-errors.js';

// The default config: management account 111111111111, platform account 222222222222.
describe('config: audit.organizationTrail', () => {
  it('absent: an organization trail only when the platform is the management account (the layout before the key)', () => {
    expect(organizationTrailOf(loadConfig({ overrides: {} }))).toEqual({ organizationTrail: false, delegatedAdministrator: false, ownerAccountId: '222222222222' });
    expect(organizationTrailOf(loadConfig({ overrides: { platformAccountId: '111111111111' } })))
      .toEqual({ organizationTrail: true, delegatedAdministrator: false, ownerAccountId: '111111111111' });
  });

  it('true in a member platform account: an organization trail it manages as CloudTrail\'s delegated administrator, owned by the management account', () => {
    const config = loadConfig({ overrides: { audit: { organizationTrail: true } } });
    expect(config.audit.organizationTrail).toBe(true);
    expect(organizationTrailOf(config)).toEqual({ organizationTrail: true, delegatedAdministrator: true, ownerAccountId: '111111111111' });
  });

  it('false in the management account: the management account\'s trail only (the organization left to Control Tower\'s or LZA\'s trail)', () => {
    expect(organizationTrailOf(loadConfig({ overrides: { platformAccountId: '111111111111', audit: { organizationTrail: false } } })))
      .toEqual({ organizationTrail: false, delegatedAdministrator: false, ownerAccountId: '111111111111' });
  });

  it('refuses a non-boolean, naming the key path and the value', () => {
    expect(configErrorOf({ audit: { organizationTrail: 'auto' } })).toMatch(/audit\.organizationTrail = "auto"/);
    expect(configErrorOf({ audit: { organizationTrail: 1 } })).toMatch(/audit\.organizationTrail = 1/);
  });
});
