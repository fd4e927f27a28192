import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { paginateDescribeDBInstances, type RDSClient } from '@aws-sdk/client-rds';
import { pages } from '../../lib/aws-pages.js';
import { RESTORE_TEST_TAG } from '../../lib/tenant-naming.js';
import { stackResources } from './offboarding-support.js';

/** A DB instance in one of a stack's DB subnet groups that the stack did not create. */
export interface SubnetGroupOccupant {
  /** Its DB instance identifier. */
  instance: string;
  /** The stack's DB subnet group it is in (the group's physical name). */
  subnetGroup: string;
  /** Its DBInstanceStatus (`creating`, `available`, `deleting`, …), as DescribeDBInstances answered. */
  status: string;
  /** Whether it carries the `awsbackup-restore-test` tag: an instance of a restore test, which AWS Backup deletes itself. */
  restoreTest: boolean;
  /** Its InstanceCreateTime (ISO 8601), when DescribeDBInstances gave one. */
  createdAt?: string;
}

/**
 * Hours after its creation by which AWS Backup has deleted a restore test's instance: the longest validation window
 * a restore testing selection may have (ValidationWindowHours, "an integer between 0 and 168", AWS Backup API
 * Reference, RestoreTestingSelectionForCreate) plus a day for the restore itself and the deletion. One still there
 * after that is not waited for any longer.
 */
export const RESTORE_TEST_DELETED_WITHIN_HOURS = 168 + 24;

/**
 * Hours one offboarding execution waits, from the first poll that found it, for AWS Backup to delete a restore test's
 * instance in the tenant stack's DB subnet group; one still there after that stops the offboarding (StackFailed, naming
 * it), and a resumed offboarding (DELETE again) waits anew. The bound is the execution's, not the instance's age:
 * *Delete tenant stacks* polls every 30 s (*Wait for deletion*, constructs/lifecycle-workflows.ts), about 10 history
 * events a poll, so a wait of RESTORE_TEST_DELETED_WITHIN_HOURS would fill Step Functions' 25,000-event history of a
 * standard execution after about 20 h and meet the offboarding's 2-day timeout (lib/lifecycle-workflow-timeouts.ts), each
 * ending the execution without *Record failure* (neither is an error a Catch sees). 6 h is about 7,200 events; Tessera's
 * restore testing selection keeps its instance 2 h (constructs/tenant-dr-restore-testing.ts, validationWindowHours'
 * default, which the tenant blueprint uses) after a restore of about an hour (docs/operations.md, restoreTestRestoreHours).
 */
export const RESTORE_TEST_WAIT_HOURS = 6;

/** Whether `o` is a restore test's instance AWS Backup is still expected to delete at `now` (see RESTORE_TEST_DELETED_WITHIN_HOURS). */
export function awaitsBackupDeletion(o: SubnetGroupOccupant, now = new Date()): boolean {
  return o.restoreTest && (!o.createdAt || now.getTime() - Date.parse(o.createdAt) < RESTORE_TEST_DELETED_WITHIN_HOURS * 3_600_000);
}

/**
 * The DB instances that sit in a DB subnet group of stack `stackName` (`AWS::RDS::DBSubnetGroup` resources not
 * DELETE_COMPLETE, ListStackResources) and are not one of the stack's own `AWS::RDS::DBInstance` resources
 * (DescribeDBInstances, every instance of the account and region: the instance names a restore test gets are AWS
 * Backup's). RDS refuses to delete a DB subnet group such an instance is in: "The specified database subnet group
 * must not be associated with any DB instances", InvalidDBSubnetGroupStateFault "The DB subnet group cannot be
 * deleted because it's in use" (RDS API Reference, DeleteDBSubnetGroup), so CloudFormation's deletion of the stack
 * would end DELETE_FAILED on the group (and on the security group and subnets the instance's interfaces use).
 * The tenant stack of a DR tier restores its database there once a month (constructs/tenant-dr-restore-testing.ts,
 * restoreMetadataOverrides `dbsubnetgroupname`), and AWS Backup keeps that instance for the selection's validation
 * window before deleting it.
 * @returns the occupants, in DescribeDBInstances's order; empty when the stack has no DB subnet group
 */
export async function subnetGroupOccupants(cfn: CloudFormationClient, rds: RDSClient, stackName: string): Promise<SubnetGroupOccupant[]> {
  const resources = await stackResources(cfn, stackName);
  const groups = new Set(resources.filter((r) => r.ResourceType === 'AWS::RDS::DBSubnetGroup' && r.ResourceStatus !== 'DELETE_COMPLETE' && r.PhysicalResourceId)
    .map((r) => r.PhysicalResourceId!.toLowerCase()));
  if (groups.size === 0) return [];
  const own = new Set(resources.filter((r) => r.ResourceType === 'AWS::RDS::DBInstance' && r.PhysicalResourceId).map((r) => r.PhysicalResourceId!.toLowerCase()));
  const occupants: SubnetGroupOccupant[] = [];
  for await (const page of paginateDescribeDBInstances(pages(rds), {})) {
    for (const i of page.DBInstances ?? []) {
      // RDS stores DB subnet group names and instance identifiers in lowercase.
      const group = i.DBSubnetGroup?.DBSubnetGroupName?.toLowerCase();
      const id = i.DBInstanceIdentifier ?? '';
      if (!group || !groups.has(group) || own.has(id.toLowerCase())) continue;
      occupants.push({
        instance: id, subnetGroup: group, status: i.DBInstanceStatus ?? 'unknown', restoreTest: (i.TagList ?? []).some((t) => t.Key === RESTORE_TEST_TAG),
        ...(i.InstanceCreateTime ? { createdAt: i.InstanceCreateTime.toISOString() } : {}),
      });
    }
  }
  return occupants;
}

/** The occupants in words: `DB instance <id> (<status>, a restore test: tag …, created <at>) in DB subnet group <name>`, joined by `; `. */
export function describeOccupants(occupants: readonly SubnetGroupOccupant[]): string {
  return occupants.map((o) => `DB instance ${o.instance} (${o.status}${o.restoreTest ? `, a restore test: tag ${RESTORE_TEST_TAG}` : ''}${o.createdAt ? `, created ${o.createdAt}` : ''}) in DB subnet group ${o.subnetGroup}`).join('; ');
}
