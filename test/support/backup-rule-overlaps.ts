/**
 * Which rule of an AWS Backup plan (its CloudFormation `BackupPlanRule` list) takes the backup when the start windows of
 * several rules overlap, by AWS's documented rule: "If you have a backup plan with multiple rules and the time frames of
 * the two rules overlap, AWS Backup optimizes the backup and takes a backup for the rule with the longer retention time.
 * The optimization takes into account the full start window, not just when the daily backup is taken."
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html). A rule's copy actions run
 * only with its own backup ("the copy rule will only run if the schedule rule has run",
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/understanding-backup-plan-summaries.html).
 *
 * The cron evaluator covers what the plans here use: `cron(min hour dom month dow year)` in UTC, each field `*`, `?`, a
 * number, `a/b` or a comma list of those; dow `?` or `*` only.
 */

/** A rule as synthesized (AWS::Backup::BackupPlan BackupPlanRule). */
export interface BackupPlanRuleJson {
  readonly RuleName: string;
  readonly ScheduleExpression: string;
  /** @default 480 (AWS Backup's 8 hours when absent) */
  readonly StartWindowMinutes?: number;
  readonly Lifecycle?: { readonly DeleteAfterDays?: number };
  readonly CopyActions?: ReadonlyArray<{ readonly DestinationBackupVaultArn: unknown }>;
}

/** One scheduled run of `rule` and the rule whose backup (and copy actions) AWS Backup takes for it. */
export interface ResolvedRun {
  readonly rule: string;
  /** The run's scheduled start, ISO 8601 UTC. */
  readonly at: string;
  readonly takenBy: BackupPlanRuleJson;
}

const DEFAULT_START_WINDOW_MINUTES = 8 * 60;

function fieldMatches(field: string, value: number, first: number): boolean {
  if (field === '*' || field === '?') return true;
  return field.split(',').some((part) => {
    const [base, step] = part.split('/');
    if (step !== undefined) {
      const start = base === '*' ? first : Number(base);
      return value >= start && (value - start) % Number(step) === 0;
    }
    return Number(part) === value;
  });
}

/** Start times (epoch ms) of `expression` in [from, to). Throws on a form outside the evaluator's scope. */
export function cronStarts(expression: string, from: Date, to: Date): number[] {
  const m = /^cron\((.+)\)$/.exec(expression);
  if (!m) throw new Error(`not a cron expression: ${expression}`);
  const [minute, hour, dom, month, dow, year] = m[1].trim().split(/\s+/);
  if (dow !== '?' && dow !== '*') throw new Error(`day-of-week ${dow} is outside this evaluator (${expression})`);
  const starts: number[] = [];
  for (let t = from.getTime(); t < to.getTime(); t += 60_000) {
    const d = new Date(t);
    if (fieldMatches(minute, d.getUTCMinutes(), 0) && fieldMatches(hour, d.getUTCHours(), 0) && fieldMatches(dom, d.getUTCDate(), 1)
      && fieldMatches(month, d.getUTCMonth() + 1, 1) && fieldMatches(year ?? '*', d.getUTCFullYear(), 1970)) starts.push(t);
  }
  return starts;
}

/**
 * Every run of `ruleName` in [from, to) with the rule AWS Backup takes for it: of the runs (of any rule) whose start
 * windows overlap its own, the rule with the longest retention (DeleteAfterDays; none = kept forever).
 */
export function resolveRuns(rules: readonly BackupPlanRuleJson[], ruleName: string, from: Date, to: Date): ResolvedRun[] {
  // Runs that start up to a window before `from` still overlap the first ones.
  const earlier = new Date(from.getTime() - DEFAULT_START_WINDOW_MINUTES * 60_000);
  const windows = rules.flatMap((rule) => cronStarts(rule.ScheduleExpression, earlier, to)
    .map((start) => ({ rule, start, end: start + (rule.StartWindowMinutes ?? DEFAULT_START_WINDOW_MINUTES) * 60_000 })));
  const retention = (r: BackupPlanRuleJson) => r.Lifecycle?.DeleteAfterDays ?? Number.POSITIVE_INFINITY;
  return windows.filter((w) => w.rule.RuleName === ruleName && w.start >= from.getTime()).map((run) => {
    const overlapping = windows.filter((w) => w.start < run.end && run.start < w.end);
    const takenBy = overlapping.reduce((a, b) => (retention(b.rule) > retention(a.rule) ? b : a)).rule;
    return { rule: ruleName, at: new Date(run.start).toISOString(), takenBy };
  });
}
