import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { CfnTemplate } from '../../lib/preflight/cfn-template.js';
import { instantiate } from '../../lib/preflight/instantiate.js';
import { appTemplates } from '../support/default-app.js';
import { arnCanMatch, grantsOfNothing } from '../support/iam-resource-types.js';

/**
 * The disaster-recovery policies grant each action on a resource of a type the action takes (Service
 * Authorization Reference). IAM accepts a statement naming only other types and moto evaluates no
 * IAM: such a grant deploys and does nothing (backup:CreateBackupPlan on a backup-vault ARN,
 * backup:DescribeRecoveryPoint on a vault instead of a recovery point).
 */
const DR_CONFIG = { platformDisasterRecovery: { region: 'us-west-2' }, tiers: { enterprise: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } };

/** Each policy document of the resources `pick` selects, resolved for tenant `acme` (CloudFormation's intrinsics, lib/preflight/instantiate.ts). */
function policies(template: Template, region: string, pick: (logicalId: string) => boolean): Array<[string, { Statement: unknown }]> {
  const t = template.toJSON() as CfnTemplate;
  // Parameters without a default (the account baseline's) get a stand-in; list parameters keep instantiate's.
  const parameters = Object.fromEntries(Object.entries(t.Parameters ?? {}).filter(([, p]) => p.Default === undefined && !String(p.Type).startsWith('List')).map(([k]) => [k, `p-${k.toLowerCase()}`]));
  const inst = instantiate(t, { tenantId: 'acme', vpcCidr: '10.0.0.0/16', account: '111111111111', region, lenient: true, parameters });
  return Object.values(inst.resources).filter((r) => pick(r.logicalId) && ['AWS::IAM::ManagedPolicy', 'AWS::IAM::Policy'].includes(r.type))
    .map((r) => [r.logicalId, r.props.PolicyDocument as { Statement: unknown }]);
}

describe('the DR policies\' resources are of the types their actions take', () => {
  it('arnCanMatch reads IAM globs against the reference\'s ARN templates', () => {
    expect(arnCanMatch('arn:aws:backup:us-west-2:111111111111:backup-vault:tessera-*-dr', 'arn:${Partition}:backup:${Region}:${Account}:backup-vault:${BackupVaultName}')).toBe(true);
    expect(arnCanMatch('arn:aws:backup:us-west-2:111111111111:backup-vault:tessera-*-dr', 'arn:${Partition}:backup:${Region}:${Account}:backup-plan:${BackupPlanId}')).toBe(false);
    expect(arnCanMatch('arn:aws:backup:*:111111111111:backup-plan:*', 'arn:${Partition}:backup:${Region}:${Account}:backup-plan:${BackupPlanId}')).toBe(true);
    // an RDS snapshot AWS Backup makes is named awsbackup:job-<id>: a name may hold ':'
    expect(arnCanMatch('arn:aws:rds:us-east-1:111111111111:snapshot:awsbackup:*', 'arn:${Partition}:rds:${Region}:${Account}:snapshot:${SnapshotName}')).toBe(true);
    expect(arnCanMatch('arn:aws:logs:us-east-1:1:log-group:/tessera/*:log-stream:*', 'arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}')).toBe(true);
  });

  it('in the DR blueprint, the tier blueprint\'s DR roles, the execution role\'s DR statements and the audit replication role', async () => {
    // GIVEN the app with a platform DR region and a DR tier
    const built = await appTemplates(DR_CONFIG);
    const docs = [
      ...policies(built.drBlueprints.enterprise, 'us-west-2', () => true),
      ...policies(built.blueprints.enterprise, 'us-east-1', (id) => /^(DrReplication|RestoreTesting|DatabaseBackup|TrainingEvents)/.test(id)),
      ...policies(built.accountBaseline, 'us-east-1', (id) => id.startsWith('BlueprintExecutionDisasterRecovery')),
      ...policies(built.platform, 'us-east-1', (id) => id.startsWith('AuditReplication')),
    ];
    expect(docs.length).toBeGreaterThanOrEqual(6);
    // WHEN each Allow statement's actions are read against its resources
    const found = (await Promise.all(docs.map(([id, doc]) => grantsOfNothing(doc, id)))).flat();
    // THEN every action is granted on at least one resource it can act on
    expect(found).toEqual([]);
  });
});
