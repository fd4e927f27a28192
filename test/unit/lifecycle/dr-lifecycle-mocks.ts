import { CloudFormationClient, DeleteStackCommand, DescribeStackEventsCommand, DescribeStacksCommand, ListStackResourcesCommand, UpdateTerminationProtectionCommand, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { EventBridgeClient, PutEventsCommand, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { BackupClient, BackupServiceException } from '@aws-sdk/client-backup';
import { KMSClient, KMSServiceException } from '@aws-sdk/client-kms';
import { DBInstanceNotFoundFault, DescribeDBInstancesCommand, RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';
import { ENV } from '../../../lambdas/shared/environment.js';
import { configWith } from '../../support/config-with.js';
import { records } from './registry-mock.js';
import { credentials, setLifecycleEnv } from './support.js';
import { mockDrStores } from './dr-store-mocks.js';

/** The default config with tier professional replicated to us-west-2 (its DR stack tessera-acme-dr there). */
export const drConfig = configWith({ tiers: { professional: { disasterRecovery: { region: 'us-west-2', rpoHours: 1, rtoHours: 4 } } } } as never);

/** The id of acme's DR stack in us-west-2. */
export const DR_STACK_ID = 'arn:aws:cloudformation:us-west-2:333333333333:stack/tessera-acme-dr/1';

/**
 * The aws-sdk-client-mock stubs the lifecycle Lambdas meet on a DR tier: CloudFormation, STS, the event bus, RDS (the
 * look for the failover runbook's restored instance, rebuilt-stack.ts), and the
 * DR stores' KMS, S3 and Backup (dr-store-mocks.ts). Call it at the top of the test file, before the handlers are
 * imported, as with mockClient itself; the file's vi.mock lines stay in the file (vitest hoists them per file).
 */
export function drLifecycleMocks() {
  return {
    cfn: mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException),
    sts: mockStrict(STSClient, 'sts', STSServiceException),
    bus: mockStrict(EventBridgeClient, 'events', EventBridgeServiceException),
    kms: mockStrict(KMSClient, 'kms', KMSServiceException),
    s3: mockStrict(S3Client, 's3', S3ServiceException),
    backup: mockStrict(BackupClient, 'backup', BackupServiceException),
    rds: mockStrict(RDSClient, 'rds', RDSServiceException),
  };
}

export type DrLifecycleMocks = ReturnType<typeof drLifecycleMocks>;

/**
 * What each test of a DR lifecycle file starts from (its beforeEach): the Lambdas' environment with {@link drConfig},
 * an empty registry, every stub reset and answering as AWS would with nothing there yet: the DR stores absent in the
 * DR region, no stack (DescribeStacks: ValidationError), no DB instance (DescribeDBInstances: DBInstanceNotFound), no
 * events, no resources; AssumeRole, PutEvents, DeleteStack
 * and UpdateTerminationProtection succeed. `listStackResources: false` leaves ListStackResources unanswered.
 */
export function resetDrLifecycle(mocks: DrLifecycleMocks, { listStackResources = true }: { listStackResources?: boolean } = {}): void {
  const { cfn, sts, bus, kms, s3, backup, rds } = mocks;
  setLifecycleEnv();
  process.env[ENV.config] = JSON.stringify(drConfig);
  records.clear();
  for (const m of [cfn, sts, bus, kms, s3, backup, rds]) m.reset();
  // The DR stores (key alias, replica bucket, vault) absent in the DR region.
  mockDrStores({ kms, s3, backup });
  sts.on(AssumeRoleCommand).resolves({ Credentials: credentials });
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => {
    throw new DBInstanceNotFoundFault({ message: `DBInstance ${input.DBInstanceIdentifier} not found.`, $metadata: { httpStatusCode: 404 } });
  });
  cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id x does not exist'), { name: 'ValidationError' }));
  cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
  if (listStackResources) cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
  cfn.on(DeleteStackCommand).resolves({});
  cfn.on(UpdateTerminationProtectionCommand).resolves({});
}
