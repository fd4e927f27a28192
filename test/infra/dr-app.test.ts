import { describe, expect, it } from 'vitest';
import { appTemplates } from '../support/default-app.js';

describe('the whole app with disaster recovery (platform DR region and a DR tier)', () => {
  it('synthesizes with no open compliance finding, TesseraPlatformDr beside TesseraPlatform, each stack under 500 resources', async () => {
    // GIVEN the platform's DR region and the enterprise tier's, both us-west-2
    // WHEN the app is synthesized (once per state of the sources: test/support/default-app.ts)
    const built = await appTemplates({ platformDisasterRecovery: { region: 'us-west-2' }, tiers: { enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } });
    // THEN
    const report = built.validationReport as { pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }> }> };
    const open = report.pluginReports.flatMap((r) => r.violations.flatMap((v) => v.violatingConstructs.map((c) => `${r.pluginName} ${v.ruleName} ${c.constructPath}`)));
    expect(open).toEqual([]);
    expect(built.stackPaths).toMatchObject({ platform: 'TesseraPlatform', platformDr: 'TesseraPlatformDr' });
    expect(built.platformDr).toBeDefined();
    // every stack of the app: the top-level ones (organization, platform, platform DR) and the Blueprints stage's
    const stacks = {
      organization: built.organization, platform: built.platform, operations: built.operations, functionPolicies: built.functionPolicies, eventRules: built.eventRules, platformDr: built.platformDr!,
      ...(built.namespaceKubectl ? { namespaceKubectl: built.namespaceKubectl } : {}),
      ...(built.clusterAutoscaler ? { clusterAutoscaler: built.clusterAutoscaler } : {}),
      accountBaseline: built.accountBaseline, workloadProvisioning: built.workloadProvisioning,
      ...Object.fromEntries(Object.entries({ blueprints: built.blueprints, namespaceBlueprints: built.namespaceBlueprints, drBlueprints: built.drBlueprints, failoverBlueprints: built.failoverBlueprints })
        .flatMap(([kind, byTier]) => Object.entries(byTier).map(([tier, t]) => [`${kind}.${tier}`, t]))),
    };
    // the list above is every stack the app has: a new one cannot escape the check
    const listed = Object.entries(stacks).map(([name]) => name.includes('.')
      ? (built.stackPaths[name.split('.')[0] as 'blueprints'] as Record<string, string>)[name.split('.')[1]]
      : built.stackPaths[name as 'platform'] as string);
    expect(listed.sort()).toEqual(built.stackPaths.all);
    for (const [name, t] of Object.entries(stacks)) expect(Object.keys(t.toJSON().Resources).length, name).toBeLessThan(500);
  });
});
