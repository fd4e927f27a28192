import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTenant } from '../../lambdas/shared/registry.js';
import { configWith } from '../support/config-with.js';
import { tempDir } from '../support/temp-dirs.js';
import { LocalPlatform } from './support/local-platform.js';
import { runTesseraInProcess } from './support/tessera-cli.js';

let platform: LocalPlatform;
beforeAll(async () => {
  platform = await LocalPlatform.start(configWith());
});
afterAll(async () => platform?.stop());

const dir = tempDir('tenants-apply-it-');

/** s23: `tessera tenants apply` on the moto control plane: the file onboards once; the same file again changes nothing. */
describe('tessera tenants apply on moto', () => {
  it('dry run changes nothing; apply onboards; the same file again is unchanged and starts no second onboarding', async () => {
    const file = join(dir, 'tenants.yaml');
    writeFileSync(file, 'tenants:\n  - { tenantId: applyco, name: Apply Co, tier: starter, adminEmail: ops@applyco.example.com }\n');
    const dry = await runTesseraInProcess(platform.apiUrl, 'tenants', 'apply', '-f', file, '--dry-run');
    expect([dry.code, dry.stderr]).toEqual([0, '']);
    expect(dry.stdout).toMatch(/ {2}create {7}applyco {2}tier starter, request apply-applyco-[0-9a-f]{12}\n/);
    expect(await getTenant('applyco')).toBeUndefined();
    const applied = await runTesseraInProcess(platform.apiUrl, 'tenants', 'apply', '-f', file);
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    expect(applied.stdout).toMatch(/applyco: onboarding started, execution arn:aws:states:us-east-1:\d{12}:execution:tessera-onboard:onboard-applyco-/);
    await platform.settle();
    expect((await getTenant('applyco'))?.status).toBe('ACTIVE');
    expect((await getTenant('applyco'))?.requestId).toMatch(/^apply-applyco-[0-9a-f]{12}$/);
    const again = await runTesseraInProcess(platform.apiUrl, 'tenants', 'apply', '-f', file);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('  unchanged    applyco  tier starter (ACTIVE)');
    expect(again.stdout).toContain('nothing to change: the registry is as the file says');
    expect([...platform.executions.keys()].filter((k) => k.includes(':tessera-onboard:onboard-applyco-'))).toHaveLength(1);
  });

  it('s24: a tier the platform lacks is refused before anything changes (GET /admin/tiers of the local platform): the entry before it is not onboarded', async () => {
    const file = join(dir, 'gold.yaml');
    writeFileSync(file, 'tenants:\n  - { tenantId: firstco, name: First Co, tier: starter, adminEmail: ops@firstco.example.com }\n  - { tenantId: goldco, name: Gold Co, tier: gold, adminEmail: ops@goldco.example.com }\n');
    const out = await runTesseraInProcess(platform.apiUrl, 'tenants', 'apply', '-f', file);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(new RegExp(`^error: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: tenants\\[1\\]\\.tier = "gold": does not exist \\(tiers: starter, `));
    expect(await getTenant('firstco')).toBeUndefined();
  });
});
