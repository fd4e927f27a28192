import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { Command } from 'commander';
import { HTTP_TIMEOUTS } from '../aws-http-timeouts.js';
import { PLATFORM_ADMIN_POLICY_NAME } from '../platform-admin-naming.js';
import { ConfigError, loadConfigReport } from '../config/load-config.js';
import { CliError } from './cli-error.js';
import { table } from './format.js';
import { findInstance, findUserId } from './admins/identity-center.js';
import { ensurePlatformAdmin, listPlatformAdmins, PLATFORM_ADMIN_PERMISSION_SET, type Waiting } from './admins/platform-admins.js';

type Globals = { region?: string; json?: boolean };
interface AdminsOptions { config?: string; profile?: string; instanceArn?: string; identityStoreId?: string }

/** The AWS clients and output of the admins commands; tests replace them. */
export interface AdminsIo {
  out(text: string): void;
  clients(region: string, profile?: string): { sso: SSOAdminClient; store: IdentitystoreClient };
  waiting?: Waiting;
}
const processIo: AdminsIo = {
  out: (text) => void process.stdout.write(`${text}\n`),
  clients: (region, profile) => ({ sso: new SSOAdminClient({ region, profile, requestHandler: { ...HTTP_TIMEOUTS.control } }), store: new IdentitystoreClient({ region, profile, requestHandler: { ...HTTP_TIMEOUTS.control } }) }),
};

/**
 * The platform account and region from `--config` (platformAccountId, homeRegion).
 * @throws CliError (2) without --config, for an invalid file, or while platformAccountId is the embedded placeholder.
 */
export function platformTarget(configFile: string | undefined): { accountId: string; homeRegion: string } {
  if (!configFile) throw new CliError('--config <file> is required: the platform account comes from its platformAccountId (tessera init writes tessera.config.yaml)');
  try {
    const { config, placeholders } = loadConfigReport({ file: configFile });
    if (placeholders.some((p) => p.path === 'platformAccountId')) {
      throw new CliError(`--config ${configFile}: platformAccountId is still the placeholder ${config.platformAccountId}; set it to your platform account id`);
    }
    return { accountId: config.platformAccountId, homeRegion: config.homeRegion };
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(`${e.message}\n  fix the config file named above (--config ${configFile})`, 2, undefined, e);
    if (e instanceof CliError) throw e;
    throw new CliError(`--config ${configFile}: cannot be read (${(e as Error).message.split('\n')[0]})`);
  }
}

const common = (cmd: Command) => cmd
  .option('--config <file>', 'Tessera config file (platformAccountId, homeRegion)')
  .option('--profile <profile>', 'AWS profile with Identity Center administration (the management account, or its delegated administrator)')
  .option('--instance-arn <arn>', 'IAM Identity Center instance (default: the only instance in the region)')
  .option('--identity-store-id <id>', 'its identity store (default: the instance\'s)');

/**
 * `tessera admins`: platform administrators, as IAM Identity Center users assigned the permission
 * set `TesseraPlatformAdmin` (customer-managed policy `TesseraPlatformAdminAccess`, created by the
 * platform stack) on the platform account. Region: `--region`, else the config's homeRegion
 * (Identity Center's region must be given with --region when it differs).
 */
export function adminsCommand(io: AdminsIo = processIo): Command {
  const admins = new Command('admins').description(`platform administrators: IAM Identity Center users with the ${PLATFORM_ADMIN_PERMISSION_SET} permission set on the platform account`);
  const globals = (cmd: Command) => cmd.optsWithGlobals<Globals & AdminsOptions>();

  common(admins.command('create'))
    .description(`make an Identity Center user a platform admin (idempotent): permission set ${PLATFORM_ADMIN_PERMISSION_SET} with policy ${PLATFORM_ADMIN_POLICY_NAME}, assigned on the platform account and provisioned`)
    .requiredOption('--user <name>', 'Identity Center user name')
    .action(async (o: { user: string }, cmd: Command) => {
      const g = globals(cmd);
      const target = platformTarget(g.config);
      const region = g.region ?? target.homeRegion;
      const { sso, store } = io.clients(region, g.profile);
      const instance = await findInstance(sso, region, g);
      const userId = await findUserId(store, instance.identityStoreId, o.user);
      const result = await ensurePlatformAdmin(sso, instance, userId, target.accountId, io.waiting);
      if (g.json) {
        io.out(JSON.stringify({ user: o.user, instanceArn: instance.instanceArn, identityStoreId: instance.identityStoreId, ...result }, null, 2));
        return;
      }
      const did = (yes: boolean, done: string, already: string) => (yes ? done : already);
      io.out([
        `${PLATFORM_ADMIN_PERMISSION_SET}: ${did(result.permissionSetCreated, 'created', 'exists')} (${result.permissionSetArn})`,
        `policy ${PLATFORM_ADMIN_POLICY_NAME}: ${did(result.policyAttached, 'referenced', 'already referenced')}`,
        `${o.user} on account ${target.accountId}: ${did(result.assignmentCreated, 'assigned', 'already assigned')}; provisioned`,
        `${o.user} signs in through the AWS access portal, chooses account ${target.accountId} and ${PLATFORM_ADMIN_PERMISSION_SET}, then runs tessera tenants ...`,
      ].join('\n'));
    });

  common(admins.command('list'))
    .description(`list the assignments of ${PLATFORM_ADMIN_PERMISSION_SET} on the platform account`)
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const target = platformTarget(g.config);
      const region = g.region ?? target.homeRegion;
      const { sso, store } = io.clients(region, g.profile);
      const instance = await findInstance(sso, region, g);
      const found = await listPlatformAdmins(sso, store, instance, target.accountId);
      if (g.json) {
        io.out(JSON.stringify({ accountId: target.accountId, permissionSet: PLATFORM_ADMIN_PERMISSION_SET, permissionSetArn: found?.permissionSetArn ?? null, admins: found?.admins ?? [] }, null, 2));
        return;
      }
      if (!found) {
        io.out(`no permission set ${PLATFORM_ADMIN_PERMISSION_SET} in ${instance.instanceArn}: create the first admin with tessera admins create --user <name> --config ${g.config}`);
        return;
      }
      if (found.admins.length === 0) {
        io.out(`${PLATFORM_ADMIN_PERMISSION_SET} has no assignment on account ${target.accountId}`);
        return;
      }
      io.out(table(found.admins.map((a) => ({ name: a.name ?? '', type: a.principalType, principalId: a.principalId, account: a.accountId })), ['name', 'type', 'principalId', 'account']));
    });
  return admins;
}
