import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_CONFIG } from '../../../lib/config/default-config.js';
import { readTenantsFile } from '../../../lib/cli/tenants-apply-command.js';
import { EXAMPLE_TENANTS_FILE, exampleApplyLine } from '../../demo/example-tenants.js';

/**
 * `npm run local-platform` printed `npx tessera tenants apply -f tenants.yaml --dry-run`, but no tenants.yaml existed
 * (the example was only in docs/tenant-lifecycle.md). It names examples/tenants.yaml, the docs' entries, shipped with
 * the checkout (test/integration/local-platform-script.test.ts runs the printed line against the local platform).
 */
const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('examples/tenants.yaml', () => {
  it('is a tenants file apply takes (the onboarding schema, every entry valid), of the default config\'s tiers', async () => {
    const entries = await readTenantsFile(EXAMPLE_TENANTS_FILE);
    expect(entries.map((e) => [e.tenantId, e.tier])).toEqual([['acme', 'starter'], ['beta', 'professional'], ['newco', 'starter']]);
    for (const e of entries) expect(Object.keys(DEFAULT_CONFIG.tiers)).toContain(e.tier);
  });

  it('holds the entries docs/tenant-lifecycle.md shows under "Tenants as code"', () => {
    const page = readFileSync(join(ROOT, 'docs', 'tenant-lifecycle.md'), 'utf8');
    const block = /### Tenants as code[\s\S]*?```yaml\n([\s\S]*?)```/.exec(page)![1]!;
    expect(parse(readFileSync(EXAMPLE_TENANTS_FILE, 'utf8'))).toEqual(parse(block));
  });
});

describe('the local platform\'s apply line', () => {
  const tiers = Object.keys(DEFAULT_CONFIG.tiers);

  it('names the example from the project root, where npm runs the script, and its absolute path from elsewhere', () => {
    expect(exampleApplyLine(tiers, ROOT)).toBe('npx tessera tenants apply -f examples/tenants.yaml --dry-run   # an example of this checkout: copy it to write your own');
    expect(exampleApplyLine(tiers, join(dirname(ROOT), 'elsewhere'))).toContain(` -f ${EXAMPLE_TENANTS_FILE} --dry-run `);
  });

  it('says which tier of the example a --config platform lacks', () => {
    expect(exampleApplyLine(['starter', 'lab'], ROOT)).toBe('npx tessera tenants apply -f examples/tenants.yaml --dry-run   # an example of this checkout; its tier professional is not this platform\'s: edit a copy first');
    expect(exampleApplyLine(['gold'], ROOT)).toMatch(/its tiers starter, professional are not this platform's: edit a copy first$/);
  });
});
