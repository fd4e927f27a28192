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

/**
 * `tessera serve` without --dynamodb serves an embedded registry in memory, yet its gateway (lambdas/inference/local-gateway.ts)
 * and each --workers thread (lib/cli/serve-worker.ts) loaded the DynamoDB, STS and Secrets Manager clients at start: the
 * DynamoDB store and its tenant models, the operator's document client, and three modules that import DynamoDB's
 * ConditionalCheckFailedException or lib-dynamodb beside what serve uses of them (the memory alert markers and tenant
 * models, the file stores' read-change-write, the budget alerts' marker ids). They are imported with --dynamodb only.
 */
describe('tessera serve loads no AWS SDK client for its embedded registry', () => {
  it('local-gateway.ts and serve-worker.ts reach no @aws-sdk package through static imports; dynamodb-store.ts reaches DynamoDB\'s (the control)', async () => {
    const sdk = (graph: Set<string>) => packagesIn(graph, '@aws-sdk');
    expect(sdk(await staticImportGraph('lambdas/inference/local-gateway.ts'))).toEqual([]);
    expect(sdk(await staticImportGraph('lib/cli/serve-worker.ts'))).toEqual([]);
    expect(sdk(await staticImportGraph('lambdas/inference/stores/dynamodb-store.ts')).sort()).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb']);
  }, 60_000);
});

