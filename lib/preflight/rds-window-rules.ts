/**
 * An RDS DB instance's backup and maintenance windows, and the AWS Backup runs they hold up: service rules
 * (lib/preflight/service-rules.ts) over every stack of a tier (the tier blueprint, and the DR, failover, namespace and
 * baseline stacks the preflight deploys with it). RDS refuses windows that are malformed, shorter than 30 minutes or
 * overlapping; moto stores them as given. AWS Backup refuses nothing here: it does not start a backup of the instance in
 * the hour before its maintenance window or during it, so a rule's run whose whole start window falls there never starts
 * (its job expires), and the recovery point of that run, with its cross-Region copy, is missing once a week.
 */
import type { InstantiatedResource, InstantiatedTemplate } from './instantiate.js';
import type { RuleContext, ServiceRule } from './service-rules.js';

const DB_INSTANCE = 'AWS::RDS::DBInstance';
const PLAN = 'AWS::Backup::BackupPlan';
const SELECTION = 'AWS::Backup::BackupSelection';
const DAY = 1440;
const WEEK = 7 * DAY;
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** RDS's shortest backup and maintenance window, in minutes (CreateDBInstance: "Must be at least 30 minutes"). */
export const RDS_MIN_WINDOW_MINUTES = 30;
/**
 * How long before an RDS maintenance window AWS Backup starts no backup of the instance, in minutes (AWS Backup
 * Developer Guide, Backup plan options and configuration, Backup window: database backups do not start in the hour
 * before the maintenance window or during it; Aurora is exempt, Amazon FSx blocks four hours).
 */
export const BACKUP_BLACKOUT_BEFORE_MAINTENANCE_MINUTES = 60;
/** AWS Backup's start window when a rule sets no StartWindowMinutes: 8 hours (BackupRuleInput: the default start window). */
export const DEFAULT_START_WINDOW_MINUTES = 480;
/** The weekly maintenance window RDS assigns when none is set: 30 minutes on a random day at a random time of the Region's 8-hour block. */
export const RDS_DEFAULT_MAINTENANCE_MINUTES = 30;

/** A window as minutes: `start` from Monday 00:00 UTC (weekly) or from 00:00 UTC (daily), `length` in minutes. */
export interface Window { readonly start: number; readonly length: number }

const hhmi = (h: string, m: string): number | undefined => (Number(h) <= 23 && Number(m) <= 59 ? Number(h) * 60 + Number(m) : undefined);

/**
 * A PreferredBackupWindow, `hh24:mi-hh24:mi` (UTC, daily; may cross midnight), as minutes, or why RDS refuses it.
 * @param value the resolved property
 */
export function dailyWindow(value: unknown): Window | string {
  const m = typeof value === 'string' ? /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(value) : null;
  const start = m ? hhmi(m[1], m[2]) : undefined;
  const end = m ? hhmi(m[3], m[4]) : undefined;
  if (start === undefined || end === undefined) return `${JSON.stringify(value)} is not hh24:mi-hh24:mi`;
  const length = (end - start + DAY) % DAY;
  return length < RDS_MIN_WINDOW_MINUTES ? `"${value as string}" is ${length} minutes, under ${RDS_MIN_WINDOW_MINUTES}` : { start, length };
}

/**
 * A PreferredMaintenanceWindow, `ddd:hh24:mi-ddd:hh24:mi` (UTC, weekly; days mon-sun, case-insensitive), as minutes
 * from Monday 00:00, or why RDS refuses it.
 * @param value the resolved property
 */
export function weeklyWindow(value: unknown): Window | string {
  const m = typeof value === 'string' ? /^([a-z]{3}):(\d{2}):(\d{2})-([a-z]{3}):(\d{2}):(\d{2})$/i.exec(value) : null;
  const day = (d: string) => WEEKDAYS.indexOf(d.toLowerCase() as (typeof WEEKDAYS)[number]);
  const start = m && day(m[1]) >= 0 ? hhmi(m[2], m[3]) : undefined;
  const end = m && day(m[4]) >= 0 ? hhmi(m[5], m[6]) : undefined;
  if (!m || start === undefined || end === undefined) return `${JSON.stringify(value)} is not ddd:hh24:mi-ddd:hh24:mi (ddd mon-sun)`;
  const s = day(m[1]) * DAY + start;
  const length = (day(m[4]) * DAY + end - s + WEEK) % WEEK;
  return length < RDS_MIN_WINDOW_MINUTES ? `"${value as string}" is ${length} minutes, under ${RDS_MIN_WINDOW_MINUTES}` : { start: s, length };
}

/** Whether [a, a+al) and [b, b+bl) meet on a circle of `period` minutes. */
function meet(a: number, al: number, b: number, bl: number, period: number): boolean {
  const d = (((b - a) % period) + period) % period; // b's start after a's
  return d < al || period - d < bl;
}

/** Whether [a, a+al) lies within [b, b+bl) on a circle of `period` minutes. */
function within(a: number, al: number, b: number, bl: number, period: number): boolean {
  const d = (((a - b) % period) + period) % period; // a's start after b's
  return d + al <= bl;
}

/**
 * The minutes from Monday 00:00 UTC at which an AWS Backup cron schedule can run in a week: its minute and hours on
 * every day of the week (a rule limited to some days of the month or week can fall on any weekday, so every day counts).
 * Undefined when the minutes or hours field is not one a Tessera plan uses (a number; `*`, `a/n`, `a-b`, lists).
 * @param expression `cron(minutes hours day-of-month month day-of-week year)`, resolved
 */
export function weeklyRunMinutes(expression: unknown): number[] | undefined {
  const fields = typeof expression === 'string' ? /^cron\((.*)\)$/.exec(expression.trim())?.[1].trim().split(/\s+/) : undefined;
  if (!fields || fields.length !== 6 || !/^\d{1,2}$/.test(fields[0])) return undefined;
  const hours = new Set<number>();
  for (const part of fields[1].split(',')) {
    const p = /^(\*|\d{1,2})(?:-(\d{1,2}))?(?:\/(\d{1,2}))?$/.exec(part);
    if (!p) return undefined;
    const from = p[1] === '*' ? 0 : Number(p[1]);
    const to = p[2] !== undefined ? Number(p[2]) : p[1] === '*' || p[3] !== undefined ? 23 : from;
    for (let h = from; h <= to; h += Number(p[3] ?? 1)) hours.add(h);
  }
  const minute = Number(fields[0]);
  return WEEKDAYS.flatMap((_, d) => [...hours].map((h) => d * DAY + h * 60 + minute));
}

/** Every stack of the tier the rules read, each with the label its violations carry (none for the tier blueprint). */
function stacksOf({ inst, alsoDeployed }: RuleContext): Array<{ label: string; inst: InstantiatedTemplate }> {
  return [{ label: '', inst }, ...(alsoDeployed ?? []).map((d) => ({ label: `${d.blueprint}: `, inst: d.inst }))];
}
const resourcesOf = (inst: InstantiatedTemplate, type: string): InstantiatedResource[] => Object.values(inst.resources).filter((r) => r.type === type);

interface PlanRuleJson { readonly RuleName?: string; readonly ScheduleExpression?: unknown; readonly StartWindowMinutes?: unknown }

/** The DB instances of `inst` that a backup selection of `plan` names by ARN (`…:db:<DBInstanceIdentifier>`). */
function instancesOfPlan(inst: InstantiatedTemplate, plan: InstantiatedResource): InstantiatedResource[] {
  const arns = resourcesOf(inst, SELECTION)
    .filter((s) => s.props.BackupPlanId === plan.physicalId || inst.referencesOf(s.logicalId).includes(plan.logicalId))
    .flatMap((s) => ((s.props.BackupSelection as { Resources?: unknown[] } | undefined)?.Resources ?? []).map(String));
  return resourcesOf(inst, DB_INSTANCE).filter((db) => arns.some((a) => a.endsWith(`:db:${String(db.props.DBInstanceIdentifier)}`)));
}

/**
 * Why `rule`'s runs can find no minute to start outside the blackout of `db`'s maintenance window, or undefined: a run
 * never starts when its whole start window lies in the hour before the maintenance window or in it. Without a
 * PreferredMaintenanceWindow, RDS's 30 minutes fall anywhere in the week, so any start window up to 90 minutes can.
 */
function lostRunProblem(db: InstantiatedResource, rule: PlanRuleJson): string | undefined {
  const startWindow = rule.StartWindowMinutes === undefined ? DEFAULT_START_WINDOW_MINUTES : Number(rule.StartWindowMinutes);
  const maintenance = db.props.PreferredMaintenanceWindow;
  if (maintenance === undefined) {
    const blackout = BACKUP_BLACKOUT_BEFORE_MAINTENANCE_MINUTES + RDS_DEFAULT_MAINTENANCE_MINUTES;
    return startWindow <= blackout
      ? `${db.logicalId} sets no PreferredMaintenanceWindow: RDS picks 30 minutes anywhere in the week, and AWS Backup starts no backup of it in the hour before them or during them (${blackout} minutes), so the ${startWindow}-minute start window of a run of rule ${rule.RuleName} can fall wholly inside and the run never starts: set PreferredMaintenanceWindow clear of the rule's runs`
      : undefined;
  }
  const window = weeklyWindow(maintenance);
  const runs = weeklyRunMinutes(rule.ScheduleExpression);
  if (typeof window === 'string' || !runs) return undefined; // malformed windows and schedules are other rules' findings
  const blackoutStart = window.start - BACKUP_BLACKOUT_BEFORE_MAINTENANCE_MINUTES;
  const blackoutLength = window.length + BACKUP_BLACKOUT_BEFORE_MAINTENANCE_MINUTES;
  const lost = runs.filter((t) => within(t, startWindow, blackoutStart, blackoutLength, WEEK));
  if (!lost.length) return undefined;
  const at = (t: number) => `${WEEKDAYS[Math.floor(t / DAY)]} ${String(Math.floor((t % DAY) / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
  return `rule ${rule.RuleName}'s run at ${lost.map(at).join(', ')} UTC (start window ${startWindow} minutes) lies wholly in the hour before ${db.logicalId}'s PreferredMaintenanceWindow ${String(maintenance)} or in it, when AWS Backup starts no backup of the instance: that run never starts`;
}

export const RDS_WINDOW_RULES: readonly ServiceRule[] = [
  {
    id: 'rds-backup-maintenance-windows',
    statement: `An RDS DB instance's PreferredBackupWindow is hh24:mi-hh24:mi and its PreferredMaintenanceWindow ddd:hh24:mi-ddd:hh24:mi (UTC), each at least ${RDS_MIN_WINDOW_MINUTES} minutes, and the two do not overlap, in every stack of the tier.`,
    source: 'https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html (PreferredBackupWindow, PreferredMaintenanceWindow: "Must be in the format hh24:mi-hh24:mi" / "ddd:hh24:mi-ddd:hh24:mi", "Must not conflict with the preferred maintenance window", "Must be at least 30 minutes"); https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ManagingAutomatedBackups.html ("The backup window can\'t overlap with the weekly maintenance window")',
    appliesTo: [DB_INSTANCE],
    check: (ctx) => stacksOf(ctx).flatMap(({ label, inst }) => resourcesOf(inst, DB_INSTANCE).flatMap((db) => {
      const out: string[] = [];
      const b = db.props.PreferredBackupWindow === undefined ? undefined : dailyWindow(db.props.PreferredBackupWindow);
      const m = db.props.PreferredMaintenanceWindow === undefined ? undefined : weeklyWindow(db.props.PreferredMaintenanceWindow);
      if (typeof b === 'string') out.push(`${label}${db.logicalId}: PreferredBackupWindow ${b}`);
      if (typeof m === 'string') out.push(`${label}${db.logicalId}: PreferredMaintenanceWindow ${m}`);
      if (b && m && typeof b !== 'string' && typeof m !== 'string' && WEEKDAYS.some((_, d) => meet(d * DAY + b.start, b.length, m.start, m.length, WEEK))) {
        out.push(`${label}${db.logicalId}: PreferredBackupWindow ${String(db.props.PreferredBackupWindow)} overlaps PreferredMaintenanceWindow ${String(db.props.PreferredMaintenanceWindow)}`);
      }
      return out;
    })),
  },
  {
    id: 'backup-runs-clear-rds-maintenance',
    statement: `Every run of a Backup plan rule that backs up an RDS DB instance can start outside the hour before the instance's maintenance window and the window itself (a start window longer than that blackout, ${BACKUP_BLACKOUT_BEFORE_MAINTENANCE_MINUTES} + ${RDS_DEFAULT_MAINTENANCE_MINUTES} minutes when RDS picks the window, or a PreferredMaintenanceWindow clear of the rule's runs), in every stack of the tier: a run that cannot start leaves its recovery point and its DR copy out once a week, which breaks the tier's rpoHours.`,
    source: 'https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html (Backup window: database backups do not start in the hour before the maintenance window or during it; Aurora exempt); https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRuleInput.html (StartWindowMinutes: the job is canceled if it does not start within it); https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html (PreferredMaintenanceWindow default: "a 30-minute window selected at random from an 8-hour block of time for each Amazon Web Services Region, occurring on a random day of the week")',
    appliesTo: [PLAN],
    check: (ctx) => stacksOf(ctx).flatMap(({ label, inst }) => resourcesOf(inst, PLAN).flatMap((plan) => {
      const rules = ((plan.props.BackupPlan as { BackupPlanRule?: PlanRuleJson[] } | undefined)?.BackupPlanRule) ?? [];
      return instancesOfPlan(inst, plan).flatMap((db) => rules.flatMap((r) => {
        const why = lostRunProblem(db, r);
        return why ? [`${label}${plan.logicalId}: ${why}`] : [];
      }));
    })),
  },
];
