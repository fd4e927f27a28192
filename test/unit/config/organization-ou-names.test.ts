import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { configErrorOf } from '../../support/config-errors.js';

// An OU name CreateOrganizationalUnit refuses, or two Tessera OUs of one name under the root, synthesized and
// failed TesseraOrganization's first deploy (DuplicateOrganizationalUnitException); now each fails synth at its key.
describe('config: organization.quarantineOuName and suspendedOuName (OUs created under the root)', () => {
  const ous = (organization: Record<string, unknown>) => configErrorOf({ organization });

  it('refuses a name CreateOrganizationalUnit refuses: longer than 128 characters, or not ASCII', () => {
    expect(ous({ quarantineOuName: 'Q'.repeat(129) })).toMatch(/organization\.quarantineOuName = "Q+\.*: must be at most 128 characters \(Organizations CreateOrganizationalUnit/);
    expect(ous({ suspendedOuName: 'Suspendu-é' })).toContain('organization.suspendedOuName = "Suspendu-é": must be ASCII');
    expect(() => loadConfig({ overrides: { organization: { quarantineOuName: 'Q'.repeat(128) } } })).not.toThrow();
  });

  it('refuses an OU path (Landing Zone Accelerator style), naming the key and the value', () => {
    expect(ous({ quarantineOuName: 'Security/Quarantine' })).toContain('organization.quarantineOuName = "Security/Quarantine": is a name, not an OU path: Tessera creates this OU directly under organization.rootId');
  });

  it('refuses two Tessera OUs of one name: quarantine and suspended, or either and a tier OU tessera-<tier>', () => {
    expect(ous({ quarantineOuName: 'Held', suspendedOuName: 'Held' })).toContain('organization.suspendedOuName = "Held": is also organization.quarantineOuName');
    expect(ous({ suspendedOuName: 'tessera-enterprise' })).toContain('organization.suspendedOuName = "tessera-enterprise": is the OU of tier enterprise (tessera-<tier>');
  });

  it('accepts distinct names, a tier name itself among them (its OU is tessera-<tier>)', () => {
    expect(() => loadConfig({ overrides: { organization: { quarantineOuName: 'NW-Quarantine', suspendedOuName: 'starter' } } })).not.toThrow();
  });
});
