import { CloudFormationClient, DescribeStacksCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { databaseInstanceIdentifier } from '../../lib/tenant-naming.js';
import { getTenant } from '../../lambdas/shared/registry.js';
import { configWithBusinessTier } from './support/business-tier.js';
import type { CfnTemplate } from './support/derive-moto-blueprint.js';
import { onboardRequest, useLocalLifecycle } from './support/local-lifecycle.js';

/**
 * A tier's database storage changed between blueprint versions, end to end on moto: *Deploy blueprint* reads the
 * tenant's DB instance (rds:DescribeDBInstances of tessera-<id>, the deploy step's session in the tenant stack's account
 * and Region) and refuses what RDS would refuse before any stack operation; what it lets through, CloudFormation (the
 * emulation over moto: cloudformation-emulation.ts, rds-storage-updates.ts) applies to the instance.
 * Storage autoscaling, which grows an instance past its template's value, is stood in for by a ModifyDBInstance.
 * moto never reports `storage-optimization` (an instance it modifies is `available` at once): that refusal is covered
 * with aws-sdk-client-mock only (test/unit/lifecycle/version-change.test.ts).
 */

// The config of the other files that move tenants between tiers: one blueprint synthesis, disk-cached.
const local = useLocalLifecycle(configWithBusinessTier());

/**
 * Publishes blueprint version `version`: every template of 2.0.0 as published (derived for moto), naming `version`
 * (the tenant template's BlueprintVersion output, which *Check stack* records, and its description), with the
 * professional tier's database AllocatedStorage set to `allocatedGiB` (a platform release whose config raised
 * `tiers.professional.database.allocatedStorageGiB`), and its MaxAllocatedStorage to `maxAllocatedGiB` when given.
 */
async function publishVersion(version: string, allocatedGiB: number, maxAllocatedGiB?: number): Promise<void> {
  const s3 = new S3Client({ credentials: local.fixture.platform, forcePathStyle: true });
  for (const b of local.fixture.catalog.filter((p) => p.version === '2.0.0')) {
    const template = structuredClone(b.derived) as CfnTemplate & { Description?: string; Outputs?: Record<string, { Value?: unknown }> };
    if (template.Outputs?.BlueprintVersion?.Value === '2.0.0') template.Outputs.BlueprintVersion.Value = version;
    if (template.Description) template.Description = template.Description.replace('version 2.0.0', `version ${version}`);
    if (b.file === 'professional.template.json') {
      const [database] = Object.values(template.Resources).filter((r) => r.Type === 'AWS::RDS::DBInstance');
      expect(database.Properties!.AllocatedStorage).toBe('100');
      database.Properties!.AllocatedStorage = String(allocatedGiB);
      if (maxAllocatedGiB !== undefined) database.Properties!.MaxAllocatedStorage = maxAllocatedGiB;
    }
    await s3.send(new PutObjectCommand({ Bucket: 'tessera-blueprints', Key: `blueprints/${version}/${b.file}`, Body: JSON.stringify(template), ContentType: 'application/json' }));
  }
}

describe('a tier change or upgrade that changes the database\'s AllocatedStorage or MaxAllocatedStorage', () => {
  it('is refused before any stack operation when the instance (grown by autoscaling) would grow by less than 10%, goes through at 10% or more (the instance then holding the new storage), and is refused for a ceiling less than 10% above the instance', async () => {
    // GIVEN a professional tenant (its template: AllocatedStorage 100, MaxAllocatedStorage 500) whose instance storage autoscaling grew to 105 GiB
    await local.workflows.run('onboard', onboardRequest('umbrella', 'professional'));
    const onboarded = (await getTenant('umbrella'))!;
    expect(onboarded).toMatchObject({ status: 'ACTIVE', tier: 'professional', blueprintVersion: '1.0.0' });
    const credentials = await local.fixture.as(local.config.workloadAccountId);
    const rds = new RDSClient({ credentials });
    const cfn = new CloudFormationClient({ credentials });
    // The instance Deploy blueprint reads is the stack's: the template names it tessera-<TenantId> (databaseInstanceIdentifier).
    const resources = (await cfn.send(new ListStackResourcesCommand({ StackName: 'tessera-umbrella' }))).StackResourceSummaries!;
    expect(resources.filter((r) => r.ResourceType === 'AWS::RDS::DBInstance').map((r) => r.PhysicalResourceId)).toEqual([databaseInstanceIdentifier('umbrella')]);
    const storage = async () => (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'tessera-umbrella' }))).DBInstances![0].AllocatedStorage;
    expect(await storage()).toBe(100);
    // (With the template's ceiling, as a number: moto's CloudFormation created the instance without it and keeps its storage
    // as the template's string, and fails to describe it with one of the two a number: applyStorage in cloudformation-emulation.ts.)
    await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'tessera-umbrella', AllocatedStorage: 105, MaxAllocatedStorage: 500, ApplyImmediately: true }));
    const standing = async () => (await cfn.send(new DescribeStacksCommand({ StackName: 'tessera-umbrella' }))).Stacks![0];
    const before = await standing();

    // WHEN a version whose template raises AllocatedStorage to 110 (10% above the template's 100, less than 10% above the instance's 105) is deployed
    await publishVersion('2.1.0', 110);
    const refused = await local.workflows.run('change', { request: { tenantId: 'umbrella', requestId: 'req-umbrella-storage-1' }, change: { tier: 'professional', blueprintVersion: '2.1.0' } });

    // THEN Deploy blueprint refuses it, the registry says why (both values, the least that RDS takes), and nothing was touched
    expect(refused.error?.message).toMatch(/InvalidRequest/);
    const after = (await getTenant('umbrella'))!;
    expect(after).toMatchObject({ status: 'ACTIVE', tier: 'professional', blueprintVersion: '1.0.0' });
    expect(after.failure).toMatchObject({
      step: 'Deploy blueprint',
      reason: expect.stringMatching(/database\.allocatedStorageGiB would go from 105 \(the instance now\) to 110: RDS refuses a storage increase of less than 10%.*at least 116 GiB/),
    });
    const untouched = await standing();
    expect(untouched.StackStatus).toBe(before.StackStatus);
    expect(untouched.LastUpdatedTime).toEqual(before.LastUpdatedTime);
    expect(untouched.Outputs).toContainEqual({ OutputKey: 'BlueprintVersion', OutputValue: '1.0.0' });
    expect(await storage()).toBe(105);

    // AND a version raising it to 120 (at least 10% above the instance's 105) goes through: the instance has 120 GiB
    await publishVersion('2.2.0', 120);
    const changed = await local.workflows.run('change', { request: { tenantId: 'umbrella', requestId: 'req-umbrella-storage-2' }, change: { tier: 'professional', blueprintVersion: '2.2.0' } });
    expect(changed.error).toBeUndefined();
    expect(await getTenant('umbrella')).toMatchObject({ status: 'ACTIVE', tier: 'professional', blueprintVersion: '2.2.0' });
    expect((await standing()).Outputs).toContainEqual({ OutputKey: 'BlueprintVersion', OutputValue: '2.2.0' });
    expect(await storage()).toBe(120);

    // AND a version lowering the storage autoscaling ceiling from 500 to 130 (less than 10% above the instance's 120) is refused the same way
    await publishVersion('2.3.0', 120, 130);
    const lowered = await local.workflows.run('change', { request: { tenantId: 'umbrella', requestId: 'req-umbrella-storage-3' }, change: { tier: 'professional', blueprintVersion: '2.3.0' } });
    expect(lowered.error?.message).toMatch(/InvalidRequest/);
    const last = (await getTenant('umbrella'))!;
    expect(last).toMatchObject({ status: 'ACTIVE', blueprintVersion: '2.2.0' });
    expect(last.failure).toMatchObject({ step: 'Deploy blueprint', reason: expect.stringMatching(/database\.maxAllocatedStorageGiB would go from 120 GiB allocated \(the instance now\) to 130: RDS refuses a maximum storage threshold less than 10% above.*at least 132/) });
    expect((await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'tessera-umbrella' }))).DBInstances![0]).toMatchObject({ AllocatedStorage: 120, MaxAllocatedStorage: 500 });
  });
});
