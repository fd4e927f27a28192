import { DescribeBackupVaultCommand, type ServiceInputTypes as BackupIn, type ServiceOutputTypes as BackupOut, type BackupClientResolvedConfig } from '@aws-sdk/client-backup';
import { DescribeKeyCommand, type ServiceInputTypes as KmsIn, type ServiceOutputTypes as KmsOut, type KMSClientResolvedConfig } from '@aws-sdk/client-kms';
import { GetBucketEncryptionCommand, type ServiceInputTypes as S3In, type ServiceOutputTypes as S3Out, type S3ClientResolvedConfig } from '@aws-sdk/client-s3';
import type { AwsStub } from 'aws-sdk-client-mock';

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

/** The aws-sdk-client-mock stubs the DR store checks read (lambdas/lifecycle: the key alias, the replica bucket, the vault). */
export interface DrStoreStubs {
  readonly kms: AwsStub<KmsIn, KmsOut, KMSClientResolvedConfig>;
  readonly s3: AwsStub<S3In, S3Out, S3ClientResolvedConfig>;
  readonly backup: AwsStub<BackupIn, BackupOut, BackupClientResolvedConfig>;
}

/**
 * Answers the checks of tenant acme's DR stores (key alias, replica bucket, vault: RETAIN, fixed names) in the DR
 * region as AWS would: each absent unless `present` says so; `keyDenied` refuses the key's DescribeKey.
 */
export function mockDrStores(stubs: DrStoreStubs, present: { key?: boolean; bucket?: boolean; vault?: boolean; keyDenied?: boolean } = {}): void {
  const { kms, s3, backup } = stubs;
  if (present.keyDenied) kms.on(DescribeKeyCommand).rejects(named('AccessDeniedException', 'User is not authorized to perform: kms:DescribeKey'));
  else if (present.key) kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k-1', KeyState: 'Enabled' } as never });
  else kms.on(DescribeKeyCommand).rejects(named('NotFoundException', 'Alias alias/tessera-acme-dr is not found.'));
  if (present.bucket) s3.on(GetBucketEncryptionCommand).resolves({});
  else s3.on(GetBucketEncryptionCommand).rejects(named('NoSuchBucket', 'The specified bucket does not exist'));
  if (present.vault) backup.on(DescribeBackupVaultCommand).resolves({ BackupVaultName: 'tessera-acme-dr', NumberOfRecoveryPoints: 3 });
  else backup.on(DescribeBackupVaultCommand).rejects(named('ResourceNotFoundException', 'Backup vault tessera-acme-dr does not exist'));
}
