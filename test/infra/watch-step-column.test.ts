import { describe, expect, it } from 'vitest';
import { LocalWorkflows } from '../integration/support/local-workflows.js';
import { configWith, homedIn } from '../support/config-with.js';
import { STEP_NAME_COLUMN } from '../../lib/cli/execution-watch.js';

/**
 * `tessera tenants watch` pads step names to STEP_NAME_COLUMN (lib/cli/execution-watch.ts): the longest state name of
 * every lifecycle workflow of a config that deploys every optional state (an opt-in home and DR region, the erasure of
 * pooled data, account customizations, deleteDefaultVpcs, ebsEncryptionByDefault, s3PublicAccessBlock, alternateContacts) and of the default
 * config, nested states (the upgrade's item processor) included.
 */
const CONTACT = { name: 'Security', title: 'Team', emailAddress: 'security@platform.example.com', phoneNumber: '+1 206 555 0100' };
const EVERY_STATE = configWith({
  ...homedIn('me-central-1', ['me-central-1', 'il-central-1', 'us-east-1']),
  offboarding: { erasePooledGatewayData: true },
  tiers: { enterprise: {
    disasterRecovery: { region: 'il-central-1', rpoHours: 4, rtoHours: 12 }, deleteDefaultVpcs: true, ebsEncryptionByDefault: true, s3PublicAccessBlock: true, alternateContacts: { security: CONTACT },
    accountCustomizations: [{ name: 'security', templateFile: 'test/fixtures/customizations/security.yaml', parameters: { AlertEmail: 'sec@platform.example.com' } }],
    accountCustomizationsRole: { managedPolicyArns: ['arn:aws:iam::aws:policy/AmazonSNSFullAccess'] },
  } },
});

/** Every key of every `States` object in `definition`, at any depth. */
function stateNames(definition: unknown, into = new Set<string>()): Set<string> {
  if (definition && typeof definition === 'object') {
    for (const [key, value] of Object.entries(definition)) {
      if (key === 'States' && value && typeof value === 'object') Object.keys(value).forEach((n) => into.add(n));
      stateNames(value, into);
    }
  }
  return into;
}

describe('tenants watch: the step-name column against the workflows', () => {
  it('is as wide as the longest state name any workflow has', () => {
    const names = new Set<string>();
    for (const config of [configWith(), EVERY_STATE]) stateNames(new LocalWorkflows(config).definitions, names);
    const longest = Math.max(...[...names].map((n) => n.length));
    expect([...names].filter((n) => n.length > STEP_NAME_COLUMN)).toEqual([]);
    expect(longest).toBe(STEP_NAME_COLUMN);
  });
});
