import type { SQSClient } from '@aws-sdk/client-sqs';
import { Command } from 'commander';
import { HTTP_TIMEOUTS } from '../aws-http-timeouts.js';
import { loadConfigReport } from '../config/load-config.js';
import { modelShutdownFindings, parseAsOfDay, utcDay } from '../config/model-lifecycle.js';
import { DLQ_NAME_PREFIX } from '../dead-letters.js';
import type { DriftRow } from '../tenant-list-page.js';
import type { TenantRecord } from '../tenant-record.js';
import type { AdminClient } from './admin-client.js';
import { adminTarget, profileOption } from './admin-target.js';
import { allDriftRows, allTenants } from './all-tenants.js';
import { CliError } from './cli-error.js';
import { sameQueuesOptions } from './dlq-command.js';
import {
  closureFindings, dlqFindings, driftFindings, drFindings, drRegionFindings, healthExitCode, healthLines, judgeEach, lifecycleFindings, modelFindings, registryFindings,
  summarize, unreadable, upgradeFindings, type HealthFinding,
} from './platform/health-rules.js';
import { platformTierList } from './platform-tiers-client.js';
import { platformTeardownPlan, teardownProcessIo, type TeardownIo, type TeardownOptions } from './platform-teardown.js';
import { teardownExitCode, teardownLines } from './platform/teardown-plan.js';

/** The clock, the clients and the output of `tessera platform health`; tests replace them. */
export interface HealthIo {
  out(text: string): void;
  /** Now, epoch ms. */
  now(): number;
  /** The SQS client of the platform's dead-letter queues (`--region`, `--profile`). */
  sqs(region: string | undefined, profile: string | undefined): Promise<SQSClient>;
  /** The admin API client (adminTarget: `--api-url` or TESSERA_API_URL). @throws CliError (2) when none is set */
  api(cmd: Command): AdminClient;
}

const processIo: HealthIo = {
  out: (text) => void process.stdout.write(`${text}\n`),
  now: () => Date.now(),
  sqs: async (region, profile) => {
    const { SQSClient } = await import('@aws-sdk/client-sqs');
    return new SQSClient({ ...(region ? { region } : {}), ...(profile ? { profile } : {}), requestHandler: { ...HTTP_TIMEOUTS.control } });
  },
  api: (cmd) => adminTarget(cmd).api,
};

/** The options of `tessera platform health`, with the program's globals. */
export interface HealthOptions {
  region?: string; profile?: string; json?: boolean; prefix: string; config?: string; asOf?: string;
}

/** What `tessera platform health --json` prints. */
export interface HealthReport {
  /** When it was judged (ISO 8601): the clock, or `--as-of`'s day for the model shutdowns. */
  checkedAt: string;
  /** The sources read (or tried). */
  checked: string[];
  findings: HealthFinding[];
  summary: { fail: number; warn: number; info: number };
}

/**
 * Reads every source and judges it (lib/cli/platform/health-rules.ts): the dead-letter queues (SQS, as `tessera dlq
 * list`), the registry's tenants (`GET /admin/tenants`, as `tessera tenants list`: FAILED tenants, stuck operations and
 * leases, DR restore tests, rolling upgrades, account closures), the drift rows (`GET /admin/drift`, as `tessera tenants
 * drift`), the platform's blueprint version (`GET /admin/tiers`) and the model catalog of `--config` (as doctor's
 * model-shutdown lines). Each source that cannot be read gives a `fail` line naming it and its error, and the others are
 * still read.
 * @throws CliError (2) for a bad `--as-of` or no admin API URL; ConfigError (2) for an invalid `--config`
 */
export async function platformHealth(o: HealthOptions, cmd: Command, io: HealthIo = processIo): Promise<HealthReport> {
  let asOf: Date | undefined;
  if (o.asOf !== undefined) {
    try {
      asOf = parseAsOfDay(o.asOf);
    } catch (e) {
      throw new CliError((e as Error).message, 2);
    }
  }
  const { config } = loadConfigReport({ file: o.config });
  const api = io.api(cmd);
  const now = io.now();
  const findings: HealthFinding[] = [];

  // Dead-letter queues.
  try {
    const { listDeadLetterQueues } = await import('./dlq/queues.js');
    const sqs = await io.sqs(o.region, o.profile);
    const queues = await listDeadLetterQueues(sqs, o.prefix, now);
    if (!queues.length) {
      const region = await sqs.config.region().catch(() => o.region ?? 'unknown');
      findings.push({
        severity: 'warn', source: 'dlq',
        what: `no dead-letter queues named ${o.prefix}* in region ${region}: a deployed platform has them in its account and home region (the local platform makes none)`,
        action: `tessera dlq list${sameQueuesOptions(o.prefix, o.profile, o.region)} with the platform account's credentials and its home region (--profile, --region)`,
      });
    }
    findings.push(...dlqFindings(queues, now, sameQueuesOptions(o.prefix, o.profile, o.region)));
  } catch (e) {
    findings.push(unreadable('dlq', `dead-letter queues (${o.prefix}*)`, e, `tessera dlq list${sameQueuesOptions(o.prefix, o.profile, o.region)} once SQS answers: the platform account's credentials (--profile), its home region (--region); AWS_ENDPOINT_URL for the local platform's moto`));
  }

  // The registry's tenants: one read for five sources.
  let tenants: TenantRecord[] | undefined;
  try {
    tenants = await allTenants(api, {});
  } catch (e) {
    findings.push(unreadable('registry', 'the registry (GET /admin/tenants): FAILED tenants, stuck operations, DR restore tests, upgrades and account closures', e));
  }
  let latest: string | undefined;
  try {
    const tiers = await platformTierList(api);
    latest = tiers?.blueprintVersion;
    if (tenants && !latest) findings.push({ severity: 'info', source: 'upgrades', what: 'the admin API does not say the platform\'s blueprint version (GET /admin/tiers predates it): tenants\' versions not compared' });
  } catch (e) {
    findings.push(unreadable('upgrades', 'the platform\'s blueprint version (GET /admin/tiers)', e));
  }
  if (tenants) {
    findings.push(...judgeEach(tenants, 'registry', (t) => `tenant ${String(t.tenantId)}`, (ts) => [
      ...registryFindings(ts), ...lifecycleFindings(ts, now), ...drFindings(ts, now, o.config), ...upgradeFindings(ts, latest), ...closureFindings(ts),
      ...(o.config ? drRegionFindings(ts, config.allowedRegions, o.config) : []),
    ]));
    // The tenants' DR regions against allowedRegions: only those of a config given (the embedded default's are no estate's).
    if (!o.config) findings.push({ severity: 'info', source: 'dr', what: 'the tenants\' DR regions were not compared with allowedRegions: no --config', action: 'before taking a region out of allowedRegions, tessera platform health --config <the config you will deploy>' });
  }

  // Drift.
  let rows: DriftRow[] | undefined;
  try {
    // A record the page names unreadable is named by the registry's finding already (allTenants fails naming it).
    rows = await allDriftRows(api, undefined, () => undefined);
  } catch (e) {
    findings.push(unreadable('drift', 'drift (GET /admin/drift)', e));
  }
  if (rows) findings.push(...judgeEach(rows, 'drift', (r) => `tenant ${String(r.tenantId)}'s drift row`, (rs) => driftFindings(rs, now, new Map((tenants ?? []).map((t) => [t?.tenantId, t?.createdAt])))));

  // The model catalog.
  const today = asOf ?? new Date(now);
  findings.push(...modelFindings(modelShutdownFindings(config.gateway.models, { today, aliases: config.gateway.modelAliases })));

  return {
    checkedAt: new Date(now).toISOString(),
    checked: [`dead-letter queues (${o.prefix}*)`, 'registry', 'drift', `model catalog (${o.config ?? 'embedded default'}, as of ${utcDay(today)})`, ...(o.config ? [`DR regions against allowedRegions (${o.config})`] : [])],
    findings,
    summary: summarize(findings),
  };
}

/**
 * `tessera platform health`: one read-only pass over the running platform that says what needs an operator now, one line
 * per finding (fail, warn, info; what; since when; the command that acts on it) and a summary; `--json` the HealthReport.
 * Exit 0 when nothing fails, 1 when something does (a source that cannot be read counts), 2 when it cannot run (no admin
 * API URL, a bad `--as-of` or `--config`).
 */
export function platformCommand(io: HealthIo = processIo, teardownIo: TeardownIo = teardownProcessIo): Command {
  const platform = new Command('platform').description('the running platform as a whole: health (what needs an operator now), teardown --plan (what stands between it and its removal)');
  platform.command('health')
    .description('what needs an operator now: dead-letter queues with messages, FAILED tenants, stuck operations and leases, drift, DR restore tests, rolling upgrades, model shutdowns, account closures; exit 1 when anything fails')
    .addOption(profileOption())
    .option('--prefix <prefix>', 'dead-letter queue name prefix', DLQ_NAME_PREFIX)
    .option('--config <file>', 'platform config file whose model catalog is checked for OpenAI shutdowns (default: the embedded default) and whose allowedRegions the tenants\' DR regions and queued DR key deletions must be in (not compared without it)')
    .option('--as-of <day>', 'judge the model shutdowns as of YYYY-MM-DD (default: today, UTC)')
    .action(async (_o, cmd: Command) => {
      const o = cmd.optsWithGlobals<HealthOptions>();
      const report = await platformHealth(o, cmd, io);
      io.out(o.json ? JSON.stringify(report, null, 2) : healthLines(report.findings, report.checked).join('\n'));
      process.exitCode = healthExitCode(report.findings);
    });
  platform.command('teardown')
    .description('--plan: what stands between the platform and its removal, in the order docs/upgrading-and-teardown.md acts (tenants not offboarded, tenant keys and account closures waiting, archives kept, tenant and workload stacks, StackSets, the platform\'s stacks and their termination protection, retained tables, buckets with their Object Lock retention, KMS keys, Backup vaults, log groups), each with the command that clears it. Read-only: only List, Describe, Get and Head calls, no AWS write, no state change; the teardown itself is the runbook. Exit 0 when nothing blocks, 1 when something does, 2 when a source could not be read')
    .option('--plan', 'list the blockers (required: the command only plans)')
    .addOption(profileOption())
    .option('--workload-profile <profile>', 'AWS profile of the workload account: tenant stacks, StackSets, tessera-account-baseline, TesseraWorkloadProvisioning (default: --profile)')
    .option('--management-profile <profile>', 'AWS profile of the management account: TesseraOrganization (default: --profile)')
    .option('--dr-region <region>', 'the platform DR region, read as the home region is (default: --config\'s platformDisasterRecovery, else none)')
    .option('--config <file>', 'platform config file whose platformDisasterRecovery names the DR region')
    .option('--max-versions <n>', 'object versions listed per bucket before the count says "+"', '100000')
    .action(async (_o, cmd: Command) => {
      const o = cmd.optsWithGlobals<TeardownOptions>();
      if (!o.plan) throw new CliError('tessera platform teardown needs --plan: it only lists what stands in the way (read-only); the teardown itself is docs/upgrading-and-teardown.md#teardown', 2);
      if (!/^[1-9]\d*$/.test(o.maxVersions ?? '1')) throw new CliError(`--max-versions = "${o.maxVersions}": not a positive whole number`, 2);
      const plan = await platformTeardownPlan(o, cmd, teardownIo);
      teardownIo.out(o.json ? JSON.stringify(plan, null, 2) : teardownLines(plan.blockers, plan.checked).join('\n'));
      process.exitCode = teardownExitCode(plan.blockers);
    });
  return platform;
}
