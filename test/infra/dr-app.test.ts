import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApp, configWith } from '../support/synth.js';

interface Report { pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }> }> }

describe('the whole app with disaster recovery (platform DR region and a DR tier)', () => {
  it('synthesizes with no open compliance finding, TesseraPlatformDr beside TesseraPlatform, each stack under 500 resources', () => {
    // GIVEN the platform's DR region and the enterprise tier's, both us-west-2
    const built = buildApp(configWith({ platformDisasterRecovery: { region: 'us-west-2' }, tiers: { enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } }));
    // WHEN
    const assembly = built.app.synth();
    // THEN
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as Report;
    const open = report.pluginReports.flatMap((r) => r.violations.flatMap((v) => v.violatingConstructs.map((c) => `${r.pluginName} ${v.ruleName} ${c.constructPath}`)));
    expect(open).toEqual([]);
    const counts = Object.fromEntries(assembly.stacks.map((s) => [s.stackName, Object.keys((s.template as { Resources: object }).Resources).length]));
    expect(Object.keys(counts)).toEqual(expect.arrayContaining(['TesseraPlatform', 'TesseraPlatformDr']));
    for (const [name, n] of Object.entries(counts)) expect(n, name).toBeLessThan(500);
  });
});
