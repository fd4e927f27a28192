import { BackupClient, BackupServiceException } from '@aws-sdk/client-backup';
import { CloudFormationClient, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, CloudWatchLogsServiceException } from '@aws-sdk/client-cloudwatch-logs';
import { ElastiCacheClient, ElastiCacheServiceException } from '@aws-sdk/client-elasticache';
import { EventBridgeClient, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { KMSClient, KMSServiceException } from '@aws-sdk/client-kms';
import { RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockStrict } from '../../support/strict-mock.js';

/**
 * The aws-sdk-client-mock stubs the offboarding inventory and key-deletion Lambdas meet: the stack (CloudFormation), the
 * stores it lists (Logs, Backup, RDS, ElastiCache, S3), the keys (KMS), the event bus and STS. Call it at the top of the
 * test file, before the handlers are imported, as with mockClient itself; the file's vi.mock lines stay in the file.
 */
export function offboardingStoreMocks() {
  return {
    cfn: mockStrict(CloudFormationClient, 'cloudformation', CloudFormationServiceException),
    logs: mockStrict(CloudWatchLogsClient, 'logs', CloudWatchLogsServiceException),
    backup: mockStrict(BackupClient, 'backup', BackupServiceException),
    rds: mockStrict(RDSClient, 'rds', RDSServiceException),
    cache: mockStrict(ElastiCacheClient, 'elasticache', ElastiCacheServiceException),
    s3: mockStrict(S3Client, 's3', S3ServiceException),
    kms: mockStrict(KMSClient, 'kms', KMSServiceException),
    events: mockStrict(EventBridgeClient, 'events', EventBridgeServiceException),
    sts: mockStrict(STSClient, 'sts', STSServiceException),
  };
}
