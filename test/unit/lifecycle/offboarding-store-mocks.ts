import { BackupClient, BackupServiceException } from '@aws-sdk/client-backup';
import { CloudFormationClient, CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, CloudWatchLogsServiceException } from '@aws-sdk/client-cloudwatch-logs';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { EventBridgeClient, EventBridgeServiceException } from '@aws-sdk/client-eventbridge';
import { KMSClient, KMSServiceException } from '@aws-sdk/client-kms';
import { RDSClient, RDSServiceException } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
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
    cache: mockClient(ElastiCacheClient),
    s3: mockClient(S3Client),
    kms: mockStrict(KMSClient, 'kms', KMSServiceException),
    events: mockStrict(EventBridgeClient, 'events', EventBridgeServiceException),
    sts: mockStrict(STSClient, 'sts', STSServiceException),
  };
}
