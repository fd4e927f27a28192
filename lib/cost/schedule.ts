/**
 * How often a schedule expression of AWS Backup (a backup rule, a restore testing plan) fires per
 * month: the quantity behind the usage-priced lines of disaster recovery (copies per month, restore
 * tests per month). Plain strings in, no aws-cdk-lib.
 *
 * Expressions: `cron(Minutes Hours Day-of-month Month Day-of-week Year)` as EventBridge and AWS Backup
 * read them (`*`, `?`, lists, ranges, `a/n` increments, `L`, `W`, `#`, day and month names), and
 * `rate(n unit)`. Sources: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html,
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/API_BackupRule.html (ScheduleExpression).
 */
import { CliError } from '../cli/cli-error.js';

/** Days in the average month (365 / 12), the month the price table's 730 h stand for. */
export const DAYS_PER_MONTH = 365 / 12;

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/**
 * Times `expression` fires in an average month (365 / 12 days): `cron(0 3 * * ? *)` 30.417 (daily),
 * `cron(0 0/1 * * ? *)` 730 (hourly), `cron(0 5 2 * ? *)` 1 (monthly), `rate(6 hours)` 121.667.
 * @param where what the expression belongs to, for the error (e.g. `resource Plan, rule daily`)
 * @throws CliError when the expression is neither a 6-field cron nor a rate
 */
export function runsPerMonth(expression: string, where: string): number {
  const fail = (why: string) => new CliError(`cannot read the schedule ${JSON.stringify(expression)} of ${where}: ${why}`);
  const rate = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1) throw fail('a rate of at least 1');
    const perDay = rate[2]!.startsWith('minute') ? (24 * 60) / n : rate[2]!.startsWith('hour') ? 24 / n : 1 / n;
    return perDay * DAYS_PER_MONTH;
  }
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  const fields = cron?.[1]!.trim().split(/\s+/);
  if (!fields || fields.length !== 6) throw fail('expected cron(Minutes Hours Day-of-month Month Day-of-week Year) or rate(n unit)');
  const [minutes, hours, dom, month, dow] = fields as [string, string, string, string, string];
  const perDay = count(minutes, 0, 59, [], fail) * count(hours, 0, 23, [], fail);
  const any = (f: string) => f === '*' || f === '?';
  let days: number;
  if (!any(dom)) days = count(dom, 1, 31, [], fail); // each listed day once a month (29-31 not in every month: ignored)
  else if (!any(dow)) days = (count(dow, 1, 7, DAY_NAMES, fail) * DAYS_PER_MONTH) / 7;
  else days = DAYS_PER_MONTH;
  return perDay * days * (count(month, 1, 12, MONTH_NAMES, fail) / 12);
}

/** Values one cron field takes within [lo, hi]; `L`, `W` and `#` forms count once. */
function count(field: string, lo: number, hi: number, names: readonly string[], fail: (why: string) => CliError): number {
  if (field === '*' || field === '?') return hi - lo + 1;
  let total = 0;
  for (const part of field.split(',')) {
    if (/^(\d+|[A-Z]{3})?L$|^\d+W$|^LW$|#\d$/.test(part)) { total += 1; continue; }
    const m = /^(\*|[A-Z0-9]+)(?:-([A-Z0-9]+))?(?:\/(\d+))?$/.exec(part.toUpperCase());
    if (!m) throw fail(`cannot read the field ${JSON.stringify(field)}`);
    const value = (v: string) => {
      const i = names.indexOf(v);
      const n = i >= 0 ? i + lo : Number(v);
      if (!Number.isInteger(n) || n < lo || n > hi) throw fail(`${JSON.stringify(v)} is outside ${lo}-${hi} in ${JSON.stringify(field)}`);
      return n;
    };
    const from = m[1] === '*' ? lo : value(m[1]!);
    const to = m[2] !== undefined ? value(m[2]) : m[3] !== undefined || m[1] === '*' ? hi : from;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (step < 1 || to < from) throw fail(`cannot read the field ${JSON.stringify(field)}`);
    total += Math.floor((to - from) / step) + 1;
  }
  return total;
}
