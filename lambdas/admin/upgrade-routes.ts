import {
  DescribeExecutionCommand, DescribeMapRunCommand, ExecutionAlreadyExists, ExecutionDoesNotExist, paginateGetExecutionHistory, paginateListExecutions,
  SFNClient, StartExecutionCommand, type DescribeExecutionOutput, type HistoryEvent,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { pages } from '../../lib/aws-pages.js';
import { UPGRADE_STATES } from '../../lib/lifecycle-constants.js';
import { UPGRADE_REQUEST_ID, UpgradeRequest, type UpgradeExecutionInput } from '../../lib/tenant-record.js';
import { defaultRequestId, UPGRADE_ID, upgradeExecutionName, type UpgradeProgress, type UpgradeStarted, type UpgradeTenantCounts } from '../../lib/upgrade-progress.js';
import { ApiError } from '../shared/api-errors.js';
import { platformClient } from '../shared/aws-clients.js';
import { claimUpgradeTier, releaseUpgradeTier } from '../shared/control-table.js';
import { ENV, platformConfig, requireEnv } from '../shared/environment.js';
import { isTransientError } from '../shared/errors.js';
import { logger } from '../shared/handler.js';
import { tierTemplateKinds, unpublishedTemplates } from '../lifecycle/blueprints.js';
import { adminCaller, bodyOf, executionArnOf, json, parse, shownValue, unknownTier, type AdminRoutes } from './admin-http.js';
import { stepsOfHistory } from './execution-steps.js';

export { defaultRequestId, upgradeExecutionName } from '../../lib/upgrade-progress.js';

/**
 * `POST /admin/upgrades`' body: the rolling upgrade's execution input (lib/tenant-record.ts UpgradeRequest: `tier`,
 * `blueprintVersion`, optional `allowReplacement`) with `requestId` optional: without it, the Idempotency-Key header is
 * the requestId, and without either the API makes one (defaultRequestId).
 */
export const UpgradeStartRequest = UpgradeRequest.partial({ requestId: true });

/** The request's Idempotency-Key header as sent (any case), unchecked. */
const idempotencyHeader = (event: APIGatewayProxyEvent): string | undefined =>
  Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === 'idempotency-key')?.[1] ?? undefined;

/**
 * The upgrade's requestId, its idempotency key: the body's; else the Idempotency-Key header; else one made (defaultRequestId).
 * @throws ApiError 400 `unsupported_header` for a header beside another requestId in the body; 400 `invalid_idempotency_key`
 *   for a header the requestId's rule refuses (UPGRADE_REQUEST_ID: it names the work prefix `upgrades/<requestId>/`)
 */
function requestIdOf(event: APIGatewayProxyEvent, body: { tier: string; blueprintVersion: string; requestId?: string }): string {
  const header = idempotencyHeader(event);
  if (header !== undefined && body.requestId !== undefined && header !== body.requestId) {
    throw new ApiError(400, `Idempotency-Key = ${JSON.stringify(header.slice(0, 100))}: an upgrade is idempotent by its requestId ("${body.requestId.slice(0, 100)}"); send the header with the requestId's value, or without it`,
      'invalid_request_error', 'unsupported_header', 'Idempotency-Key');
  }
  if (body.requestId !== undefined) return body.requestId;
  if (header === undefined) return defaultRequestId(body.tier, body.blueprintVersion);
  if (!UPGRADE_REQUEST_ID.test(header)) {
    throw new ApiError(400, `Idempotency-Key = ${JSON.stringify(header.slice(0, 100))}: an upgrade's key is its requestId, 1-80 characters of A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter or digit (it names the work prefix upgrades/<requestId>/)`,
      'invalid_request_error', 'invalid_idempotency_key', 'Idempotency-Key');
  }
  return header;
}

/**
 * Refuses a version the blueprint catalog does not publish for the tier, as *List tier tenants* would at the start of the
 * execution (unpublishedTemplates: HeadObject of each template the upgrade deploys): 400 `unknown_blueprint_version` when
 * the version's account baseline is missing (no deployment published the version), 400 `tier_not_published` when only
 * the tier's templates are (the tier was added to the config after that version). Shared with `PATCH /admin/tenants/{id}`
 * (admin-api.ts), which refuses a change's blueprintVersion the same way, before its lease is taken.
 * @throws ApiError 503 `blueprint_catalog_unreadable` when the catalog cannot be read (BlueprintCatalogUnreadable)
 */
export async function refuseUnpublished(tier: string, blueprintVersion: string): Promise<void> {
  let missing: Awaited<ReturnType<typeof unpublishedTemplates>>;
  try {
    missing = await unpublishedTemplates(tier, tierTemplateKinds(tier), blueprintVersion);
  } catch (e) {
    if ((e as Error).name === 'BlueprintCatalogUnreadable') throw new ApiError(503, `blueprintVersion = ${shownValue(blueprintVersion)}: ${(e as Error).message}`, 'api_error', 'blueprint_catalog_unreadable', 'blueprintVersion');
    throw e;
  }
  if (!missing.length) return;
  const lacks = missing.map((m) => `${m.key} (${m.error})`).join(', ');
  const platform = requireEnv(ENV.blueprintVersion);
  const baseline = missing.find((m) => m.kind === 'baseline');
  if (baseline) {
    throw new ApiError(400, `blueprintVersion = ${shownValue(blueprintVersion)}: not a blueprint version the catalog publishes (it lacks ${baseline.key} (${baseline.error}), which every version publishes for all tiers); each deployment of TesseraPlatform publishes its own version, and the platform's is ${platform}`,
      'invalid_request_error', 'unknown_blueprint_version', 'blueprintVersion');
  }
  throw new ApiError(400, `blueprintVersion = ${shownValue(blueprintVersion)}: tier ${tier} is not published at it (the blueprint catalog lacks ${lacks}): the tier was not in the config that version was synthesized from; upgrade it to a version that publishes it (the platform's is ${platform})`,
    'invalid_request_error', 'tier_not_published', 'blueprintVersion');
}

const sfn = () => platformClient(SFNClient);

/** The execution, or undefined when Step Functions has none of that ARN (ExecutionDoesNotExist). */
async function describe(executionArn: string): Promise<DescribeExecutionOutput | undefined> {
  try {
    return await sfn().send(new DescribeExecutionCommand({ executionArn }));
  } catch (e) {
    if (e instanceof ExecutionDoesNotExist) return undefined;
    throw e;
  }
}

/**
 * An upgrade execution's input (UpgradeExecutionInput): its fields of the type that input gives them (tier, blueprintVersion,
 * requestId and actor non-empty strings, allowReplacement an object with a string reason), or `{}` when it is not a JSON
 * object. An execution started outside this API (StartExecution from the AWS CLI) may carry anything: before, an `actor` of
 * 42 or `{}` was answered as the upgrade's actor by POST's replay and `GET /admin/upgrades/{upgradeId}`, where the answer
 * promises a string; a field of another type is now left out, as it is when the execution has none (upgrades started before
 * `actor` existed, 2026-12-05). *List tier tenants* refuses such an input (UpgradeExecutionInput), so that upgrade ran no tenant.
 */
function inputOf(execution: Pick<DescribeExecutionOutput, 'input'>): Partial<UpgradeExecutionInput> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(execution.input ?? '{}');
  } catch {
    return {};
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  const raw = parsed as Record<string, unknown>;
  const text = (k: 'tier' | 'blueprintVersion' | 'requestId' | 'actor') => (typeof raw[k] === 'string' && raw[k] !== '' ? { [k]: raw[k] } : {});
  const allow = raw.allowReplacement as { reason?: unknown } | undefined;
  return {
    ...text('tier'), ...text('blueprintVersion'), ...text('requestId'), ...text('actor'),
    ...(allow && typeof allow === 'object' && typeof allow.reason === 'string' ? { allowReplacement: { reason: allow.reason } } : {}),
  } as Partial<UpgradeExecutionInput>;
}

/** An upgrade as its 409s and replays name it: `upgrade starter-0_2_0-1c2d3e4f of tier starter to 0.2.0 (request starter-0.2.0, RUNNING since …)`. */
function described(execution: DescribeExecutionOutput): string {
  const input = inputOf(execution);
  return `upgrade ${execution.name ?? execution.executionArn} of tier ${input.tier ?? '(unknown)'} to ${input.blueprintVersion ?? '(unknown)'} (request ${input.requestId ?? '(unknown)'}, ${execution.status}${execution.startDate ? ` since ${execution.startDate.toISOString()}` : ''})`;
}

/** The fields of the input that make a request: the same requestId with another of them is another request. */
const asked = (input: Partial<UpgradeRequest>) => JSON.stringify([input.tier, input.blueprintVersion, input.requestId, input.allowReplacement?.reason ?? null]);

/**
 * What the same request (its requestId names the execution) answers when its execution exists: 200 with the running
 * execution, or with how it ended (nothing started); 409 `idempotency_key_reused` when that execution was started with
 * other values (another tier, version or allowReplacement).
 */
function replay(existing: DescribeExecutionOutput, input: UpgradeExecutionInput, name: string): APIGatewayProxyResult {
  if (asked(inputOf(existing)) !== asked(input)) {
    throw new ApiError(409, `requestId "${input.requestId}" was used for ${described(existing)}; this request asks tier ${input.tier} to ${input.blueprintVersion}${input.allowReplacement ? ` with allowReplacement` : ''}; send a new requestId for a new upgrade`,
      'conflict_error', 'idempotency_key_reused', 'requestId', { upgrade: { upgradeId: existing.name ?? name, executionArn: existing.executionArn, executionStatus: existing.status } });
  }
  const running = existing.status === 'RUNNING';
  const answer: UpgradeStarted = {
    // Who started it is the first request's caller (its execution's input), not this one's.
    ...started({ ...input, actor: inputOf(existing).actor }, name, existing.executionArn!, existing.status ?? 'RUNNING', existing.startDate),
    note: running ? 'upgrade already running' : `this request already ran (${existing.status}); nothing started: send a new requestId for a new upgrade`,
  };
  return json(200, answer);
}

const started = (input: UpgradeExecutionInput, name: string, executionArn: string, executionStatus: string, startDate?: Date): UpgradeStarted => ({
  upgradeId: name, requestId: input.requestId, executionArn, tier: input.tier, blueprintVersion: input.blueprintVersion,
  ...(input.allowReplacement ? { allowReplacement: input.allowReplacement } : {}), ...(input.actor ? { actor: input.actor } : {}), executionStatus, ...(startDate ? { startDate: startDate.toISOString() } : {}),
});

/** 409 `upgrade_in_progress` for a tier whose upgrade `running` runs, naming it and how to follow it. */
function upgradeInProgress(tier: string, running: DescribeExecutionOutput): ApiError {
  const name = running.name ?? running.executionArn!.slice(running.executionArn!.lastIndexOf(':') + 1);
  const input = inputOf(running);
  return new ApiError(409, `tier "${tier}" is being upgraded: ${described(running)} is running; another upgrade of the tier is refused until it ends (follow it with tessera tenants upgrade --follow ${name}, or GET /admin/upgrades/${name})`,
    'conflict_error', 'upgrade_in_progress', 'tier', {
      upgrade: { upgradeId: name, executionArn: running.executionArn, requestId: input.requestId, blueprintVersion: input.blueprintVersion, ...(running.startDate ? { startDate: running.startDate.toISOString() } : {}) },
    });
}

/**
 * Refuses a second upgrade of `tier` while one runs, whoever started it (this API, or StartExecution from the AWS CLI as
 * the upgrade guide did before): ListExecutions of the upgrade state machine (RUNNING), each one's input read with
 * DescribeExecution (ListExecutions answers no input). `own`: this request's execution, not counted.
 * @throws ApiError 409 upgrade_in_progress (upgradeInProgress)
 */
async function refuseRunningUpgrade(stateMachineArn: string, tier: string, own: string): Promise<void> {
  for await (const page of paginateListExecutions(pages(sfn(), 100), { stateMachineArn, statusFilter: 'RUNNING' })) {
    for (const e of page.executions ?? []) {
      if (e.executionArn === own) continue;
      const running = await describe(e.executionArn!);
      if (running?.status === 'RUNNING' && inputOf(running).tier === tier) throw upgradeInProgress(tier, running);
    }
  }
}

/**
 * How long a tier's claim may name an execution that does not exist yet (ms): the claim is taken just before StartExecution,
 * by a request that API Gateway ends after 29 s; a claim older than this whose execution never started (a Lambda that died
 * between the two) is taken over. 5 minutes: far above the request's 29 s, far below an upgrade's hours.
 */
export const CLAIM_START_WINDOW_MS = 5 * 60_000;

/**
 * Claims `tier`'s upgrade for this execution (control-table.ts claimUpgradeTier): of two requests at once, the second
 * finds the first's claim. A claim whose execution has ended (or never started, CLAIM_START_WINDOW_MS after it was taken),
 * or is an upgrade of another tier (its requestId sent again for that tier after the claiming request died), is taken over.
 * @throws ApiError 409 `upgrade_in_progress` while the holder's execution runs, or is about to start
 */
async function claimTier(tier: string, claim: { executionArn: string; requestId: string; blueprintVersion: string }): Promise<void> {
  let ended: string | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const holder = await claimUpgradeTier(tier, claim, ended);
    if (!holder) return;
    const execution = await describe(holder.executionArn);
    // An execution of another tier holds none of this one: its name's request claimed this tier, died before it started,
    // and was sent again for the other tier (the same requestId), whose execution runs under that name.
    if (execution?.status === 'RUNNING' && inputOf(execution).tier === tier) throw upgradeInProgress(tier, execution);
    // A claim without a readable time is as old as can be: taken over rather than refusing the tier for good.
    const claimedAt = Date.parse(holder.claimedAt);
    const starting = Number.isFinite(claimedAt) && Date.now() - claimedAt <= CLAIM_START_WINDOW_MS;
    if (!execution && starting) {
      // A request that died between its claim and its StartExecution (a Lambda timeout: the caller got API Gateway's 504) never
      // starts it: the claim is taken over at the end of the window, which the message names, not "until it ends".
      const takenOver = new Date(claimedAt + CLAIM_START_WINDOW_MS).toISOString();
      throw new ApiError(409, `tier "${tier}" is being upgraded: request ${holder.requestId} (to ${holder.blueprintVersion}) claimed it at ${holder.claimedAt} and is starting execution ${holder.executionArn}; another upgrade of the tier is refused until it ends; if that request failed before starting it, the claim is taken over from ${takenOver}`,
        'conflict_error', 'upgrade_in_progress', 'tier', { upgrade: { executionArn: holder.executionArn, requestId: holder.requestId, blueprintVersion: holder.blueprintVersion } });
    }
    ended = holder.executionArn;
  }
  throw new ApiError(409, `tier "${tier}": its upgrade is being claimed by other requests at this moment; send the request again`, 'conflict_error', 'upgrade_in_progress', 'tier');
}

/**
 * `POST /admin/upgrades`: starts the rolling upgrade (tessera-upgrade) of a tier to a blueprint version (202, UpgradeStarted),
 * after the checks *List tier tenants* makes at its start, answered before anything starts: 400 `unknown_tier` (the
 * nearest tier, then all), 400 `unknown_blueprint_version` or `tier_not_published` (refuseUnpublished). The same requestId
 * again answers with its execution (replay); another upgrade of a tier while one runs is a 409 (refuseRunningUpgrade, claimTier).
 * The caller (adminCaller) is recorded as the execution input's `actor` (UpgradeExecutionInput), answered as `actor`, and
 * carried to each tenant's history entry with the upgrade's id (list-tier-tenants.ts, begin-change.ts).
 */
async function startUpgrade(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const body = parse(UpgradeStartRequest, bodyOf(event));
  const tiers = Object.keys(platformConfig().tiers);
  if (!tiers.includes(body.tier)) throw unknownTier(body.tier, tiers);
  // `actor`: the SigV4 caller API Gateway names (adminCaller), never the body's (UpgradeStartRequest is strict: an `actor` field is a 400).
  const input: UpgradeExecutionInput = {
    tier: body.tier, blueprintVersion: body.blueprintVersion, requestId: requestIdOf(event, body), ...(body.allowReplacement ? { allowReplacement: body.allowReplacement } : {}),
    actor: adminCaller(event),
  };
  const stateMachineArn = requireEnv(ENV.upgradeStateMachineArn);
  const name = upgradeExecutionName(input.requestId);
  const executionArn = executionArnOf(stateMachineArn, name);
  // The same request again: its execution, running or ended (checked first: once it ran, its version is no news).
  const earlier = await describe(executionArn);
  if (earlier) return replay(earlier, input, name);
  await refuseUnpublished(input.tier, input.blueprintVersion);
  await refuseRunningUpgrade(stateMachineArn, input.tier, executionArn);
  await claimTier(input.tier, { executionArn, requestId: input.requestId, blueprintVersion: input.blueprintVersion });
  try {
    const out = await sfn().send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return json(202, started(input, name, out.executionArn ?? executionArn, 'RUNNING', out.startDate ?? new Date()));
  } catch (e) {
    if (e instanceof ExecutionAlreadyExists) {
      // The same requestId sent twice at once (the other start won), or with other values: answered as a replay.
      const existing = await describe(executionArn);
      if (existing) {
        if (inputOf(existing).tier !== input.tier) await releaseUpgradeTier(input.tier, executionArn);
        return replay(existing, input, name);
      }
    }
    // An answer lost after Step Functions started the execution: it runs, and the claim is its own.
    if (isTransientError(e) && (await describe(executionArn).catch(() => undefined))) {
      logger.warn('StartExecution failed, but the upgrade execution exists: it keeps the tier\'s claim', { executionArn, error: e as Error });
      return json(202, started(input, name, executionArn, 'RUNNING'));
    }
    await releaseUpgradeTier(input.tier, executionArn);
    throw e;
  }
}

/** The item counts of a map run (DescribeMapRun), or why they could not be read. */
async function mapRunCounts(mapRunArn: string): Promise<{ tenants: UpgradeTenantCounts } | { tenantsError: string }> {
  try {
    const c = (await sfn().send(new DescribeMapRunCommand({ mapRunArn }))).itemCounts;
    return { tenants: { total: c?.total ?? 0, pending: c?.pending ?? 0, running: c?.running ?? 0, succeeded: c?.succeeded ?? 0, failed: c?.failed ?? 0, timedOut: c?.timedOut ?? 0, aborted: c?.aborted ?? 0 } };
  } catch (e) {
    // An admin API deployed before its DescribeMapRun grant, a throttled call: the rest of the progress is still answered.
    logger.warn('could not read the upgrade\'s map run', { mapRunArn, error: e as Error });
    return { tenantsError: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

const parseJson = (s: string | undefined): any => {
  try { return s ? JSON.parse(s) : undefined; } catch { return undefined; }
};

/**
 * One rolling upgrade's progress (UpgradeProgress) from what its execution records: DescribeExecution (status, dates, input,
 * output, error), its history (the steps, *List tier tenants*' output `tenants.count`, the MapRunStarted event's map run)
 * and DescribeMapRun (the tenants' counts while the map runs, and after). `upgradeId`: the execution name POST answered, or
 * the requestId it was started with (upgradeExecutionName), or the name of an execution started outside the API.
 * @throws ApiError 404 `upgrade_not_found` naming `upgradeId` when no upgrade execution has that name
 */
export async function upgradeProgress(upgradeId: string): Promise<UpgradeProgress> {
  const notFound = () => new ApiError(404, `upgradeId = ${shownValue(upgradeId)}: no upgrade of that name (an execution name or requestId of tessera-upgrade; Step Functions keeps a closed execution for 90 days)`, 'not_found_error', 'upgrade_not_found', 'upgradeId');
  if (!UPGRADE_ID.test(upgradeId)) throw notFound();
  const stateMachineArn = requireEnv(ENV.upgradeStateMachineArn);
  let execution: DescribeExecutionOutput | undefined;
  for (const name of new Set([upgradeExecutionName(upgradeId), upgradeId])) {
    execution = await describe(executionArnOf(stateMachineArn, name));
    if (execution) break;
  }
  if (!execution) throw notFound();
  const events: HistoryEvent[] = [];
  for await (const page of paginateGetExecutionHistory(pages(sfn(), 1000), { executionArn: execution.executionArn!, includeExecutionData: true })) events.push(...(page.events ?? []));
  const listed = parseJson(events.find((e) => e.stateExitedEventDetails?.name === UPGRADE_STATES.list)?.stateExitedEventDetails?.output)?.tenants?.count;
  const mapRunArn = events.find((e) => e.mapRunStartedEventDetails?.mapRunArn)?.mapRunStartedEventDetails?.mapRunArn;
  const input = inputOf(execution);
  const output = parseJson(execution.output);
  return {
    upgradeId: execution.name ?? upgradeId, requestId: input.requestId ?? '', executionArn: execution.executionArn!, tier: input.tier ?? '', blueprintVersion: input.blueprintVersion ?? '',
    ...(input.allowReplacement ? { allowReplacement: input.allowReplacement } : {}), ...(input.actor ? { actor: input.actor } : {}),
    executionStatus: execution.status ?? 'UNKNOWN', startDate: execution.startDate?.toISOString(), ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
    ...(typeof listed === 'number' ? { listed } : {}),
    ...(mapRunArn ? { mapRunArn, ...(await mapRunCounts(mapRunArn)) } : {}),
    ...(output?.summary ? { summary: output.summary } : {}), ...(output?.summaryError ? { summaryError: output.summaryError } : {}),
    ...(execution.error ? { error: execution.error } : {}), ...(execution.cause ? { cause: execution.cause } : {}),
    steps: stepsOfHistory(events),
  };
}

/**
 * The admin API's rolling upgrades (tessera-upgrade, constructs/lifecycle-workflows.ts; docs/upgrading-and-teardown.md):
 * - `POST /admin/upgrades` with `{ tier, blueprintVersion, requestId?, allowReplacement? }`: starts one (startUpgrade);
 *   its requestId is its idempotency key (the body's, else the Idempotency-Key header's);
 * - `GET /admin/upgrades/{upgradeId}`: its progress (upgradeProgress).
 */
export const upgradeRoutes: AdminRoutes = {
  'POST /admin/upgrades': { query: null, idempotencyKey: 'requestId', handle: async (event) => startUpgrade(event) },
  'GET /admin/upgrades/{upgradeId}': { query: null, idempotencyKey: 'no-op', handle: async (event) => json(200, await upgradeProgress(event.pathParameters?.upgradeId ?? '')) },
};
