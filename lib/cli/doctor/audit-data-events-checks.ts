import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTrailsCommand, GetEventSelectorsCommand, type GetEventSelectorsCommandOutput, type Trail } from '@aws-sdk/client-cloudtrail';
import { auditSelectorNames } from '../../config/audit-data-events.js';
import { describeAwsError, errorName } from '../aws-errors.js';
import { PLATFORM_STACK } from './deployed-user-pool.js';
import { logsManagementEvents } from './organization-trail-checks.js';
import { grantOrRerun, result, unreadable } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

const ID = 'audit-data-events';
const TITLE = 'Audit trail data events, deployed';

/** The TesseraPlatform output naming the audit bucket (lib/platform-stack.ts), which finds the trail delivering to it. */
export const AUDIT_BUCKET_OUTPUT = 'AuditBucketName';

/**
 * `audit-data-events`: with `audit.dataEvents` set, whether Tessera's deployed audit trail (organization trail or the
 * platform account's) has the advanced event selectors the config gives it (lib/config/audit-data-events.ts), by their
 * names, and still logs every management event ({@link logsManagementEvents}).
 * - `audit.dataEvents` absent: no line (the trail keeps CloudTrail's default selectors; nothing to compare).
 * - TesseraPlatform not deployed, without the output, no trail delivering to the audit bucket, or a call refused: a warn
 *   naming the step (doctor could not tell).
 * - selectors other than the config's (a `cdk deploy TesseraPlatform` pending, or changed by hand: data events are billed
 *   per event), or management events left out: a warn naming both sides, the fix the deploy.
 * - else a pass naming the trail and what it records.
 * Calls (platform account, `ctx.region`): cloudformation:DescribeStacks (output AuditBucketName), cloudtrail:DescribeTrails
 * (includeShadowTrails: an organization trail that a delegated administrator manages is the management account's, by
 * ARN), cloudtrail:GetEventSelectors by the trail's ARN.
 * Source: CloudTrail API Reference, DescribeTrails and GetEventSelectors.
 */
export async function auditDataEventsChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const { config, region } = ctx;
  if (!config.audit.dataEvents) return [];
  const wanted = auditSelectorNames(config.audit.dataEvents);
  const account = config.platformAccountId;
  const where = { account, region };
  const access = await ctx.clientsIn(account);
  if (!access.ok) return [unreadable(ID, TITLE, access, account, region)];
  const { clients, via } = access;
  const deploy = 'npx cdk deploy TesseraPlatform -c tessera:configFile=<your config file>';
  const inAccount = `in account ${account}:`;
  let bucket: string | undefined;
  try {
    const stack = (await clients.cloudFormation.send(new DescribeStacksCommand({ StackName: PLATFORM_STACK }))).Stacks?.[0];
    bucket = stack?.Outputs?.find((o) => o.OutputKey === AUDIT_BUCKET_OUTPUT)?.OutputValue;
    if (!bucket) return [result(ID, TITLE, 'warn', `not compared: stack ${PLATFORM_STACK} (${stack?.StackStatus}) has no output ${AUDIT_BUCKET_OUTPUT}`, { ...where, fix: deploy })];
  } catch (e) {
    if (errorName(e) === 'ValidationError' && /does not exist/.test((e as Error).message)) {
      return [result(ID, TITLE, 'warn', `not compared: stack ${PLATFORM_STACK} is not deployed in account ${account} (${region}); the trail gets audit.dataEvents at its first deploy`, { ...where, fix: deploy })];
    }
    return [result(ID, TITLE, 'warn', `not compared: ${describeAwsError(`cloudformation:DescribeStacks ${PLATFORM_STACK}`, e)}`, {
      ...where, fix: grantOrRerun(e, `grant cloudformation:DescribeStacks to ${via}`, `${inAccount} aws cloudformation describe-stacks --stack-name ${PLATFORM_STACK} --region ${region}`),
    })];
  }
  let trail: Trail | undefined;
  try {
    const trails = (await clients.cloudTrail.send(new DescribeTrailsCommand({ includeShadowTrails: true }))).trailList ?? [];
    trail = trails.find((t) => t.S3BucketName === bucket && t.HomeRegion === region);
  } catch (e) {
    return [result(ID, TITLE, 'warn', `not compared: ${describeAwsError('cloudtrail:DescribeTrails', e)}`, {
      ...where, fix: grantOrRerun(e, `grant cloudtrail:DescribeTrails and cloudtrail:GetEventSelectors to ${via}`, `${inAccount} aws cloudtrail describe-trails --region ${region}`),
    })];
  }
  if (!trail?.TrailARN) return [result(ID, TITLE, 'warn', `not compared: no trail with home Region ${region} delivers to the audit bucket ${bucket}`, { ...where, fix: deploy })];
  const arn = trail.TrailARN;
  let selectors: GetEventSelectorsCommandOutput;
  try {
    selectors = await clients.cloudTrail.send(new GetEventSelectorsCommand({ TrailName: arn }));
  } catch (e) {
    return [result(ID, TITLE, 'warn', `not compared: ${describeAwsError(`cloudtrail:GetEventSelectors ${arn}`, e)}`, {
      ...where, fix: grantOrRerun(e, `grant cloudtrail:GetEventSelectors to ${via}`, `${inAccount} aws cloudtrail get-event-selectors --trail-name ${arn} --region ${region}`),
    })];
  }
  const deployed = (selectors.AdvancedEventSelectors ?? []).map((s) => s.Name ?? '(unnamed)');
  const shown = (names: readonly string[]) => (names.length ? names.join('; ') : 'no advanced event selectors (CloudTrail\'s default: management events, no data event)');
  const management = logsManagementEvents(selectors);
  if (management && deployed.length === wanted.length && deployed.every((n, i) => n === wanted[i])) {
    return [result(ID, TITLE, 'pass', `${arn} records what audit.dataEvents asks: ${shown(deployed)}`, where)];
  }
  return [result(ID, TITLE, 'warn',
    `${arn} records ${shown(deployed)}${management ? '' : ', which leave out management events'}; audit.dataEvents asks ${shown(wanted)}: data events are billed per event, and what the trail misses is not recorded`,
    { ...where, fix: `${deploy} (selectors changed by hand are put back)` })];
}
