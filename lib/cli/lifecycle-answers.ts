/**
 * The lines `tessera tenants suspend|resume`, `delete` and `retry` print for each answer the admin API
 * gives them (lambdas/admin/admin-api.ts `offboard`, the retry route). Each answer says whether
 * something started: the CLI says so, and names the execution only when there is one.
 */
import type { StackUpdating } from '../tenant-record.js';

/** `DELETE /admin/tenants/{id}`: 202 `{ executionArn, status, resumed? }` (started; `resumed`: the step a stopped offboarding had failed at), or 200 `{ note, executionArn? }` (an offboarding already running, or the tenant already OFFBOARDED: nothing started). */
/**
 * `DELETE /admin/tenants/{id}`: 202 `{ requestId, executionArn, status, resumed? }` (an offboarding started), 200
 * `{ requestId?, executionArn?, status, note }` (one running, or the tenant offboarded: `requestId` is that offboarding's,
 * absent for one recorded without a history entry).
 */
export interface OffboardAnswer { requestId?: string; executionArn?: string; status?: string; note?: string; resumed?: string }

/**
 * `POST /admin/tenants/{id}/retry`: 202 `{ requestId, executionArn, status, corrected }` (an onboarding started again under its
 * recorded request id), 202 `{ requestId, executionArn, status: 'OFFBOARDING', resumed? }` (a stopped offboarding resumed, as
 * DELETE answers it: `resumed` the step it had failed at), 200 `{ requestId?, executionArn, note }` (the offboarding running),
 * or 200 `{ status, announced }` (owed announcements sent, no execution).
 */
export interface RetryAnswer { requestId?: string; executionArn?: string; status: string; corrected?: string[]; note?: string; announced?: string[]; resumed?: string }

const executionLine = (arn: string | undefined) => (arn ? `\nexecution ${arn}` : '');

/**
 * What `tessera tenants delete <id> --yes` prints: `offboarding <id> started`, `offboarding <id> resumed (it had
 * stopped at "<step>")`, or `offboarding <id>: <note>` when nothing started; ` — request <key>` when one was sent (the
 * Idempotency-Key, the offboarding's request id); then `execution <arn>` when the answer names one (none for a tenant
 * already offboarded).
 */
export function offboardLines(id: string, out: OffboardAnswer, requestId?: string): string {
  // The answer's request id when it names one (the offboarding that runs or ran, maybe under another key than the one sent).
  const shown = out.requestId ?? requestId;
  const request = shown ? ` — request ${shown}` : '';
  if (out.note) return `offboarding ${id}: ${out.note}${request}${executionLine(out.executionArn)}`;
  const resumed = out.resumed !== undefined ? ` (it had stopped at "${out.resumed}")` : '';
  return `offboarding ${id} ${resumed ? 'resumed' : 'started'}${resumed}${request}${executionLine(out.executionArn)}`;
}

/**
 * What `tessera tenants retry <id>` prints: `<id>: onboarding retried [with corrected …]`, `<id>: offboarding
 * resumed (it had stopped at "<step>")`, `<id>: <note>` (the offboarding already running), each with ` — request <id>`
 * when the answer names the operation's request id, or `<id>: owed announcement(s) sent: …` (an operation that took
 * effect and whose announcement was owed: nothing started); then `execution <arn>` when the answer names one. Until
 * 2026-12-07 the step and the request id the answer names were dropped (`<id>: offboarding resumed` alone), which
 * `tenants delete` of the same tenant printed.
 */
export function retryLines(id: string, out: RetryAnswer): string {
  if (out.announced) return `${id}: ${out.status}; owed announcement(s) sent: ${out.announced.join(', ') || 'none'} (nothing started)`;
  const request = out.requestId ? ` — request ${out.requestId}` : '';
  if (out.note) return `${id}: ${out.note}${request}${executionLine(out.executionArn)}`;
  const what = out.status === 'OFFBOARDING'
    ? `offboarding resumed${out.resumed !== undefined ? ` (it had stopped at "${out.resumed}")` : ''}`
    : `onboarding retried${out.corrected?.length ? ` with corrected ${out.corrected.join(', ')}` : ''}`;
  return `${id}: ${what}${request}${executionLine(out.executionArn)}`;
}

/** `POST /admin/tenants`: 202 `{ executionArn, requestId, status }` (an onboarding, or a new attempt of a failed one, started), or 200 `{ note, executionArn?, status }` (the same requestId again: the onboarding running, or the tenant already onboarded by it; nothing started). */
export interface OnboardAnswer { executionArn?: string; requestId?: string; status?: string; note?: string }

/**
 * What `tessera tenants create` prints: `onboarding <id> (tier <tier>) started — request <requestId>` and `execution <arn>`
 * for a 202, or `onboarding <id>: <note> — request <requestId>` (with `execution <arn>` only when the answer names one)
 * when the same request was sent again and nothing started. Before, the replay's note was dropped: the CLI said
 * "started" and `execution undefined` for `{"status":"ACTIVE","note":"already onboarded by this request; nothing started"}`.
 */
export function onboardLines(id: string, tier: string, out: OnboardAnswer, requestId: string): string {
  if (out.note) return `onboarding ${id}: ${out.note}${out.status ? ` (status ${out.status})` : ''} — request ${requestId}${executionLine(out.executionArn)}`;
  return `onboarding ${id} (tier ${tier}) started — request ${requestId}${executionLine(out.executionArn)}`;
}

/** `POST /admin/tenants/{id}/suspend|resume`: 202 `{ executionArn, requestId, status, statusOnSuccess }` (started; `status` the tenant's while it runs, served as before), or 200 `{ executionArn, note, outcome? }` (the same Idempotency-Key again: that execution, running or ended; nothing started). */
export interface StatusChangeAnswer { executionArn?: string; requestId?: string; status: string; statusOnSuccess?: string; note?: string }

/**
 * What `tessera tenants suspend|resume <id>` prints: `acme: suspend started (SUSPENDED once it ends: tessera tenants watch
 * acme, or --watch)`, or `acme: suspend: <note>` for a request sent again with its key (nothing started); ` — request <key>`
 * when one was sent; then `execution <arn>`. The status it names is the one the execution writes when it succeeds
 * (`statusOnSuccess`, else the action's: an admin API before it said that status in `status`); until then the tenant is
 * served as before.
 */
export function statusChangeLines(id: string, action: 'suspend' | 'resume', out: StatusChangeAnswer, requestId?: string): string {
  const request = requestId ? ` — request ${requestId}` : '';
  if (out.note) return `${id}: ${action}: ${out.note}${request}${executionLine(out.executionArn)}`;
  const target = out.statusOnSuccess ?? (action === 'suspend' ? 'SUSPENDED' : 'ACTIVE');
  return `${id}: ${action} started (${target} once it ends: tessera tenants watch ${id}, or --watch)${request}${executionLine(out.executionArn)}`;
}

/** The reason deploy-blueprint.ts gives when it refuses a change whose tenant or DR stack was deleted outside Tessera (`ChangeRefused: … does not exist (deleted outside Tessera)…`). */
const DELETED_OUTSIDE = /^ChangeRefused: (DR )?stack \S+ .*does not exist \(deleted outside Tessera\)/;
/** The reason deploy-blueprint.ts gives when a change meets its tenant or DR stack dead (`StackFailed: stack … is DELETE_FAILED: …; … CloudFormation takes no update of a DELETE_FAILED stack …`). */
const DEAD_STACK = /^StackFailed: stack \S+ (in (\S+) )?is [A-Z_]+: .*CloudFormation takes no update of a [A-Z_]+ stack/;

/** Whether a failed change's `reason` ends any change of the tenant the same way (its stack `gone` or dead), and of which stack (`dr`). */
function changeEndsAgain(reason: string): { gone: boolean; dr: boolean } | undefined {
  if (DELETED_OUTSIDE.test(reason)) return { gone: true, dr: /^ChangeRefused: DR stack /.test(reason) };
  const dead = DEAD_STACK.exec(reason);
  return dead ? { gone: false, dr: dead[1] !== undefined } : undefined;
}

/** The reasons applyCustomization (lambdas/lifecycle/customizations.ts) gives: `customization <name>: …`, or about its stack `tessera-<tenant>-custom-<name>`. */
const CUSTOMIZATION_REASON = /\bcustomization [a-z0-9-]+: |\btessera-[a-z0-9-]+-custom-[a-z0-9-]+\b/;

/** Whether a failure at `step` for `reason` is an account customization's (*Deploy customizations*, *Check customizations*: their state names may carry a prefix). */
function isCustomizationFailure(reason: string, step: string | undefined): boolean {
  return /\b(Deploy|Check) customizations$/.test(step ?? '') || CUSTOMIZATION_REASON.test(reason);
}

/**
 * What to run after a failed operation (`failure.kind`, else the execution's kind; docs/tenant-lifecycle.md):
 * a failed onboarding resumes with `tessera tenants retry <id>` (with `--admin-email` when AWS refused the email for
 * another account: it is the new account's root email), a stopped offboarding with `retry` or `delete --yes` again, a
 * failed change or upgrade (the tenant stays on its previous tier and version) with the same `update` again (but not
 * one refused because its tenant or DR stack was deleted outside Tessera, or that met it dead (DELETE_FAILED...): that
 * fails again; restore or import the stores, or offboard: docs/resilience.md "Repairing it"), a failed
 * suspend or resume with the same command again. `tessera tenants watch` and `show` print it after the failure.
 *
 * An offboarding, change or upgrade refused because the tenant was rebuilt in its DR region (`TenantRebuiltInDrRegion`):
 * the reason names the way on (its rebuilt stacks removed first), not `retry`, which an ACTIVE tenant refuses.
 *
 * A change or upgrade whose tenant stack was still updating when it ended (`stackUpdating`, lib/tenant-record.ts
 * StackUpdating) does not stay on its previous tier for sure: unresolved, the next step is the drift check that records
 * where the update ended (until then a `PATCH` to the recorded tier or version is 409 `stack_update_pending`); resolved
 * with the stack's tier and version `recorded`, there is nothing to run again; resolved otherwise (the update rolled
 * back), the change's own next step.
 * A failure of an account customization (at *Deploy customizations* or *Check customizations*, `step`, or a reason about
 * a customization or its stack `tessera-<id>-custom-<name>`): its template and parameters are read from the blueprint
 * catalog the platform deployment publishes, not from the config file, so fixing them takes the platform deployed again
 * (`npx cdk deploy` of the platform stack; on the local platform, a restart with the fixed config) before the retry,
 * which otherwise deploys the old ones and fails the same way.
 * @param stackUpdating the failure's `stackUpdating` @default - none: the failure's kind decides
 * @param step the step the operation failed at (`failure.step`) @default - none: the reason alone says whether it is a customization's
 */
export function nextStepAfterFailure(id: string, kind: string | undefined, reason: string, stackUpdating?: StackUpdating, step?: string): string {
  const cause = isCustomizationFailure(reason, step)
    ? 'remove the cause above (a customization\'s template and parameters are read from the blueprint catalog the platform deployment publishes: after fixing the template file or tiers.<tier>.accountCustomizations, deploy the platform again — npx cdk deploy TesseraPlatform, on the local platform a restart with the fixed config — or the retry deploys the old ones), then run'
    : 'remove the cause above, then run';
  if (stackUpdating && !stackUpdating.resolved) {
    return `the stack's update goes on in CloudFormation: tessera tenants drift --detect ${id} records the tier and version it ends on (the daily drift run does too); until then tessera tenants update ${id} to the recorded tier or version is refused (409 stack_update_pending)`;
  }
  // check-rebuilt-stack.ts refuses a tenant rebuilt in its DR region before changing anything: the tenant keeps
  // its status (an ACTIVE tenant takes no retry, 409), and the reason itself gives the way on (lambdas/lifecycle/rebuilt-stack.ts).
  if (/\bTenantRebuiltInDrRegion:/.test(reason)) return 'the tenant runs from its rebuilt stack in the DR region, which the lifecycle does not manage: follow the reason above (remove the rebuilt stacks first), then run the command it names';
  // rebuilt-stack.ts drRegionNotAllowed: refused at Check rebuilt stack before any call, the tenant keeping its status
  // (a retry of an ACTIVE tenant is a 409): the config must list the region again first.
  if (/\bDrRegionNotAllowed:/.test(reason)) return `add the DR region named above to allowedRegions and deploy it (npx cdk deploy TesseraOrganization, whose guardrail SCP lists allowedRegions, and TesseraPlatform), then send the ${kind ?? 'operation'} again${kind === 'offboard' ? `: tessera tenants delete ${id} --yes` : ''}`;
  if (stackUpdating?.resolved?.recorded) return `nothing to run again: the stack completed its update after the ${kind ?? 'operation'} ended, and the drift check of ${stackUpdating.resolved.at} recorded its tier and version`;
  switch (kind) {
    case 'onboard':
      return /EMAIL_ALREADY_EXISTS/.test(reason)
        ? `tessera tenants retry ${id} --admin-email <another email> (the admin email is the new AWS account's root email, and another AWS account uses this one; steps already done are skipped)`
        : `${cause} tessera tenants retry ${id} (steps already done are skipped)`;
    case 'offboard': return `${cause} tessera tenants retry ${id} (or tessera tenants delete ${id} --yes): the offboarding resumes at the failed step`;
    case 'change': case 'upgrade':
      // deploy-blueprint.ts refuses a change, upgrade or repair whose tenant stack (or recorded DR stack) is gone (it would
      // create it empty), and fails one whose stack is dead (DELETE_FAILED, ROLLBACK_FAILED...: it takes no update). The
      // same command again ends the same way: what to do instead is in the reason.
      const again = changeEndsAgain(reason);
      if (again) {
        const dr = again.dr ? `${again.gone ? '' : 'finish its deletion by hand, then '}import the DR stores it retained back into it (CloudFormation resource import)` : 'restore the tenant\'s data stores from their backups and snapshots';
        return `the tenant stays on its previous tier and version; running the change again (a repair too) ${again.gone ? 'is refused the same way while the stack is gone' : 'fails the same way: CloudFormation takes only the deletion of that stack'}: `
          + `${dr}, or offboard the tenant: tessera tenants delete ${id} --yes (docs/resilience.md: Drift, Repairing it)`;
      }
      return `the tenant stays on its previous tier and version; ${cause} the change again: tessera tenants update ${id} --tier <tier> | --blueprint-version <version> | --repair`;
    case 'suspend': case 'resume': return `${cause} tessera tenants ${kind} ${id} again`;
    case 'status': return `${cause} tessera tenants suspend ${id} (or resume) again`;
    default: return `${cause} tessera tenants retry ${id}`;
  }
}
