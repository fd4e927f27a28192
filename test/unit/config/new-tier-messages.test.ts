import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config/load-config.js';
import { configErrorOf } from '../../support/config-errors.js';

/** A tier of the config's own: the default's starter under another name, with a pool of its own and the given training. */
const bronze = (training: unknown) => {
  const { training: _, ...starter } = loadConfig().tiers.starter;
  return { tiers: { bronze: { ...starter, network: { ...starter.network, tenantCidrPool: '10.128.0.0/12' }, training } } };
};

// Session 44's first-day walk-through: a new tier that trains nothing, `training: { enabled: false }`, failed synth with
// `tiers.bronze.training.maxConcurrentJobs = (missing): is required` and the same for instanceTypes.
describe('a tier\'s training: { enabled: false } alone (lib/config/schema.ts)', () => {
  it('loads, the other keys at their defaults', () => {
    expect(loadConfig({ overrides: bronze({ enabled: false }) }).tiers.bronze.training).toEqual({
      enabled: false, maxConcurrentJobs: 1, maxDeployedModels: 2, instanceTypes: [], endpointInstanceTypes: [], baseModels: ['*'], spot: false, maxRuntimeHours: 24, dataRetentionDays: 30,
    });
  });

  it('enabled: true alone still fails synth, naming each instance-type key to set', () => {
    const message = configErrorOf(bronze({ enabled: true }));
    expect(message).toContain('tiers.bronze.training.instanceTypes = (missing): must name at least one instance type when training is enabled, or set training.enabled to false');
    expect(message).toContain('tiers.bronze.training.endpointInstanceTypes = (missing): must name at least one instance type when training is enabled');
    expect(message).not.toContain('is required');
  });
});

// The same walk-through: a new tier with a section left out was told `is required: add the database section (see
// docs/configuration.md)`, not where a whole section comes from.
describe('a section a tier of the config\'s own lacks (lib/config/config-issues.ts)', () => {
  it('fails synth naming the section and the command that prints a default tier to copy it from', () => {
    const { database: _, ...starter } = loadConfig().tiers.starter;
    const message = configErrorOf({ tiers: { bronze: { ...starter, network: { ...starter.network, tenantCidrPool: '10.128.0.0/12' } } } });
    expect(message).toContain('tiers.bronze.database = (missing): is required: add the database section (a tier of your own is written whole: `npx tessera config defaults --tier professional` prints a default tier to copy it from; starter and enterprise too) (see docs/configuration.md)');
  });

  it('names every section a new tier lacks on one line, with the hint once (it was one line per section, the hint on each)', () => {
    const { isolation, network } = loadConfig().tiers.starter;
    const message = configErrorOf({ tiers: { bronze: { isolation, network: { ...network, tenantCidrPool: '10.128.0.0/12' } } } });
    const lines = message.split('\n').filter((l) => l.includes('tiers.bronze'));
    expect(lines).toEqual([expect.stringContaining('tiers.bronze.{database, cache, compute, limits, models, training} = (missing): are required: add the database, cache, compute, limits, models and training sections '
      + '(a tier of your own is written whole: `npx tessera config defaults --tier professional` prints a default tier to copy them from; starter and enterprise too) (see docs/configuration.md)')]);
    expect(message.match(/written whole/g)).toHaveLength(1);
  });

  it('says nothing of tiers for a missing section outside a tier', () => {
    const message = configErrorOf({ audit: null });
    expect(message).toContain('audit = (missing): is required: add the audit section (see docs/configuration.md)');
    expect(message).not.toContain('config defaults');
  });
});
