import { GetAccountSettingsCommand, GetFunctionConcurrencyCommand, paginateListFunctions, type LambdaClient } from '@aws-sdk/client-lambda';
import { pages } from '../../aws-pages.js';
import { LAMBDA_CONCURRENCY_QUOTA_CODE, LAMBDA_UNRESERVED_MINIMUM, platformFunctionRoleNames, reservedConcurrency } from '../../lambda-concurrency.js';
import { callFailed, result, unreadable } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

const ID = 'lambda-concurrency';
const TITLE = 'Lambda concurrency quota';

/** GetFunctionConcurrency calls in flight at once (Lambda's control plane allows 15 requests per second per account). */
const CONCURRENCY_READS = 5;

/** The request for `value` concurrent executions in `region`. */
export const concurrencyIncrease = (value: number, region: string) =>
  `aws service-quotas request-service-quota-increase --service-code lambda --quota-code ${LAMBDA_CONCURRENCY_QUOTA_CODE} --desired-value ${value} --region ${region}`;

/**
 * What the functions of the deployed TesseraPlatform reserve now: each function whose execution
 * role is one of the platform's fixed role names (platformFunctionRoleNames: roles are unique per
 * account, so such a function is the platform's) and its `ReservedConcurrentExecutions`
 * (GetFunctionConcurrency; ListFunctions does not return it). 0 before the first deploy.
 */
async function deployedReservations(lambda: LambdaClient): Promise<{ total: number; functions: number }> {
  const ours = new Set(platformFunctionRoleNames());
  const names: string[] = [];
  for await (const page of paginateListFunctions(pages(lambda), {})) {
    for (const f of page.Functions ?? []) {
      const role = f.Role?.split('/').pop();
      if (f.FunctionName && role && ours.has(role)) names.push(f.FunctionName);
    }
  }
  let total = 0;
  for (let i = 0; i < names.length; i += CONCURRENCY_READS) {
    const answers = await Promise.all(names.slice(i, i + CONCURRENCY_READS).map((FunctionName) => lambda.send(new GetFunctionConcurrencyCommand({ FunctionName }))));
    total += answers.reduce((sum, a) => sum + (a.ReservedConcurrentExecutions ?? 0), 0);
  }
  return { total, functions: names.length };
}

/**
 * The platform account's Lambda concurrency quota in the home Region against what TesseraPlatform
 * reserves with the config (lib/lambda-concurrency.ts `reservedConcurrency(config)`: the tenant users,
 * budget mail and DR recorder functions come and go with it).
 * Lambda keeps {@link LAMBDA_UNRESERVED_MINIMUM} (100) of `ConcurrentExecutions` unreserved and
 * refuses a reservation that would leave less, so `cdk deploy` fails at the first function whose
 * reservation does not fit. New accounts may start at 10 or 400 (AWS: "New AWS accounts have
 * reduced concurrency and memory quotas").
 *
 * The rule (GetAccountSettings: `AccountLimit.ConcurrentExecutions` = C, `UnreservedConcurrentExecutions` = U):
 * - reserved in the account now: C − U;
 * - of which the deployed platform's own (0 before the first deploy): D, the sum over the functions
 *   whose role is a platform role name (ListFunctions, GetFunctionConcurrency; skipped when C − U is 0).
 *   The deploy replaces those reservations with the config's, so they are not counted twice;
 * - other functions' (not Tessera's, or Tessera's of no platform role): O = C − U − D;
 * - after the deploy, U' = C − O − P, where P is what the config reserves; it must stay ≥ 100.
 * So ✓ when C ≥ P + 100 + O; ✗ otherwise, naming C, P, O and the quota to request (P + 100 + O,
 * Service Quotas `lambda` / L-B99A9384 "Concurrent executions"). With the platform deployed and the
 * config unchanged this is U ≥ 100, which Lambda guarantees: only a config that adds reservations
 * (a DR tier, budget mail) can fail. A function CloudFormation replaces (a new logical id) holds its
 * old reservation until the stack's cleanup: not counted.
 * Read in the platform account (its lookup role's ReadOnlyAccess has lambda:GetAccountSettings,
 * lambda:ListFunctions, lambda:GetFunctionConcurrency); a refused or failed read is a ✗ naming the call.
 */
export async function lambdaConcurrencyChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const { config, region } = ctx;
  const account = config.platformAccountId;
  const where = { account, region };
  const access = await ctx.clientsIn(account);
  if (!access.ok) return [unreadable(ID, TITLE, access, account, region)];
  const { lambda } = access.clients;
  const lookYourself = `aws lambda get-account-settings --region ${region} in account ${account}`;
  let limit: number | undefined;
  let unreserved: number | undefined;
  try {
    const settings = await lambda.send(new GetAccountSettingsCommand({}));
    limit = settings.AccountLimit?.ConcurrentExecutions;
    unreserved = settings.AccountLimit?.UnreservedConcurrentExecutions;
  } catch (e) {
    return [callFailed(ID, TITLE, 'lambda:GetAccountSettings', e, `grant lambda:GetAccountSettings, or look yourself: ${lookYourself}`, where)];
  }
  if (limit === undefined || unreserved === undefined) {
    return [result(ID, TITLE, 'fail', `lambda:GetAccountSettings answered no AccountLimit.ConcurrentExecutions or UnreservedConcurrentExecutions (${JSON.stringify({ ConcurrentExecutions: limit, UnreservedConcurrentExecutions: unreserved })})`, { ...where, fix: `rerun doctor, or look yourself: ${lookYourself}` })];
  }
  const reservedNow = limit - unreserved;
  let deployed = { total: 0, functions: 0 };
  if (reservedNow > 0) {
    try {
      deployed = await deployedReservations(lambda);
    } catch (e) {
      return [callFailed(ID, TITLE, 'lambda:ListFunctions / lambda:GetFunctionConcurrency', e,
        `grant lambda:ListFunctions and lambda:GetFunctionConcurrency (doctor reads which of the ${reservedNow} reserved concurrent executions are the deployed platform's), or compare yourself: ${lookYourself}`, where)];
    }
  }
  const platform = reservedConcurrency(config);
  const others = Math.max(0, reservedNow - deployed.total);
  const needed = platform.total + LAMBDA_UNRESERVED_MINIMUM + others;
  const found = `ConcurrentExecutions ${limit} (UnreservedConcurrentExecutions ${unreserved}); TesseraPlatform reserves ${platform.total} across its ${platform.functions.length} functions, Lambda keeps ${LAMBDA_UNRESERVED_MINIMUM} unreserved`
    + `, other functions reserve ${others}${deployed.functions ? ` (the deployed platform's ${deployed.total} in its ${deployed.functions} functions are replaced by the deploy, not counted)` : ''}: needs ${needed}`;
  if (limit >= needed) return [result(ID, TITLE, 'pass', found, where)];
  return [result(ID, TITLE, 'fail',
    `${found}, so cdk deploy of TesseraPlatform would fail at a function whose reservation does not fit ("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${LAMBDA_UNRESERVED_MINIMUM}]")`,
    { ...where, fix: `in account ${account}: ${concurrencyIncrease(needed, region)} (AWS Lambda "Concurrent executions"; wait for the request to be approved before cdk deploy)${others ? `, or remove the ${others} reserved by other functions` : ''}` })];
}
