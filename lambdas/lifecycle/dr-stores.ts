import { BackupClient, DescribeBackupVaultCommand } from '@aws-sdk/client-backup';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetBucketEncryptionCommand, S3Client } from '@aws-sdk/client-s3';
import { drBackupVaultName, drBucketName, drKeyAlias } from '../../lib/tenant-naming.js';
import { clientWith } from '../shared/aws-clients.js';
import { tenantAccountCredentials } from '../shared/sessions.js';

/** One of the stores a DR stack keeps when it is deleted (RETAIN, fixed names), and whether it is there. */
export interface DrStoreCheck {
  store: 'key alias' | 'replica bucket' | 'backup vault';
  name: string;
  /** `present`: the service answered with it; `absent`: the service said it does not exist; `unchecked`: any other answer (named in `detail`). */
  state: 'present' | 'absent' | 'unchecked';
  detail?: string;
}

const NOT_FOUND = new Set(['NotFoundException', 'NoSuchBucket', 'ResourceNotFoundException']);

async function check(store: DrStoreCheck['store'], name: string, call: () => Promise<string | undefined>): Promise<DrStoreCheck> {
  try {
    const detail = await call();
    return { store, name, state: 'present', ...(detail ? { detail } : {}) };
  } catch (e) {
    const err = e as Error;
    if (NOT_FOUND.has(err.name)) return { store, name, state: 'absent' };
    // A bucket without default encryption is there all the same.
    if (err.name === 'ServerSideEncryptionConfigurationNotFoundError') return { store, name, state: 'present' };
    return { store, name, state: 'unchecked', detail: `${err.name}: ${err.message}` };
  }
}

/**
 * Whether the DR key alias, replica bucket and backup vault of `tenantId`'s DR stack (RETAIN, fixed
 * names: lib/tenant-naming.ts) exist in `region` of `accountId`, asked with the provisioning session of
 * `step`: KMS DescribeKey of the alias, S3 GetBucketEncryption of the bucket, AWS Backup
 * DescribeBackupVault of the vault. The provisioning role reads the bucket and the DR vault through its own
 * policy (in the shared workload account: s3:GetEncryptionConfiguration on tessera-*, backup:DescribeBackupVault
 * on tessera-*-dr in the DR regions) and the DR key through the key's policy (ProvisioningRoleAdministersOnly,
 * kms:Describe*); a refusal (a key policy changed by hand, an SCP), throttling or an unreachable region comes
 * back `unchecked` with the error, never `absent`. Never throws.
 */
export async function checkDrStores(tenantId: string, accountId: string, region: string, step: string): Promise<DrStoreCheck[]> {
  const alias = drKeyAlias(tenantId);
  const bucket = drBucketName(tenantId, accountId, region);
  const vault = drBackupVaultName(tenantId);
  let credentials;
  try {
    credentials = await tenantAccountCredentials(accountId, tenantId, step);
  } catch (e) {
    const detail = `no session in account ${accountId}: ${(e as Error).name}: ${(e as Error).message}`;
    return ([['key alias', alias], ['replica bucket', bucket], ['backup vault', vault]] as const).map(([store, name]) => ({ store, name, state: 'unchecked', detail }));
  }
  return Promise.all([
    check('key alias', alias, async () => {
      const out = await clientWith(KMSClient, credentials, { region }).send(new DescribeKeyCommand({ KeyId: alias }));
      return out.KeyMetadata?.KeyState ? `key ${out.KeyMetadata.KeyId ?? '?'}, ${out.KeyMetadata.KeyState}` : undefined;
    }),
    check('replica bucket', bucket, async () => {
      // With its owner: S3 names are global, and a bucket of this name in another account is not the tenant's (403: unchecked).
      await clientWith(S3Client, credentials, { region }).send(new GetBucketEncryptionCommand({ Bucket: bucket, ExpectedBucketOwner: accountId }));
      return undefined;
    }),
    check('backup vault', vault, async () => {
      const out = await clientWith(BackupClient, credentials, { region }).send(new DescribeBackupVaultCommand({ BackupVaultName: vault }));
      return out.NumberOfRecoveryPoints !== undefined ? `${out.NumberOfRecoveryPoints} recovery point${out.NumberOfRecoveryPoints === 1 ? '' : 's'}` : undefined;
    }),
  ]);
}

const each = (checks: DrStoreCheck[]) => checks.map((c) => `${c.store} ${c.name}${c.detail ? ` (${c.detail})` : ''}`).join(', ');

/** What the checks found, in words: what stays in `region`, what is gone, what could not be checked and why. */
export function describeDrStores(checks: DrStoreCheck[], region: string): string {
  const present = checks.filter((c) => c.state === 'present');
  const unchecked = checks.filter((c) => c.state === 'unchecked');
  const absent = checks.filter((c) => c.state === 'absent');
  return [
    ...(present.length ? [`its retained DR ${each(present)} stay in ${region} (checked)`] : []),
    ...(unchecked.length ? [`DR ${each(unchecked)} not checked: ${unchecked.length === 1 ? 'it' : 'they'} may remain in ${region}`] : []),
    ...(absent.length ? [`DR ${each(absent)} ${absent.length === 1 ? 'does' : 'do'} not exist (checked)`] : []),
  ].join('; ');
}
