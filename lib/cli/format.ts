import { printable } from '../printable.js';
import { displayWidth, padDisplay } from './display-width.js';
import type { DriftRecord, LifecycleExecution, StackUpdating, TenantRecord } from '../tenant-record.js';
import { describeDigest } from '../change-digest.js';
import { nextStepAfterFailure } from './lifecycle-answers.js';
import { offboardingLines } from './offboarding-format.js';

/**
 * A column's heading: its key in capitals, a camelCase key's words apart (`blueprintVersion` → `BLUEPRINT VERSION`).
 * The words ran together, `TENANTID … BLUEPRINTVERSION  CURRENTSTEP`, until 2026-12-07.
 */
export const columnHeading = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toUpperCase();

/**
 * Plain-text tables for a terminal (every cell `printable`); `--json` prints the API's JSON instead. Columns are as wide as
 * their widest cell in terminal columns (display-width.ts): a cell in CJK (a key's name in `keys list`) is two columns a
 * character, and padded by `length` it pushed every later column of its row out of line (until 2026-12-07).
 */
export function table(rows: Array<Record<string, unknown>>, columns: string[]): string {
  const headings = columns.map(columnHeading);
  const cells = rows.map((r) => columns.map((c) => printable(String(r[c] ?? '-'))));
  const widths = headings.map((h, i) => Math.max(displayWidth(h), ...cells.map((row) => displayWidth(row[i]))));
  const line = (values: string[]) => values.map((v, i) => padDisplay(v, widths[i])).join('  ').trimEnd();
  return [line(headings), ...cells.map(line)].join('\n');
}

/**
 * A line of `tessera tenants show`'s record: `[label, value]`, the value laid out in the column of the longest label
 * (detailLines), or a line printed as it is (a detail indented under the line above it).
 */
export type DetailLine = readonly [label: string, value: string] | string;

/** The column of `tenants show`'s values when every label is shorter (`tenant      acme`): the layout of every vpc tenant. */
export const DETAIL_COLUMN = 12;

/** The least width of `tenants show`'s stack output keys (after their two-space indent): the value column of short keys. */
export const OUTPUTS_COLUMN = 24;

/**
 * `lines` as text: each labelled value starts at the same column, two spaces after the longest label (at least
 * DETAIL_COLUMN), so an account tenant's `S3 Block Public Access` or `EBS encryption by default` line no longer pushes its
 * own value out of the column the others share; unlabelled lines as they are.
 */
export function detailLines(lines: readonly DetailLine[]): string[] {
  const width = Math.max(DETAIL_COLUMN, ...lines.map((l) => (typeof l === 'string' ? 0 : displayWidth(l[0]) + 2)));
  return lines.map((l) => (typeof l === 'string' ? l : `${padDisplay(l[0], width)}${l[1]}`));
}

/**
 * What a change's history entry asked (its `change`, as the admin API took the PATCH), with its request id (the
 * Idempotency-Key `--request-id` sends again): ` (tier professional, blueprint 2.0.0; request cli-…)`, ` (repair,
 * allow-replacement "…"; request …)`, ` (tags {"CostCenter":"4712"}; request …)` (the tenant's tags after the change, all
 * of them, as the PATCH's `tags` and apply's plan give them; `tags {}` removed them all). An entry that keeps only the
 * change's digest (lib/change-digest.ts: an older one, or one too large to keep in full) gives its summary: ` (tier
 * professional, 40 tags (sha256 1f2e…); request …)`. Empty for an entry without either (onboard, suspend, resume, offboard).
 */
function askedLine(change: LifecycleExecution['change'], requestId: string, digest?: LifecycleExecution['changeDigest']): string {
  if (!change) return digest ? ` (${printable(describeDigest(digest))}; request ${printable(requestId)})` : '';
  const asked = [
    change.tier !== undefined ? `tier ${change.tier}` : '', change.blueprintVersion !== undefined ? `blueprint ${change.blueprintVersion}` : '',
    change.tags !== undefined ? `tags ${JSON.stringify(change.tags)}` : '',
    change.repair ? 'repair' : '', change.allowReplacement ? `allow-replacement ${JSON.stringify(change.allowReplacement.reason)}` : '',
  ].filter(Boolean);
  return ` (${printable(asked.join(', '))}; request ${printable(requestId)})`;
}

/**
 * Who asked for a history entry's operation and why, as the admin API recorded them: ` by admin:arn:…` (its `actor`, the
 * SigV4 caller) and ` reason "…"` (its `requestReason`, a suspend's, resume's or offboarding's `--reason`). Empty for an
 * entry without them (recorded before 2026-12-05, or started outside the admin API).
 */
function requesterLine(e: Pick<LifecycleExecution, 'actor' | 'requestReason'>): string {
  return `${e.actor ? ` by ${printable(e.actor)}` : ''}${e.requestReason ? ` reason ${printable(JSON.stringify(e.requestReason))}` : ''}`;
}

/**
 * The tenant's DR stack (`disasterRecovery`) for `tessera tenants show`: its status, region and stack, what it was last
 * deployed with; and, when its last update's rollback failed, since when, what was attempted and CloudFormation's reason
 * (it refuses every update until continue-update-rollback). Was only in `--json`.
 */
function drLines(dr: NonNullable<TenantRecord['disasterRecovery']>): DetailLine[] {
  const w = dr.deployedWith;
  const lines: DetailLine[] = [['dr', `${dr.status} in ${dr.region} (stack ${printable(dr.stackName)})${w ? `, deployed with tier ${printable(w.tier)} blueprint ${printable(w.blueprintVersion)}` : ''}`]];
  const f = dr.updateRollbackFailed;
  if (f) lines.push(`  UPDATE_ROLLBACK_FAILED since ${f.at}${f.attempted ? ` (attempted tier ${printable(f.attempted.tier)} blueprint ${printable(f.attempted.blueprintVersion)})` : ''}: ${printable(f.reason)}`);
  return lines;
}

/**
 * The tenant's account customization stacks (`customizations`, lambdas/lifecycle/customizations.ts) for `tessera tenants
 * show`: one line each, `<name> <status> (stack <name>, tier <tier> blueprint <version>, <updatedAt>)`, and a FAILED one's
 * reason on the next line. Was only in `--json`.
 */
function customizationLines(customizations: NonNullable<TenantRecord['customizations']>): DetailLine[] {
  return Object.entries(customizations).flatMap(([name, c]): DetailLine[] => [
    ['custom', `${printable(name)} ${c.status} (stack ${printable(c.stackName)}, tier ${printable(c.tier)}${c.blueprintVersion ? ` blueprint ${printable(c.blueprintVersion)}` : ''}, ${c.updatedAt})`],
    ...(c.reason ? [`  ${printable(c.reason)}`] : []),
  ]);
}

/**
 * An account baseline step's per-region record for `tessera tenants show`: one line `[label, '<count> <STATE>, … of <n>
 * regions (<checkedAt>)']`, with how many enabled regions were outside `allowedRegions` (not touched: the guardrail SCP
 * denies every call there), then one line for each region in a state that needs an operator's look, with its reason.
 * @param states every state of the record, in the order counted
 * @param attention the states listed region by region
 */
function regionOutcomeLines(label: string, r: { checkedAt: string; regions: { region: string; state: string; vpcId?: string; reason?: string }[]; outsideAllowedRegions?: string[] },
  states: readonly string[], attention: readonly string[]): DetailLine[] {
  const summary = states.map((s) => `${r.regions.filter((o) => o.state === s).length} ${s}`).join(', ');
  return [
    [label, `${summary} of ${r.regions.length} regions (${r.checkedAt})${r.outsideAllowedRegions?.length ? `; ${r.outsideAllowedRegions.length} regions outside allowedRegions not touched` : ''}`],
    ...r.regions.filter((o) => attention.includes(o.state)).map((o) => printable(`  ${o.region} ${o.state}${o.vpcId ? ` ${o.vpcId}` : ''}: ${o.reason ?? ''}`)),
  ];
}

/**
 * The tenant account's default VPCs (`defaultVpcs`, lambdas/lifecycle/delete-default-vpcs.ts) for `tessera tenants show`:
 * the counts of DELETED, NONE, KEPT and UNREACHABLE, then each region KEPT or UNREACHABLE with its reason (regionOutcomeLines).
 */
export function defaultVpcLines(d: NonNullable<TenantRecord['defaultVpcs']>): DetailLine[] {
  return regionOutcomeLines('default VPC', d, ['DELETED', 'NONE', 'KEPT', 'UNREACHABLE'], ['KEPT', 'UNREACHABLE']);
}

/**
 * EBS encryption by default in the tenant account (`ebsEncryption`, lambdas/lifecycle/enable-ebs-encryption.ts) for
 * `tessera tenants show`: the counts of ENABLED, NOT_ENABLED and UNREACHABLE, then each region not ENABLED with its
 * reason (regionOutcomeLines).
 */
export function ebsEncryptionLines(e: NonNullable<TenantRecord['ebsEncryption']>): DetailLine[] {
  return regionOutcomeLines('EBS encryption by default', e, ['ENABLED', 'NOT_ENABLED', 'UNREACHABLE'], ['NOT_ENABLED', 'UNREACHABLE']);
}

/**
 * The alternate contacts the onboarding set in the tenant account (`alternateContacts`,
 * lambdas/lifecycle/set-alternate-contacts.ts) for `tessera tenants show`: `['alternate contacts', 'BILLING, SECURITY set
 * (<time>)']`. The contacts themselves are the config's (the record keeps only their types).
 */
export function alternateContactsLine(a: NonNullable<TenantRecord['alternateContacts']>): DetailLine {
  return ['alternate contacts', `${a.types.join(', ') || 'none'} set (${a.setAt})`];
}

/**
 * The account-level S3 Block Public Access the onboarding set in the tenant account (`s3PublicAccessBlock`,
 * lambdas/lifecycle/set-s3-public-access-block.ts) for `tessera tenants show`: `['S3 Block Public Access', 'BlockPublicAcls,
 * IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets on (account-wide, set through us-east-1 at <time>)']`, with the
 * settings that are off named as such.
 */
export function s3PublicAccessBlockLine(b: NonNullable<TenantRecord['s3PublicAccessBlock']>): DetailLine {
  const settings = Object.entries(b.configuration);
  const on = settings.filter(([, v]) => v).map(([k]) => k);
  const off = settings.filter(([, v]) => !v).map(([k]) => k);
  return ['S3 Block Public Access', `${on.join(', ') || 'none'} on${off.length ? `, ${off.join(', ')} off` : ''} (account-wide, set through ${b.region} at ${b.setAt})`];
}

/**
 * The first admin's invitation at onboarding (`adminInvite`) for `tessera tenants show`: `INVITED <email> as admin (user
 * <id>; by <who> at <time>)`, with `found existing` when the user was there already and the event EventBridge refused;
 * `FAILED <email>: <reason>` (the reason names the command that invites); `SKIPPED <email>: <reason>`.
 */
export function adminInviteLine(a: NonNullable<TenantRecord['adminInvite']>): string {
  if (a.state === 'INVITED') {
    const made = [a.userId ? `user ${a.userId}` : '', a.found ? 'found existing' : '', `by ${a.by} at ${a.at}`].filter(Boolean).join('; ');
    return printable(`INVITED ${a.email} as admin (${made})${a.eventError ? `; Tenant User Created not sent: ${a.eventError}` : ''}`);
  }
  return printable(`${a.state} ${a.email}${a.reason ? `: ${a.reason}` : ''}`);
}

/**
 * A failure's pending stack update (`failure.stackUpdating`, lib/tenant-record.ts StackUpdating) as one line, for
 * `tessera tenants show` (under the failure) and `tessera tenants watch` (after it): the stack, its status when the
 * operation ended and the tier and version it was updating to; then `not resolved yet` (the registry keeps its tier and
 * version until a drift check finds the update ended), or when the drift check resolved it, the stack's status then and
 * whether its tier and version were recorded. The failure's reason says what the stack was doing when it was recorded
 * only; this line says what became of it.
 */
export function stackUpdatingLine(u: StackUpdating): string {
  const head = `stack ${u.stack} was ${u.status} to tier ${u.tier}, version ${u.blueprintVersion} when the operation ended`;
  const r = u.resolved;
  const tail = !r
    ? 'not resolved yet: the registry keeps its tier and version until a drift check finds the update ended'
    : `resolved ${r.at} by the drift check: ${r.stackStatus}, ${r.recorded ? 'its tier and version recorded' : 'the recorded tier and version kept'}`;
  return printable(`${head}; ${tail}`);
}

/**
 * The drift check's latest catch-up of the registry with the tenant stack (`drift.standing`): when, the stack and its
 * status, the tier and version recorded (`to`) and those the record said before (`from`), and the execution whose
 * pending update it resolved. `tessera tenants show` prints it as `caught up`, `tessera tenants drift <id>` as
 * `registry caught up`.
 */
export function standingText(st: NonNullable<DriftRecord['standing']>): string {
  return printable(`${st.at}: stack ${st.stack} was ${st.stackStatus} on tier ${st.to.tier}, version ${st.to.blueprintVersion} while the record said tier ${st.from.tier}, version ${st.from.blueprintVersion ?? '(none)'}${st.executionArn ? ` (its update completed after ${st.executionArn} ended)` : ''}: recorded; the usage key follows it into that tier's usage plan (see the usage key line when that move is pending)${st.namespace ? `; ${st.namespace}` : ''}`);
}

/**
 * A usage key move owed (`usageKey.movePending`, lib/tenant-record.ts; lambdas/lifecycle/manage-usage-key.ts
 * settleUsageKey) as one line for `tessera tenants show`: the registry says `tier` while API Gateway still has the key in
 * another tier's plan, so the edge enforces that plan's rate, burst and daily quota; since when, the error of the last
 * attempt, and what makes the move.
 */
export function usageKeyPendingLine(tenantId: string, tier: string, pending: NonNullable<NonNullable<TenantRecord['usageKey']>['movePending']>): string {
  return printable(`NOT in the usage plan of tier ${pending.tier}${pending.tier !== tier ? ` (the record now says ${tier})` : ''}: the move is pending since ${pending.at} (${pending.error}); until it is made the edge enforces the plan the key is in. The next drift check moves it (tessera tenants drift --detect ${tenantId}), or the next change`);
}

/**
 * The drift check's latest correction of the usage key's plan (`drift.usageKey`, lib/tenant-record.ts): when, and where the
 * key was and went (or that the move failed and is pending). `tessera tenants show` prints it as `key fixed`,
 * `tessera tenants drift <id>` as `usage key corrected`.
 */
export function usageKeyCorrectionText(fix: NonNullable<DriftRecord['usageKey']>): string {
  return printable(`${fix.at}: ${fix.outcome === 'moved' ? 'the key was not in its tier\'s usage plan alone: ' : 'the key is not in its tier\'s usage plan, its move failed: '}${fix.note}`);
}

/**
 * The gateway policy's version and last write, one line for `tessera tenants show`: `v3, PATCH 2026-12-05T10:00:00.000Z
 * by admin:arn:… reason "…"` (gatewayChange), `v0 (as onboarded, never written)` without one.
 */
export function policyLine(t: Pick<TenantRecord, 'gatewayChange'>): string {
  const c = t.gatewayChange;
  if (!c) return 'v0 (as onboarded, never written)';
  return `v${c.version}, ${c.method} ${c.at} by ${printable(c.actor)}${c.reason ? ` reason ${printable(JSON.stringify(c.reason))}` : ''}`;
}

/** A history entry's line after its time: a lifecycle operation's kind and outcome, or a policy write's version, method and changed key paths. */
function historyLine(e: LifecycleExecution): string {
  if (e.kind === 'gateway-policy') {
    const p = e.policyChange;
    return `gateway  ${p ? `v${p.version} ${p.method} ${p.paths.length ? printable(p.paths.join(', ')) : '(no key changed)'}` : e.status}${requesterLine(e)}`;
  }
  return `${e.kind.padEnd(9)}${e.status}${askedLine(e.change, e.requestId, e.changeDigest)}${requesterLine(e)}${printable(e.failedStep ? ` at "${e.failedStep}": ${e.reason}` : e.reason ? `: ${e.reason}` : '')}`;
}

/**
 * The step a record names when no operation holds the tenant and its last operation failed there (`currentStep` is
 * `failure.step`, as lease.ts failOperation leaves it): `change failed at Deploy blueprint` (the failure's kind, else
 * `operation`). `tessera tenants show`'s status line and `tenants list`'s CURRENT STEP say it so: a change refused at
 * *Deploy blueprint* left the tenant ACTIVE on its tier and read `ACTIVE — step: Deploy blueprint`, as if the change
 * still ran (a new user's trial, s40h).
 * @returns undefined while an operation holds the tenant (`lease`: its step is running), or when the step is not the failure's
 */
export function failedStepText(t: Pick<TenantRecord, 'currentStep' | 'lease' | 'failure'>): string | undefined {
  if (t.lease || !t.currentStep || t.failure?.step !== t.currentStep) return undefined;
  return `${t.failure.kind ?? 'operation'} failed at ${t.currentStep}`;
}

/** `tessera tenants list`'s rows: the records, each `currentStep` as {@link failedStepText} says a failed one. */
export function tenantListRows<T extends Pick<TenantRecord, 'currentStep' | 'lease' | 'failure'>>(tenants: readonly T[]): T[] {
  return tenants.map((t) => ({ ...t, currentStep: failedStepText(t) ?? t.currentStep }));
}

/**
 * How many resources a failure left behind, as `tenants show` says it: `800 resources: the record names the first 25 (tessera
 * tenants show acme --json: failure.leftBehind), the stack's events each of the 775 more`. The failure's reason names them too,
 * but it is clipped to 2,000 UTF-8 bytes (catch-reason.ts MAX_REASON_BYTES), and its end, which counts the ones not recorded, is what goes.
 * @param named the resources the record names (`failure.leftBehind`, at most 25: lambdas/lifecycle/failure-bounds.ts)
 * @param omitted the ones it does not (`failure.leftBehindOmitted`)
 */
export function leftBehindLine(tenantId: string, named: number, omitted: number): string {
  const where = `tessera tenants show ${tenantId} --json: failure.leftBehind`;
  return omitted ? `${named + omitted} resources: the record names the first ${named} (${where}), the stack's events each of the ${omitted} more` : `${named} resource${named === 1 ? '' : 's'} (${where})`;
}

/** A tenant's own tags as `tenants show` prints them: `Key=Value` in key order, `, `-separated; `-` for none. */
export function tagsLine(tags: TenantRecord['tags']): string {
  const keys = Object.keys(tags ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${tags![k]}`).join(', ') : '-';
}

/** `tessera tenants show`'s text: the record's fields, its DR stack and account customizations, the operation holding it, its failure (with its pending stack update), the last execution refused before the lease (`lastRefusal`), the drift check's catch-up of the tier and version, stack outputs, what an offboarding kept (offboarding-format.ts) the gateway policy's version and last write (policyLine) and history (a change's entry with what it asked and its request id; a policy write's version and changed key paths; who asked and why, when recorded). The record's values share the column after its longest label (detailLines). */
export function tenantDetails(t: TenantRecord): string {
  const record: DetailLine[] = [
    ['tenant', `${t.tenantId} (${t.name})`],
    ['status', `${t.status}${t.currentStep ? ` — ${failedStepText(t) ?? `step: ${t.currentStep}`}` : ''}`],
    ['tier', `${t.tier} (${t.isolation} isolation)`],
    ['account', t.accountId ?? '-'],
    ['vpc', t.vpcCidr ?? (t.offboarding?.network?.vpcCidr ? `- (${t.offboarding.network.vpcCidr} given back to the pool ${t.offboarding.network.releasedAt})` : '-')],
    ['blueprint', `${t.blueprintVersion ?? '-'}${t.stackName ? ` (stack ${t.stackName})` : ''}`],
    ['admin', t.adminEmail],
    // The tenant's own tags (on its account and stacks), in key order: `tags        CostCenter=4711, Owner=team-x`.
    ['tags', tagsLine(t.tags)],
    ...(t.adminInvite ? [['invite', adminInviteLine(t.adminInvite)] as const] : []),
    ['created', t.createdAt],
    // Its version (the ETag --if-match takes) and who wrote it last, when and why: the history below has every write.
    ['policy', policyLine(t)],
  ];
  // The operation holding the tenant (the one a 409 operation_in_progress names): without it, a tenant held by a stopped
  // execution showed nothing of what refuses every other request.
  if (t.disasterRecovery) record.push(...drLines(t.disasterRecovery));
  if (t.customizations) record.push(...customizationLines(t.customizations));
  if (t.defaultVpcs) record.push(...defaultVpcLines(t.defaultVpcs));
  if (t.ebsEncryption) record.push(...ebsEncryptionLines(t.ebsEncryption));
  if (t.s3PublicAccessBlock) record.push(s3PublicAccessBlockLine(t.s3PublicAccessBlock));
  if (t.alternateContacts) record.push(alternateContactsLine(t.alternateContacts));
  if (t.lease) record.push(['operation', `${t.lease.kind} since ${t.lease.acquiredAt} (request ${t.lease.requestId}; execution ${t.lease.executionArn})`]);
  // printable: a failure's reason quotes AWS's messages (CloudFormation's status reasons), which may hold line breaks.
  if (t.failure) record.push(['failure', printable(`${t.failure.step}: ${t.failure.reason}`)]);
  if (t.failure?.stackUpdating) record.push(`  ${stackUpdatingLine(t.failure.stackUpdating)}`);
  if (t.failure?.leftBehind?.length) record.push(['left behind', leftBehindLine(t.tenantId, t.failure.leftBehind.length, t.failure.leftBehindOmitted ?? 0)]);
  // What to run about it (nothing while an operation holds the tenant: that operation is the next step).
  if (t.failure && !t.lease) record.push(['next', nextStepAfterFailure(t.tenantId, t.failure.kind ?? t.executions.findLast((e) => e.status === 'FAILED')?.kind, t.failure.reason, t.failure.stackUpdating, t.failure.step)]);
  // The last execution refused before it took the lease (started elsewhere than the admin API): said nowhere else in the record.
  if (t.lastRefusal) {
    const r = t.lastRefusal;
    record.push(['refused', `${r.kind} at ${r.at} (request ${r.requestId}${r.executionArn ? `; execution ${r.executionArn}` : ''}) at "${r.step}": ${printable(r.reason)} (nothing changed)`]);
  }
  // The registry's tier and version recorded from the stack by a drift check (they were behind it): why the tier changed.
  if (t.drift?.standing) record.push(['caught up', standingText(t.drift.standing)]);
  // The edge (API Gateway) enforces the plan the key is in: said whenever it is not the recorded tier's.
  if (t.usageKey?.movePending) record.push(['usage key', usageKeyPendingLine(t.tenantId, t.tier, t.usageKey.movePending)]);
  // What the drift check corrected of the key's usage plan (the edge enforced another plan than the recorded tier's).
  if (t.drift?.usageKey) record.push(['key fixed', usageKeyCorrectionText(t.drift.usageKey)]);
  // The record's labels share one column (detailLines); the blocks below (outputs, offboarding, history) have their own.
  const lines = detailLines(record);
  const outputs = Object.entries(t.stackOutputs);
  if (outputs.length) {
    // Two spaces after the longest key, as the record's labels: `WorkloadSecurityGroupId` (23) had one, a longer key none.
    const width = Math.max(OUTPUTS_COLUMN, ...outputs.map(([k]) => displayWidth(k) + 2));
    lines.push('outputs');
    for (const [k, v] of outputs) lines.push(`  ${padDisplay(k, width)}${v}`);
  }
  lines.push(...offboardingLines(t));
  if (t.executions.length) {
    lines.push('history');
    for (const e of t.executions) lines.push(`  ${e.startedAt}  ${historyLine(e)}`);
  }
  return lines.join('\n');
}
