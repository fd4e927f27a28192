import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../lib/config/default-config.js';
import { appTemplates, type AppTemplates, type ValidationReport } from '../support/default-app.js';
import { configWith } from '../support/config-with.js';

/**
 * Issue 13: a dedicated-compute tier without GPUs is expressible (`compute.gpu.maxSize: 0`), and its
 * blueprint has the cluster and system nodes but no GPU node group.
 */
const enterprise = DEFAULT_CONFIG.tiers.enterprise;
const cpuOnly = {
  ...structuredClone(enterprise),
  network: { ...enterprise.network, tenantCidrPool: '10.112.0.0/12' },
  compute: { ...structuredClone(enterprise.compute), gpu: { ...(enterprise.compute.mode === 'dedicated' ? enterprise.compute.gpu : undefined)!, minSize: 0, maxSize: 0 } },
};

let built: AppTemplates;
let report: ValidationReport;

beforeAll(async () => {
  // GIVEN the default tiers plus a dedicated tier with GPUs at maxSize 0
  // WHEN the app is synthesized with the compliance packs (once per state of the sources: test/support/default-app.ts)
  built = await appTemplates({ tiers: { 'cpu-only': cpuOnly } });
  report = built.validationReport;
});

describe('a dedicated tier without GPUs', () => {
  it('is accepted by the config schema with maxSize 0', () => {
    expect(configWith({ tiers: { 'cpu-only': cpuOnly } }).tiers['cpu-only'].compute).toMatchObject({ mode: 'dedicated', gpu: { minSize: 0, maxSize: 0 } });
  });

  it('synthesizes a cluster and its system node group, but no GPU node group', () => {
    // THEN
    const t = built.blueprints['cpu-only'];
    t.resourceCountIs('AWS::EKS::Cluster', 1);
    const nodegroups = Object.values(t.findResources('AWS::EKS::Nodegroup')) as Array<{ Properties: { AmiType: string; Taints?: unknown[] } }>;
    expect(nodegroups).toHaveLength(1);
    expect(nodegroups[0].Properties.AmiType).toBe('AL2023_x86_64_STANDARD');
    expect(nodegroups[0].Properties.Taints).toBeUndefined();
    expect(JSON.stringify(t.toJSON().Resources)).not.toMatch(/NVIDIA|nvidia\.com\/gpu/);
  });

  it('leaves the default enterprise tier with its GPU node group', () => {
    const t = built.blueprints.enterprise;
    const amiTypes = (Object.values(t.findResources('AWS::EKS::Nodegroup')) as Array<{ Properties: { AmiType: string } }>).map((n) => n.Properties.AmiType);
    expect(amiTypes.sort()).toEqual(['AL2023_x86_64_STANDARD', 'BOTTLEROCKET_x86_64_NVIDIA']);
  });

  it('has zero unacknowledged compliance findings', () => {
    const open = report.pluginReports.flatMap((r) => r.violations.map((v) => ({ plugin: r.pluginName, v })));
    expect(open).toEqual([]);
  });
});
