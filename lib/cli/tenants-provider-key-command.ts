import { Command, Option } from 'commander';
import { HTTP_TIMEOUTS } from '../aws-http-timeouts.js';
import { tenantProviderSecretName } from '../tenant-naming.js';
import type { ProviderKeys, TenantRecord } from '../tenant-record.js';
import { adminTarget, type AdminGlobals } from './admin-target.js';
import { tenantIdArgument } from './option-parsers.js';
import { deleteProviderKey, keyedProvider, providerKeyStatus, readKey, setProviderKey, statusLines, type KeySource } from './provider-key.js';

const print = (s: string) => process.stdout.write(`${s}\n`);

/** SDK client settings of the operator's credentials: `--profile`, `--region` (else the SDK's chain), the control-plane timeouts. */
function sdkConfig(cmd: Command) {
  const g = cmd.optsWithGlobals<AdminGlobals>();
  return { ...(g.region ? { region: g.region } : {}), ...(g.profile ? { profile: g.profile } : {}), requestHandler: { ...HTTP_TIMEOUTS.control } };
}

async function secretsClient(cmd: Command) {
  const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  return new SecretsManagerClient(sdkConfig(cmd));
}

/**
 * `tessera tenants provider-key set|status|delete`: a tenant's own provider API key (the secret
 * `tessera/tenants/<tenant>/<provider>`, tagged `tessera:tenant-id`, encrypted with `alias/tessera/platform`), managed with
 * the operator's own AWS credentials (`--profile`), as `tessera dlq` and `tessera tenants failover-plan` act: the admin
 * API never holds a tenant's key. `status` reads the tenant's `gateway.providerKeys` through the admin API.
 */
export function tenantsProviderKeyCommand(): Command {
  const group = new Command('provider-key').description('a tenant\'s own provider API key (Secrets Manager tessera/tenants/<id>/<provider>): set, status, delete, with your AWS credentials');

  group.command('set').description('create or update the tenant\'s own key for a provider (openai, huggingface, openai-compatible), tagged and encrypted as the gateway reads it; the key comes from --from-env, --from-file or stdin, never the command line (it would land in the shell history)')
    .argument('<id>', 'tenant id', tenantIdArgument)
    .argument('<provider>', 'openai, huggingface or openai-compatible', keyedProvider)
    .addOption(new Option('--from-env <VAR>', 'read the key from this environment variable').conflicts('fromFile'))
    .option('--from-file <file>', 'read the key from this file (one line; a trailing newline is dropped)')
    .action(async (id: string, provider: ReturnType<typeof keyedProvider>, o: { fromEnv?: string; fromFile?: string }, cmd: Command) => {
      const source: KeySource = o.fromEnv !== undefined ? { fromEnv: o.fromEnv } : o.fromFile !== undefined ? { fromFile: o.fromFile } : { stdin: process.stdin };
      const key = await readKey(source);
      const out = await setProviderKey(await secretsClient(cmd), id, provider, key);
      if (cmd.optsWithGlobals<AdminGlobals>().json) print(JSON.stringify(out));
      else print(`${out.action} ${out.secretName} (tagged tessera:tenant-id=${id}, encrypted with alias/tessera/platform); the gateway reads it within five minutes\n`
        + `make the gateway require it: tessera tenants gateway ${id} --set providerKeys.${provider}=own`);
    });

  group.command('status').description('per provider: whether the tenant\'s policy declares its own key (providerKeys), whether the secret is present, tagged and readable by the tenant-data role (a dry read as that role when your credentials may assume it), and what the gateway uses')
    .argument('<id>', 'tenant id', tenantIdArgument)
    .action(async (id: string, _o, cmd: Command) => {
      const config = sdkConfig(cmd);
      const [{ SecretsManagerClient }, { STSClient }] = await Promise.all([import('@aws-sdk/client-secrets-manager'), import('@aws-sdk/client-sts')]);
      let declared: ProviderKeys | Error;
      try {
        const record = await adminTarget(cmd).api.call<TenantRecord>('GET', `/admin/tenants/${encodeURIComponent(id)}`);
        declared = record.gateway?.providerKeys ?? {};
      } catch (e) {
        declared = new Error(`the tenant's policy could not be read through the admin API (${(e as Error).message.split('\n')[0]})`);
      }
      const lines = await providerKeyStatus({
        sm: new SecretsManagerClient(config), sts: new STSClient(config),
        asRole: (credentials) => new SecretsManagerClient({ ...config, profile: undefined, credentials }),
      }, id, declared);
      print(cmd.optsWithGlobals<AdminGlobals>().json ? JSON.stringify(lines, null, 2) : statusLines(id, lines));
    });

  group.command('delete').description('delete the tenant\'s own key for a provider (restorable for --recovery-days); a tenant whose policy says providerKeys.<provider>=own then fails closed, one with own-or-platform goes to the platform\'s key')
    .argument('<id>', 'tenant id', tenantIdArgument)
    .argument('<provider>', 'openai, huggingface or openai-compatible', keyedProvider)
    .option('--recovery-days <days>', 'days Secrets Manager keeps it restorable (7-30), or 0 to delete at once', (v) => Number(v), 7)
    .action(async (id: string, provider: ReturnType<typeof keyedProvider>, o: { recoveryDays: number }, cmd: Command) => {
      const at = await deleteProviderKey(await secretsClient(cmd), id, provider, o.recoveryDays);
      const secretName = tenantProviderSecretName(id, provider);
      if (cmd.optsWithGlobals<AdminGlobals>().json) print(JSON.stringify({ secretName, deleted: at !== undefined, ...(at ? { deletionDate: at } : {}) }));
      else print(at === undefined ? `no secret ${secretName}: nothing to delete` : `${secretName} deleted${o.recoveryDays ? ` on ${at} (restorable until then: tessera tenants provider-key set ${id} ${provider} restores it with a new value)` : ' at once'}`);
    });
  return group;
}
