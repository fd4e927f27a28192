import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { STSClient } from '@aws-sdk/client-sts';
import { readFile } from 'node:fs/promises';
import { KEYED_PROVIDERS, providerKeySource, type KeyedProvider, type ProviderKeys, type ProviderKeySource } from '../tenant-record.js';
import { TENANT_DATA_ROLE_NAME, TENANT_ID_TAG, tenantProviderSecretName } from '../tenant-naming.js';
import { CliError } from './cli-error.js';
import { displayWidth, padDisplay } from './display-width.js';

/** The KMS key a tenant's provider secret is encrypted with: the platform key, the one the tenant-data role may decrypt with (constructs/platform-key.ts). */
export const PLATFORM_KEY_ALIAS = 'alias/tessera/platform';

/**
 * A `<provider>` argument: one the gateway calls with an API key (KEYED_PROVIDERS).
 * @throws CliError (exit 2) naming the value and the providers that take a key
 */
export function keyedProvider(value: string): KeyedProvider {
  if ((KEYED_PROVIDERS as readonly string[]).includes(value)) return value as KeyedProvider;
  throw new CliError(`provider ${JSON.stringify(value)}: a tenant brings its own key for ${KEYED_PROVIDERS.join(', ')} only (bedrock and sagemaker are called with the platform's AWS credentials)`);
}

/** Where `provider-key set` reads the key: never the command line (it would land in the shell's history and in `ps`). */
export type KeySource = { fromEnv: string } | { fromFile: string } | { stdin: NodeJS.ReadableStream };

/**
 * The key `provider-key set` stores: the variable's, the file's or stdin's text, one trailing newline (CR LF) removed.
 * @throws CliError (exit 2) naming the variable or file when it is unset, unreadable or empty (only white space), and for stdin that is a terminal
 */
export async function readKey(source: KeySource): Promise<string> {
  let text: string;
  let where: string;
  if ('fromEnv' in source) {
    where = `--from-env ${source.fromEnv}`;
    const v = process.env[source.fromEnv];
    if (v === undefined) throw new CliError(`${where}: the variable is not set; export it first (e.g. read -rs ${source.fromEnv} && export ${source.fromEnv})`);
    text = v;
  } else if ('fromFile' in source) {
    where = `--from-file ${source.fromFile}`;
    text = await readFile(source.fromFile, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new CliError(`${where}: cannot be read (${e.code ?? e.message})`); });
  } else {
    where = 'stdin';
    if ((source.stdin as NodeJS.ReadStream).isTTY) throw new CliError('no key given: pipe it on stdin (e.g. printenv OPENAI_KEY | tessera tenants provider-key set ...), or pass --from-env VAR or --from-file FILE; a key is never taken as an argument (it would land in the shell history)');
    const chunks: Buffer[] = [];
    for await (const c of source.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
    text = Buffer.concat(chunks).toString('utf8');
  }
  const key = text.replace(/\r?\n$/, '');
  if (key.trim() === '') throw new CliError(`${where}: the key is empty`);
  if (/[\r\n]/.test(key)) throw new CliError(`${where}: the key holds a line break inside it; a provider key is one line`);
  return key;
}

/** What `provider-key set` did. */
export interface SetAnswer {
  secretName: string;
  /** `created`: a new secret; `updated`: a new version of the existing one (its KMS key set to the platform key, its tag set). */
  action: 'created' | 'updated';
  arn: string;
  versionId?: string;
}

/**
 * Creates `tessera/tenants/<tenant>/<provider>` holding `key`, encrypted with the platform key (`alias/tessera/platform`) and
 * tagged `tessera:tenant-id` = the tenant (CreateSecret); if it exists, puts `key` as its new current version and sets its
 * KMS key and tag (UpdateSecret, TagResource). A secret scheduled for deletion is restored first (RestoreSecret).
 * The gateway reads the new value within five minutes (its cache).
 * @throws the SDK's error for anything else (AccessDenied: the operator's credentials lack the action)
 */
export async function setProviderKey(sm: SecretsManagerClient, tenantId: string, provider: KeyedProvider, key: string): Promise<SetAnswer> {
  const { CreateSecretCommand, DescribeSecretCommand, RestoreSecretCommand, TagResourceCommand, UpdateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
  const name = tenantProviderSecretName(tenantId, provider);
  const tags = [{ Key: TENANT_ID_TAG, Value: tenantId }];
  try {
    const out = await sm.send(new CreateSecretCommand({ Name: name, SecretString: key, KmsKeyId: PLATFORM_KEY_ALIAS, Tags: tags, Description: `Tenant ${tenantId}'s own ${provider} API key (tessera tenants provider-key set)` }));
    return { secretName: name, action: 'created', arn: out.ARN!, versionId: out.VersionId };
  } catch (e) {
    if ((e as Error).name !== 'ResourceExistsException' && (e as Error).name !== 'InvalidRequestException') throw e;
    // InvalidRequestException: the name belongs to a secret scheduled for deletion
    const described = await sm.send(new DescribeSecretCommand({ SecretId: name }));
    if (described.DeletedDate) await sm.send(new RestoreSecretCommand({ SecretId: name }));
    const out = await sm.send(new UpdateSecretCommand({ SecretId: name, SecretString: key, KmsKeyId: PLATFORM_KEY_ALIAS }));
    await sm.send(new TagResourceCommand({ SecretId: name, Tags: tags }));
    return { secretName: name, action: 'updated', arn: out.ARN ?? described.ARN!, versionId: out.VersionId };
  }
}

/** One provider's line of `provider-key status`. */
export interface ProviderKeyStatus {
  provider: KeyedProvider;
  secretName: string;
  /** The tenant's `gateway.providerKeys.<provider>`, or undefined when the policy could not be read (`declaredError`). */
  declared?: ProviderKeySource;
  declaredError?: string;
  /** The secret exists and is not scheduled for deletion. */
  present: boolean;
  /** Its `tessera:tenant-id` tag is the tenant (the tenant-data role reads only such secrets). */
  tagged: boolean;
  /** The `tessera:tenant-id` value it carries when it is another tenant's (a copy-paste slip). */
  taggedAs?: string;
  /** DescribeSecret's KmsKeyId (absent: the AWS managed key aws/secretsmanager). */
  kmsKeyId?: string;
  /** Scheduled for deletion (DeletedDate), ISO time. */
  deletedAt?: string;
  /**
   * Whether the tenant-data role reads it: `yes`/`no` from a dry read as the role (GetSecretValue; the value is discarded),
   * else `unchecked` (the operator's credentials may not assume the role: `readableNote` says why; judge by present and tagged).
   */
  readable: 'yes' | 'no' | 'unchecked';
  readableNote?: string;
  /** What the gateway does for the tenant's requests to the provider now. */
  gateway: string;
}

/** The clients `provider-key status` uses: Secrets Manager with the operator's credentials, STS to try the tenant-data role. */
export interface StatusClients {
  sm: SecretsManagerClient;
  sts: STSClient;
  /** A Secrets Manager client on the tenant-data role's session credentials (the CLI's region and endpoint). */
  asRole: (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) => SecretsManagerClient;
}

/**
 * Per keyed provider: declared (the tenant's `gateway.providerKeys`, `declared` as read through the admin API), present,
 * tagged, its KMS key, and readable by the tenant-data role: a dry read as that role (AssumeRole on
 * `arn:aws:iam::<account>:role/tessera-tenant-data` with the session tag `tessera:tenant-id` = the tenant, as the gateway
 * assumes it; the value is read and discarded, never printed) when the operator's credentials may assume it, else `unchecked`.
 * @param declared the tenant's `providerKeys`, or an Error when the policy could not be read (each line says so)
 */
export async function providerKeyStatus(c: StatusClients, tenantId: string, declared: ProviderKeys | Error): Promise<ProviderKeyStatus[]> {
  const { DescribeSecretCommand, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const { AssumeRoleCommand, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  let role: SecretsManagerClient | undefined;
  let roleNote: string | undefined;
  try {
    const account = (await c.sts.send(new GetCallerIdentityCommand({}))).Account;
    const out = await c.sts.send(new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${account}:role/${TENANT_DATA_ROLE_NAME}`, RoleSessionName: `cli-status-${tenantId}`, DurationSeconds: 900, Tags: [{ Key: TENANT_ID_TAG, Value: tenantId }],
    }));
    const k = out.Credentials!;
    role = c.asRole({ accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey!, sessionToken: k.SessionToken });
  } catch (e) {
    roleNote = `could not assume ${TENANT_DATA_ROLE_NAME} (${(e as Error).name}: it trusts the gateway's Lambdas only); judged by present and tagged`;
  }
  const lines: ProviderKeyStatus[] = [];
  for (const provider of KEYED_PROVIDERS) {
    const secretName = tenantProviderSecretName(tenantId, provider);
    const line: ProviderKeyStatus = declared instanceof Error
      ? { provider, secretName, declaredError: declared.message, present: false, tagged: false, readable: 'unchecked', gateway: '' }
      : { provider, secretName, declared: providerKeySource(declared, provider), present: false, tagged: false, readable: 'unchecked', gateway: '' };
    try {
      const d = await c.sm.send(new DescribeSecretCommand({ SecretId: secretName }));
      const tag = d.Tags?.find((t) => t.Key === TENANT_ID_TAG)?.Value;
      Object.assign(line, { present: !d.DeletedDate, tagged: tag === tenantId }, tag !== undefined && tag !== tenantId ? { taggedAs: tag } : {}, d.KmsKeyId ? { kmsKeyId: d.KmsKeyId } : {}, d.DeletedDate ? { deletedAt: d.DeletedDate.toISOString() } : {});
    } catch (e) {
      if ((e as Error).name !== 'ResourceNotFoundException') throw e;
    }
    if (role) {
      line.readable = await role.send(new GetSecretValueCommand({ SecretId: secretName })).then((v) => ((v.SecretString ?? '').trim() ? 'yes' : 'no'), () => 'no');
    } else {
      line.readableNote = roleNote;
    }
    const readable = line.readable === 'yes' || (line.readable === 'unchecked' && line.present && line.tagged);
    line.gateway = line.declared === undefined ? 'unknown (the policy could not be read)'
      : line.declared === 'platform' ? 'the platform\'s key (the tenant\'s secret is not read)'
        : readable ? 'the tenant\'s own key'
          : line.declared === 'own' ? 'fails closed: 502 tenant_provider_key_unreadable (set the key, or tag it)' : 'the platform\'s key (no readable own key)';
    lines.push(line);
  }
  return lines;
}

/** `provider-key status` as lines for a terminal. */
export function statusLines(tenantId: string, lines: ProviderKeyStatus[]): string {
  const yn = (b: boolean) => (b ? 'yes' : 'no');
  const rows = lines.map((l) => [
    l.provider, l.declared ?? 'unknown', yn(l.present) + (l.deletedAt ? ` (deletion scheduled ${l.deletedAt})` : ''),
    yn(l.tagged) + (l.taggedAs !== undefined ? ` (tagged ${l.taggedAs})` : ''), l.readable, l.gateway,
  ]);
  const head = ['provider', 'declared', 'present', 'tagged', 'readable', 'gateway uses'];
  const widths = head.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i]))));
  const fmt = (r: string[]) => r.map((v, i) => padDisplay(v, widths[i])).join('  ').trimEnd();
  const notes = [...new Set(lines.flatMap((l) => [l.readableNote, l.declaredError && `declared: ${l.declaredError}`]).filter((n): n is string => Boolean(n)))];
  return [`provider keys of tenant ${tenantId} (secrets tessera/tenants/${tenantId}/<provider>)`, fmt(head), ...rows.map(fmt), ...notes.map((n) => `note: ${n}`)].join('\n');
}

/**
 * Deletes the tenant's secret for `provider` (DeleteSecret) after `recoveryDays` (7-30; restorable meanwhile by `set` or
 * `aws secretsmanager restore-secret`), or at once with `recoveryDays` 0 (ForceDeleteWithoutRecovery).
 * @returns the deletion date Secrets Manager answers, ISO; undefined when there was no secret
 * @throws CliError (exit 2) for recoveryDays outside 0 and 7-30
 */
export async function deleteProviderKey(sm: SecretsManagerClient, tenantId: string, provider: KeyedProvider, recoveryDays: number): Promise<string | undefined> {
  if (recoveryDays !== 0 && !(Number.isInteger(recoveryDays) && recoveryDays >= 7 && recoveryDays <= 30)) throw new CliError(`--recovery-days ${recoveryDays}: give 7 to 30 (Secrets Manager's RecoveryWindowInDays), or 0 to delete at once without recovery`);
  const { DeleteSecretCommand } = await import('@aws-sdk/client-secrets-manager');
  try {
    const out = await sm.send(new DeleteSecretCommand(recoveryDays === 0 ? { SecretId: tenantProviderSecretName(tenantId, provider), ForceDeleteWithoutRecovery: true } : { SecretId: tenantProviderSecretName(tenantId, provider), RecoveryWindowInDays: recoveryDays }));
    return out.DeletionDate?.toISOString();
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') return undefined;
    throw e;
  }
}
