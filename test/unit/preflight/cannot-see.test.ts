import { describe, expect, it } from 'vitest';
import { CANNOT_SEE } from '../../../lib/preflight/run.js';

/** The preflight's "What the preflight cannot see" (printed by lib/preflight/format.ts, mirrored in docs/preflight.md). */
describe('what the preflight cannot see', () => {
  it('says that account customizations\' stacks are not checked against the customizations role\'s policies', () => {
    const line = CANNOT_SEE.find((s) => s.startsWith('Account customizations'));
    expect(line).toContain('tiers.<tier>.accountCustomizations');
    expect(line).toContain('accountCustomizationsRole policies');
    expect(line).toContain('not instantiated');
  });
});
