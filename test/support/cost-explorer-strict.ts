import { CostExplorerClient, CostExplorerServiceException, Dimension, GetCostAndUsageCommand, type Expression, type GetCostAndUsageCommandInput } from '@aws-sdk/client-cost-explorer';
import { mockClient } from 'aws-sdk-client-mock';
import { strictMock } from './strict-mock.js';

/**
 * The Cost Explorer mock's strict mode: the checks Cost Explorer applies to a GetCostAndUsage request, so that a
 * request the product sends and Cost Explorer would refuse is refused in the tests too, with Cost Explorer's
 * `ValidationException` (HTTP 400) instead of the scripted answer. Only rules with a source are here; each names it:
 *
 * - the Billing and Cost Management API Reference (docs.aws.amazon.com/aws-cost-management/latest/APIReference/):
 *   API_GetCostAndUsage (Granularity, Metrics, GroupBy, Filter), API_DateInterval (Start/End), API_Expression;
 * - Cost Explorer's ValidationException messages as quoted in public issue threads (owner/repo#number) for the rules
 *   the reference states in prose or not at all (Start before End, End past next month, the look-back).
 *
 * Left out (not documented in what was found, or depending on the account): the 13-month (38 with multi-year data)
 * limit of the data itself and what Cost Explorer answers past it (a `DataUnavailableException` is suspected, not
 * confirmed), calendar validity of a date matching the pattern (2026-02-30), NextPageToken's length and whether a token
 * was issued (InvalidNextTokenException), MatchOptions per expression type, the keys of TAG / COST_CATEGORY groups and
 * filters, the number of expressions under And/Or, BillingViewArn, and the rule that HOURLY needs the account's opt-in.
 */

/** A request Cost Explorer would refuse: its ValidationException message. */
export type CostExplorerRefusal = string;

/** DateInterval Start and End: "Length Constraints: Minimum length of 0. Maximum length of 40. Pattern: (\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}Z)?" (API_DateInterval). */
const DATE = /^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}Z)?$/;
/** GetCostAndUsage Granularity: "MONTHLY or DAILY, or HOURLY" (API_GetCostAndUsage; the SDK's Granularity enum). */
const GRANULARITIES = ['DAILY', 'MONTHLY', 'HOURLY'];
/** GetCostAndUsage Metrics: "Valid values are AmortizedCost, BlendedCost, NetAmortizedCost, NetUnblendedCost, NormalizedUsageAmount, UnblendedCost, and UsageQuantity." (API_GetCostAndUsage) */
const METRICS = ['AmortizedCost', 'BlendedCost', 'NetAmortizedCost', 'NetUnblendedCost', 'NormalizedUsageAmount', 'UnblendedCost', 'UsageQuantity'];
/** GroupDefinition Type: "Valid Values: DIMENSION | TAG | COST_CATEGORY" (API_GroupDefinition). */
const GROUP_TYPES = ['DIMENSION', 'TAG', 'COST_CATEGORY'];
/**
 * GetCostAndUsage GroupBy: "You can group AWS costs using up to two different groups ... Valid values for the DIMENSION type
 * are AZ, INSTANCE_TYPE, LEGAL_ENTITY_NAME, INVOICING_ENTITY, LINKED_ACCOUNT, OPERATION, PLATFORM, PURCHASE_TYPE, SERVICE,
 * TENANCY, RECORD_TYPE, and USAGE_TYPE." (API_GetCostAndUsage)
 */
const GROUP_DIMENSIONS = ['AZ', 'INSTANCE_TYPE', 'LEGAL_ENTITY_NAME', 'INVOICING_ENTITY', 'LINKED_ACCOUNT', 'OPERATION', 'PLATFORM', 'PURCHASE_TYPE', 'SERVICE', 'TENANCY', 'RECORD_TYPE', 'USAGE_TYPE'];
/** DimensionValues Key: the Dimension enum of the API model (the SDK's `Dimension`). */
const FILTER_DIMENSIONS: string[] = Object.values(Dimension);
/** The members of an Expression, of which "each Expression can have only one operator, the service returns an error if more than one is specified" (API_Expression). */
const EXPRESSION_MEMBERS = ['And', 'Or', 'Not', 'Dimensions', 'Tags', 'CostCategories'] as const;

const DAY_MS = 86_400_000;
const utcDay = (d: Date) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
/** `YYYY-MM-DD[Thh:mm:ssZ]` as a UTC instant. */
const instant = (s: string) => Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);

/**
 * The first rule of a GetCostAndUsage `input` that Cost Explorer would refuse, as its ValidationException message
 * (quoted where a public report quotes it, else the reference's constraint naming the field), or `undefined`.
 * @param now - Cost Explorer's clock (the current date the time rules are judged against). @default new Date()
 */
export function getCostAndUsageRefusal(input: GetCostAndUsageCommandInput, now = new Date()): CostExplorerRefusal | undefined {
  const period = input.TimePeriod;
  // TimePeriod: "Required: Yes" (API_GetCostAndUsage); Start and End "Required: Yes" (API_DateInterval).
  if (!period) return 'TimePeriod: Member must not be null';
  for (const field of ['Start', 'End'] as const) {
    const v = period[field];
    if (typeof v !== 'string' || !DATE.test(v) || Number.isNaN(instant(v))) return `TimePeriod.${field}: Value '${v}' must satisfy regular expression pattern: (\\d{4}-\\d{2}-\\d{2})(T\\d{2}:\\d{2}:\\d{2}Z)?`;
  }
  // Granularity: "Required: Yes" in the current reference (and the SDK's input type).
  if (input.Granularity === undefined) return 'Granularity: Member must not be null';
  if (!GRANULARITIES.includes(input.Granularity)) return `Granularity: Value '${input.Granularity}' must satisfy enum value set: [${GRANULARITIES.join(', ')}]`;
  const start = instant(period.Start!);
  const end = instant(period.End!);
  // "Start date (and hour) should be before end date (and hour)" (zoph-io/instance-watcher#18, elC0mpa/aws-doctor#1: Start = End on the 1st of a month).
  if (!(start < end)) return 'Start date (and hour) should be before end date (and hour)';
  // "The start date must be equal to or no later than the current date to avoid a validation error." (API_DateInterval Start)
  if (utcDay(new Date(start)) > utcDay(now)) return `TimePeriod.Start: ${period.Start} is after the current date ${now.toISOString().slice(0, 10)}`;
  // "end date past the beginning of next month" (aws/aws-sdk-js#2732: End 2019-07-03 asked on 2019-06-20; End 2019-07-01 is taken).
  if (end > Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)) return 'end date past the beginning of next month';
  if (input.Granularity === 'HOURLY') {
    // "Start date is more than 14 days ago for hourly granularity. Please adjust start date as we support only 14 days of data at hourly granularity." (boto/boto3#2369)
    if (start < utcDay(now) - 14 * DAY_MS) return 'Start date is more than 14 days ago for hourly granularity. Please adjust start date as we support only 14 days of data at hourly granularity.';
  } else {
    // "To retrieve data beyond the past 14 months, your start date needs to be the first day of the month." (redhat-performance/cloud-governance#1011)
    const fourteenMonthsAgo = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 14, now.getUTCDate());
    if (start < fourteenMonthsAgo && new Date(start).getUTCDate() !== 1) return 'To retrieve data beyond the past 14 months, your start date needs to be the first day of the month.';
  }
  // Metrics: "Required: Yes" for GetCostAndUsage, each one of the valid values (API_GetCostAndUsage).
  if (!Array.isArray(input.Metrics) || !input.Metrics.length) return 'Metrics: Member must not be null or empty';
  const metric = input.Metrics.find((m) => !METRICS.includes(m));
  if (metric !== undefined) return `Metrics: Value '${metric}' must be one of [${METRICS.join(', ')}]`;
  const groups = input.GroupBy ?? [];
  if (groups.length > 2) return `GroupBy: up to two different groups, not ${groups.length}`;
  for (const [k, group] of groups.entries()) {
    if (!GROUP_TYPES.includes(group.Type as string)) return `GroupBy.${k}.Type: Value '${group.Type}' must satisfy enum value set: [${GROUP_TYPES.join(', ')}]`;
    if (group.Type === 'DIMENSION' && !GROUP_DIMENSIONS.includes(group.Key as string)) return `GroupBy.${k}.Key: Value '${group.Key}' is not a valid DIMENSION for GroupBy: [${GROUP_DIMENSIONS.join(', ')}]`;
  }
  if (input.Filter !== undefined) {
    const refusal = expressionRefusal(input.Filter, 'Filter');
    if (refusal) return refusal;
  }
  if (input.NextPageToken !== undefined && typeof input.NextPageToken !== 'string') return 'NextPageToken: must be a string';
  return undefined;
}

/** One Expression at `at` (`Filter`, `Filter.And.0`, …): exactly one member set, recursively; a Dimensions Key of the enum. */
function expressionRefusal(expression: Expression, at: string): CostExplorerRefusal | undefined {
  const set = EXPRESSION_MEMBERS.filter((m) => expression[m] !== undefined);
  if (set.length !== 1) return `${at}: an Expression takes exactly one of ${EXPRESSION_MEMBERS.join(', ')}, not ${set.length}${set.length ? ` (${set.join(', ')})` : ''}`;
  if (expression.And || expression.Or) {
    const list = (expression.And ?? expression.Or)!;
    const op = expression.And ? 'And' : 'Or';
    if (!Array.isArray(list)) return `${at}.${op}: must be a list of Expression`;
    for (const [k, inner] of list.entries()) {
      const refusal = expressionRefusal(inner, `${at}.${op}.${k}`);
      if (refusal) return refusal;
    }
  }
  if (expression.Not) return expressionRefusal(expression.Not, `${at}.Not`);
  if (expression.Dimensions && !FILTER_DIMENSIONS.includes(expression.Dimensions.Key as string)) return `${at}.Dimensions.Key: Value '${expression.Dimensions.Key}' must satisfy enum value set: [${FILTER_DIMENSIONS.join(', ')}]`;
  return undefined;
}

/** Cost Explorer's refusal as the SDK raises it: `name` ValidationException, `$metadata.httpStatusCode` 400 (the SDK has no class of its own for it). */
export function costExplorerValidationException(message: CostExplorerRefusal): CostExplorerServiceException {
  return new CostExplorerServiceException({ name: 'ValidationException', $fault: 'client', message, $metadata: { httpStatusCode: 400, requestId: 'strict-cost-explorer-refusal' } });
}

/** Requests the strict mock refused in this process, newest last: what a test can assert on. */
export const refusedCostExplorerRequests: Array<{ command: string; message: CostExplorerRefusal }> = [];

/**
 * `mockClient(CostExplorerClient)` (aws-sdk-client-mock) with Cost Explorer's checks in front: every GetCostAndUsage sent
 * is checked first (`getCostAndUsageRefusal`, against `options.now()`), and a request Cost Explorer would refuse is answered
 * with its ValidationException instead of the scripted answer (it is not recorded among the stub's calls). Script answers
 * on the returned stub as usual; `reset()` keeps the checks, `restore()` removes the stub and the checks. Every Cost
 * Explorer mock in the tests is made here.
 * @param options.strict - false for a test that must send what Cost Explorer refuses. @default true
 * @param options.now - Cost Explorer's clock. @default () => new Date() (vitest's fake timers move it too)
 */
export function mockCostExplorer(options: { strict?: boolean; now?: () => Date } = {}) {
  if (options.strict === false) return mockClient(CostExplorerClient);
  const now = options.now ?? (() => new Date());
  const refusal = (command: unknown) => (command instanceof GetCostAndUsageCommand ? getCostAndUsageRefusal(command.input, now()) : undefined);
  return strictMock(mockClient(CostExplorerClient), CostExplorerClient, refusal, costExplorerValidationException, refusedCostExplorerRequests);
}
