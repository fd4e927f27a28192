import { describe, expect, it } from 'vitest';
import { packagesIn, staticImportGraph } from '../../support/static-import-graph.js';

/**
 * What a `tessera tenants` start loads before it parses its arguments (lib/cli/program.ts imports the command group's
 * module): the tenants commands talk to the admin API, and only `tenants apply`'s plan needs the admin API's tier
 * migration rule (lambdas/lifecycle/tier-migration.ts), whose zone rules sit beside the EC2 and CloudFormation clients'
 * commands (availability-zones.ts): ~1.2 MB of bundled JavaScript that every `tessera tenants` start loaded. apply
 * imports it when it plans.
 */
describe('tessera tenants loads the EC2 and CloudFormation clients only where a command uses them', () => {
  it('lib/cli/tenants-command.ts reaches neither client through static imports; tier-migration.ts reaches both (the control)', async () => {
    const clients = (graph: Set<string>) => [...packagesIn(graph, '@aws-sdk/client-ec2'), ...packagesIn(graph, '@aws-sdk/client-cloudformation')];
    expect(clients(await staticImportGraph('lib/cli/tenants-command.ts'))).toEqual([]);
    expect(clients(await staticImportGraph('lambdas/lifecycle/tier-migration.ts')).sort()).toEqual(['@aws-sdk/client-cloudformation', '@aws-sdk/client-ec2']);
  }, 60_000);
});
