/**
 * The values of AWS Backup resources that AWS Backup itself validates when CloudFormation creates or updates them, and
 * that moto (the integration tests' fake) takes as they come: the service rules (lib/preflight/service-rules.ts) over
 * every AWS::Backup::BackupPlan, AWS::Backup::RestoreTestingPlan and AWS::Backup::RestoreTestingSelection of a tier's
 * stacks (the tier blueprint, and the DR, failover, namespace and baseline stacks the preflight deploys with it), and
 * the plan rules over the platform stack's Backup plan too (the registry's hourly plan, copied to the platform's DR
 * Region).
 */
import type { InstantiatedResource, InstantiatedTemplate } from './instantiate.js';
import type { RuleContext, ServiceRule } from './service-rules.js';
import { stacksOf } from './rule-stacks.js';

/** A Lifecycle of a rule or of a copy action (AWS Backup API data type Lifecycle). */
interface LifecycleJson { readonly DeleteAfterDays?: unknown; readonly MoveToColdStorageAfterDays?: unknown }
/** A BackupPlanRule as CloudFormation sends it (AWS::Backup::BackupPlan BackupRuleResourceType), resolved. */
interface PlanRuleJson {
  readonly RuleName?: string;
  readonly ScheduleExpression?: unknown;
  readonly StartWindowMinutes?: unknown;
  readonly Lifecycle?: LifecycleJson;
  readonly CopyActions?: ReadonlyArray<{ readonly DestinationBackupVaultArn?: unknown; readonly Lifecycle?: LifecycleJson }>;
}

/**
 * StartWindowMinutes' bounds: "If this value is included, it must be at least 60 minutes to avoid errors. This
 * parameter has a maximum value of 100 years (52,560,000 minutes)." (AWS Backup API Reference, BackupRuleInput,
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRuleInput.html).
 */
export const BACKUP_START_WINDOW_MINUTES = { min: 60, max: 52_560_000 } as const;

/**
 * A restore testing plan's StartWindowHours, 1 to 168 hours (AWS Backup API Reference, RestoreTestingPlanForCreate,
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RestoreTestingPlanForCreate.html; 24 when absent).
 */
export const RESTORE_TEST_START_WINDOW_HOURS = { min: 1, max: 168 } as const;

/**
 * SelectionWindowDays of a restore testing plan's RecoveryPointSelection: "Value must be an integer (in days) from 1 to
 * 365. If not included, the value defaults to 30." (RestoreTestingPlanForCreate, same page).
 */
export const RESTORE_TEST_SELECTION_WINDOW_DAYS = { min: 1, max: 365 } as const;

/**
 * A restore testing selection's ValidationWindowHours: "This is amount of hours (0 to 168) available to run a
 * validation script on the data." (AWS Backup API Reference, RestoreTestingSelectionForCreate,
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RestoreTestingSelectionForCreate.html).
 */
export const RESTORE_TEST_VALIDATION_WINDOW_HOURS = { min: 0, max: 168 } as const;

/**
 * The RestoreMetadataOverrides keys AWS Backup takes for an RDS restore test (ProtectedResourceType `RDS`), lower-cased:
 * the "Overridable metadata" of the Amazon RDS row of AWS Backup's restore testing inferred metadata table ("Note that
 * key values are not case sensitive"), https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html.
 * `vpcSecurityGroupIds` is a JSON array in a string (`["sg-…"]`), as the key's value is a string.
 */
export const RDS_RESTORE_METADATA_OVERRIDE_KEYS: ReadonlySet<string> = new Set([
  'allocatedstorage', 'availabilityzone', 'dbinstanceclass', 'dbsubnetgroupname', 'iops', 'multiaz', 'optiongroupname',
  'port', 'storagetype', 'vpcsecuritygroupids',
]);

/** Why an RDS restore testing selection's override `key` = `value` is not one AWS Backup takes, or undefined. */
export function rdsOverrideProblem(key: string, value: unknown): string | undefined {
  if (!RDS_RESTORE_METADATA_OVERRIDE_KEYS.has(key.toLowerCase())) return `key "${key}" is not an overridable RDS restore metadata key (${[...RDS_RESTORE_METADATA_OVERRIDE_KEYS].join(', ')}, any case)`;
  if (key.toLowerCase() !== 'vpcsecuritygroupids') return undefined;
  let ids: unknown;
  try { ids = typeof value === 'string' ? JSON.parse(value) : undefined; } catch { ids = undefined; }
  return Array.isArray(ids) && ids.length > 0 && ids.every((x) => typeof x === 'string') ? undefined : `key "${key}" is ${JSON.stringify(value)}, not a JSON array of security group ids in a string`;
}

const resourcesOf = (inst: InstantiatedTemplate, type: string): InstantiatedResource[] => Object.values(inst.resources).filter((r) => r.type === type);
const rulesOf = (plan: InstantiatedResource): PlanRuleJson[] => ((plan.props.BackupPlan as { BackupPlanRule?: PlanRuleJson[] } | undefined)?.BackupPlanRule) ?? [];

/**
 * Each violation `check` finds in each resource of `type` of every stack of the tier and, with `platform`, of the
 * platform stack (its registry backup plan, copied to the platform's DR Region), prefixed with the stack's label.
 */
function overStacks(ctx: RuleContext, type: string, check: (r: InstantiatedResource) => string[], { platform = false }: { readonly platform?: boolean } = {}): string[] {
  return stacksOf(ctx, { platform }).flatMap(({ label, inst }) => resourcesOf(inst, type).flatMap((r) => check(r).map((v) => `${label}${v}`)));
}

/** Whether `value` is a whole number from `min` to `max` (a number or a numeric string, as parameters resolve). */
function wholeWithin(value: unknown, { min, max }: { readonly min: number; readonly max: number }): boolean {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
}

/**
 * Why a Backup rule's schedule could run more often than hourly, or is not an AWS Backup cron expression, or undefined.
 * AWS Backup takes `cron(minutes hours day-of-month month day-of-week year)` (six fields) and schedules snapshot backups
 * "as frequently as hourly" (AWS Backup Developer Guide, Backup plan options and configuration, Backup frequency,
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html): the minutes field must be
 * one minute, 0-59 (a list, range, step or `*` there is several runs an hour).
 * @param expression the resolved ScheduleExpression
 */
export function scheduleProblem(expression: unknown): string | undefined {
  const match = typeof expression === 'string' ? /^cron\((.*)\)$/.exec(expression.trim()) : null;
  if (!match) return `${JSON.stringify(expression)} is not a cron(...) expression`;
  const fields = match[1].trim().split(/\s+/);
  if (fields.length !== 6) return `"${expression as string}" has ${fields.length} fields, not 6 (minutes hours day-of-month month day-of-week year)`;
  if (!/^\d{1,2}$/.test(fields[0]) || Number(fields[0]) > 59) return `"${expression as string}" runs more often than hourly (minutes field "${fields[0]}": one minute, 0-59, is AWS Backup's most frequent schedule)`;
  return undefined;
}

const PLAN = 'AWS::Backup::BackupPlan';
const TESTING_PLAN = 'AWS::Backup::RestoreTestingPlan';
const TESTING_SELECTION = 'AWS::Backup::RestoreTestingSelection';

/** The Lifecycle's 90 days in cold storage, or a violation naming `where`. */
function coldStorageViolation(where: string, lifecycle: LifecycleJson | undefined): string[] {
  if (lifecycle?.MoveToColdStorageAfterDays === undefined) return [];
  const cold = Number(lifecycle.MoveToColdStorageAfterDays);
  if (lifecycle.DeleteAfterDays !== undefined && Number(lifecycle.DeleteAfterDays) >= cold + 90) return [];
  return [`${where}: DeleteAfterDays ${String(lifecycle.DeleteAfterDays)} < MoveToColdStorageAfterDays ${cold} + 90`];
}

export const BACKUP_RULES: readonly ServiceRule[] = [
  {
    // No Tessera plan moves anything to cold storage (the tenant plans back up RDS only, which has none:
    // constructs/tenant-database.ts): the 90-day minimum is CreateBackupPlan's constraint on any Lifecycle, a rule's
    // or a copy action's, so a plan that sets MoveToColdStorageAfterDays again is checked. It finds nothing in the
    // blueprints today; it does not say that cold storage applies.
    id: 'backup-cold-storage-90-days',
    statement: 'A Backup plan rule or copy action that moves recovery points to cold storage keeps them at least 90 days there (DeleteAfterDays ≥ MoveToColdStorageAfterDays + 90), in every stack of the tier and in the platform stack.',
    source: 'https://docs.aws.amazon.com/aws-backup/latest/devguide/API_Lifecycle.html ("Backups transitioned to cold storage must be stored in cold storage for a minimum of 90 days"); https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CopyAction.html (a copy action\'s Lifecycle is that data type)',
    appliesTo: [PLAN],
    check: (ctx) => overStacks(ctx, PLAN, (p) => rulesOf(p).flatMap((r) => [
      ...coldStorageViolation(`${p.logicalId} rule ${r.RuleName}`, r.Lifecycle),
      ...(r.CopyActions ?? []).flatMap((c, i) => coldStorageViolation(`${p.logicalId} rule ${r.RuleName} copy action ${i} (to ${String(c.DestinationBackupVaultArn)})`, c.Lifecycle)),
    ]), { platform: true }),
  },
  {
    id: 'backup-rule-start-window',
    statement: `A Backup plan rule's StartWindowMinutes, when set, is ${BACKUP_START_WINDOW_MINUTES.min} to ${BACKUP_START_WINDOW_MINUTES.max.toLocaleString('en-US')} minutes, in every stack of the tier and in the platform stack.`,
    source: 'https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRuleInput.html',
    appliesTo: [PLAN],
    check: (ctx) => overStacks(ctx, PLAN, (p) => rulesOf(p).filter((r) => r.StartWindowMinutes !== undefined && !wholeWithin(r.StartWindowMinutes, BACKUP_START_WINDOW_MINUTES))
      .map((r) => `${p.logicalId} rule ${r.RuleName}: StartWindowMinutes ${String(r.StartWindowMinutes)} is not ${BACKUP_START_WINDOW_MINUTES.min}-${BACKUP_START_WINDOW_MINUTES.max}`), { platform: true }),
  },
  {
    id: 'backup-rule-schedule-hourly-at-most',
    statement: 'A Backup plan rule\'s ScheduleExpression is a six-field cron(...) expression that runs at most hourly (one minute in the minutes field), in every stack of the tier and in the platform stack.',
    source: 'https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html ("You can also create a cron expression that creates snapshot backups as frequently as hourly")',
    appliesTo: [PLAN],
    check: (ctx) => overStacks(ctx, PLAN, (p) => rulesOf(p).flatMap((r) => {
      const why = scheduleProblem(r.ScheduleExpression);
      return why ? [`${p.logicalId} rule ${r.RuleName}: ScheduleExpression ${why}`] : [];
    }), { platform: true }),
  },
  {
    id: 'backup-restore-testing-windows',
    statement: `A restore testing plan's StartWindowHours is ${RESTORE_TEST_START_WINDOW_HOURS.min}-${RESTORE_TEST_START_WINDOW_HOURS.max} and its RecoveryPointSelection's SelectionWindowDays ${RESTORE_TEST_SELECTION_WINDOW_DAYS.min}-${RESTORE_TEST_SELECTION_WINDOW_DAYS.max}; a restore testing selection's ValidationWindowHours is ${RESTORE_TEST_VALIDATION_WINDOW_HOURS.min}-${RESTORE_TEST_VALIDATION_WINDOW_HOURS.max} (each whole, when set), in every stack of the tier.`,
    source: 'https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RestoreTestingPlanForCreate.html; https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RestoreTestingSelectionForCreate.html',
    appliesTo: [TESTING_PLAN, TESTING_SELECTION],
    check: (ctx) => [
      ...overStacks(ctx, TESTING_PLAN, (p) => {
        const out: string[] = [];
        const start = p.props.StartWindowHours;
        if (start !== undefined && !wholeWithin(start, RESTORE_TEST_START_WINDOW_HOURS)) out.push(`${p.logicalId}: StartWindowHours ${String(start)} is not ${RESTORE_TEST_START_WINDOW_HOURS.min}-${RESTORE_TEST_START_WINDOW_HOURS.max}`);
        const days = (p.props.RecoveryPointSelection as { SelectionWindowDays?: unknown } | undefined)?.SelectionWindowDays;
        if (days !== undefined && !wholeWithin(days, RESTORE_TEST_SELECTION_WINDOW_DAYS)) out.push(`${p.logicalId}: RecoveryPointSelection.SelectionWindowDays ${String(days)} is not ${RESTORE_TEST_SELECTION_WINDOW_DAYS.min}-${RESTORE_TEST_SELECTION_WINDOW_DAYS.max}`);
        return out;
      }),
      ...overStacks(ctx, TESTING_SELECTION, (s) => {
        const hours = s.props.ValidationWindowHours;
        return hours !== undefined && !wholeWithin(hours, RESTORE_TEST_VALIDATION_WINDOW_HOURS)
          ? [`${s.logicalId}: ValidationWindowHours ${String(hours)} is not ${RESTORE_TEST_VALIDATION_WINDOW_HOURS.min}-${RESTORE_TEST_VALIDATION_WINDOW_HOURS.max}`] : [];
      }),
    ],
  },
  {
    id: 'backup-restore-testing-rds-overrides',
    statement: 'An RDS restore testing selection overrides only the restore metadata keys AWS Backup lists as overridable for Amazon RDS (any case), and vpcSecurityGroupIds is a JSON array of ids in a string, in every stack of the tier.',
    source: 'https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html (Amazon RDS: Overridable metadata; "key values are not case sensitive"); https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RestoreTestingSelectionForCreate.html (RestoreMetadataOverrides)',
    appliesTo: [TESTING_SELECTION],
    check: (ctx) => overStacks(ctx, TESTING_SELECTION, (s) => {
      if (s.props.ProtectedResourceType !== 'RDS') return [];
      return Object.entries((s.props.RestoreMetadataOverrides as Record<string, unknown> | undefined) ?? {}).flatMap(([key, value]) => {
        const why = rdsOverrideProblem(key, value);
        return why ? [`${s.logicalId}: RestoreMetadataOverrides ${why}`] : [];
      });
    }),
  },
];
