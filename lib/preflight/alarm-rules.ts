/**
 * What CloudWatch's PutMetricAlarm refuses in an alarm's period and evaluation range, which moto (the integration
 * tests' fake) takes as given: a service rule (lib/preflight/service-rules.ts) over every stack of a tier (the
 * dead-letter queue alarms) and the platform stack (the Operations stack's monitoring alarms).
 */
import type { InstantiatedResource } from './instantiate.js';
import { numberOr, resourcesOf, stacksOf } from './rule-stacks.js';
import type { ServiceRule } from './service-rules.js';

const ALARM = 'AWS::CloudWatch::Alarm';

/** The longest evaluation range, Period × EvaluationPeriods, of any alarm: seven days. */
export const ALARM_MAX_RANGE_SECONDS = 604_800;
/** The longest evaluation range of an alarm whose period is under one hour: one day. */
export const ALARM_MAX_RANGE_SHORT_PERIOD_SECONDS = 86_400;
/** The period under which an alarm's range is bounded by {@link ALARM_MAX_RANGE_SHORT_PERIOD_SECONDS}. */
export const ALARM_SHORT_PERIOD_SECONDS = 3_600;

/** Whether `seconds` is a period CloudWatch takes: "Valid values are 10, 20, 30, and any multiple of 60". */
const validPeriod = (seconds: number) => [10, 20, 30].includes(seconds) || (Number.isInteger(seconds) && seconds > 0 && seconds % 60 === 0);

/** The periods of an alarm: its own Period, or each Metrics[].MetricStat.Period of a metric math alarm. */
function periodsOf(alarm: InstantiatedResource): Array<{ where: string; period: number }> {
  if (alarm.props.Period !== undefined) return [{ where: 'Period', period: numberOr(alarm.props.Period, Number.NaN) }];
  const metrics = (alarm.props.Metrics as Array<{ Id?: string; MetricStat?: { Period?: unknown } }> | undefined) ?? [];
  return metrics.filter((m) => m.MetricStat?.Period !== undefined).map((m) => ({ where: `Metrics[${m.Id ?? '?'}].MetricStat.Period`, period: numberOr(m.MetricStat!.Period, Number.NaN) }));
}

/**
 * Why PutMetricAlarm refuses `alarm`'s period or evaluation range, or nothing: a period other than 10, 20, 30 or a
 * multiple of 60; Period × EvaluationPeriods over seven days (604,800 s), or over one day (86,400 s) for a period
 * under one hour. Source: CloudWatch API Reference, PutMetricAlarm, Period ("Valid values are 10, 20, 30, and any
 * multiple of 60. … An alarm's total current evaluation period can be no longer than seven days, so Period multiplied
 * by EvaluationPeriods can't be more than 604,800 seconds. For alarms with a period of less than one hour (3,600
 * seconds), the total evaluation period can't be longer than one day (86,400 seconds)",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
 */
export function alarmRangeProblems(alarm: InstantiatedResource): string[] {
  const evaluations = numberOr(alarm.props.EvaluationPeriods, Number.NaN);
  return periodsOf(alarm).flatMap(({ where, period }) => {
    if (!validPeriod(period)) return [`${alarm.logicalId}: ${where} ${period} s is not 10, 20, 30 or a multiple of 60`];
    const limit = period < ALARM_SHORT_PERIOD_SECONDS ? ALARM_MAX_RANGE_SHORT_PERIOD_SECONDS : ALARM_MAX_RANGE_SECONDS;
    const range = period * evaluations;
    return range > limit ? [`${alarm.logicalId}: ${where} ${period} s × EvaluationPeriods ${evaluations} = ${range} s, over ${limit.toLocaleString('en-US')} s`] : [];
  });
}

export const ALARM_RULES: readonly ServiceRule[] = [
  {
    id: 'cloudwatch-alarm-evaluation-range',
    statement: `An alarm's period is 10, 20, 30 or a multiple of 60 seconds, and Period × EvaluationPeriods is at most ${ALARM_MAX_RANGE_SECONDS.toLocaleString('en-US')} s (${ALARM_MAX_RANGE_SHORT_PERIOD_SECONDS.toLocaleString('en-US')} s for a period under one hour), in every stack of the tier and in the platform stack.`,
    source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html (Period)',
    appliesTo: [ALARM],
    readsEveryStack: true,
    check: (ctx) => stacksOf(ctx, { platform: true }).flatMap(({ label, inst }) => resourcesOf(inst, ALARM).flatMap((a) => alarmRangeProblems(a).map((v) => `${label}${v}`))),
  },
];
