import { describe, expect, it } from 'vitest';
import { podBridgeBoundaryOf } from '../../lambdas/lifecycle/pod-bridge-boundary.js';
import { defaultAppTemplates } from '../support/default-app.js';

/**
 * *Deploy blueprint* reads a namespace blueprint's pod-bridge role from the catalog (lambdas/lifecycle/pod-bridge-boundary.ts)
 * to refuse a version whose role has no permissions boundary: the reading must find the role as the synthesized
 * namespace blueprints render it, with the boundary this checkout gives it.
 */
describe('podBridgeBoundaryOf on the namespace blueprints', () => {
  const templates = Object.entries(defaultAppTemplates().namespaceBlueprints).map(([tier, t]) => [tier, t.toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }] as const);

  it('finds the bridge role with its boundary in every namespace blueprint, and none once the boundary is taken out (as 0.3.0 and earlier published it)', () => {
    expect(templates.length).toBeGreaterThan(0);
    for (const [tier, template] of templates) {
      expect([tier, podBridgeBoundaryOf(template)]).toEqual([tier, true]);
      const before = structuredClone(template);
      for (const r of Object.values(before.Resources)) if (r.Type === 'AWS::IAM::Role') delete r.Properties.PermissionsBoundary;
      expect([tier, podBridgeBoundaryOf(before)]).toEqual([tier, false]);
    }
    expect(podBridgeBoundaryOf({ Resources: {} })).toBeUndefined();
  });
});
