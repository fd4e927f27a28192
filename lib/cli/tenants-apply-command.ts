import { Command } from 'commander';
import { createHash } from 'node:crypto';
import { describeDrRegionConflict, drRegionConflict } from '../../lambdas/lifecycle/dr-region-change.js';
import { migrationTiers, type TierList, type TierSummary } from '../platform-tiers.js';
import { nearest } from '../config/nearest.js';
import { requestErrorMap } from '../request-issues.js';
import type * as TierMigration from '../../lambdas/lifecycle/tier-migration.js';
import { adminInviteProblem, LIFECYCLE_OPERATIONS, OnboardRequest, type TenantRecord } from '../tenant-record.js';
import { canonicalTags, type TenantTags } from '../tenant-tags.js';
import { AdminApiError, type AdminClient } from './admin-client.js';
import { adminTarget } from './admin-target.js';
import { allTenants } from './all-tenants.js';
import { platformTierList } from './platform-tiers-client.js';
import { CliError } from './cli-error.js';
import { DETAILED, detailedExitcodeOption, detailedFailureCode, type DetailedExitCode } from './detailed-exitcode.js';
import { fileLabel, MAX_YAML_FILE_BYTES, readStrictYamlFile, shown, writtenAs, YamlFileError, type StrictYaml } from './strict-yaml-file.js';
import { valueAt } from '../zod-issues.js';

/**
 * `tessera tenants apply -f tenants.yaml [--dry-run]`: tenants as code. The file lists the tenants that should exist;
 * apply onboards the missing ones and changes the tier and the tags of the others, nothing else: a tenant of the registry
 * that the file leaves out is reported, never offboarded, and a name or admin email that differ are reported as drift
 * (apply changes neither on an existing tenant).
 */

/** One entry of the file: the onboarding request without its requestId (apply derives it: {@link entryRequestId}). */
export const TenantEntry = OnboardRequest.omit({ requestId: true });
export type TenantEntry = ReturnType<typeof TenantEntry.parse>;
/** The fields an entry of the file may have, for the nearest one to an unknown field (`tennantId`, `admin_email`). */
const ENTRY_FIELDS = ['tenantId', 'name', 'tier', 'adminEmail', 'inviteAdmin', 'tags'] as const;

/**
 * Keys in a fixed order, so the same entry always hashes the same whatever the file's key order. `inviteAdmin` only
 * when the entry gives it, `tags` only when it gives some (their keys sorted): an entry without them keeps the request id
 * it had before the fields existed.
 */
const canonical = (e: TenantEntry) => JSON.stringify({
  tenantId: e.tenantId, name: e.name, tier: e.tier, adminEmail: e.adminEmail, ...(e.inviteAdmin !== undefined ? { inviteAdmin: e.inviteAdmin } : {}),
  ...(e.tags && Object.keys(e.tags).length > 0 ? { tags: JSON.parse(canonicalTags(e.tags)) as TenantTags } : {}),
});
const sha12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);

/**
 * The onboarding's requestId: `apply-<tenantId>-<12 hex of the sha256 of the entry's canonical JSON>`. The same entry
 * again sends the same request id, so a run after a lost answer replays that onboarding instead of starting another.
 */
export const entryRequestId = (e: TenantEntry) => `apply-${e.tenantId}-${sha12(canonical(e))}`;

/**
 * The tier change's Idempotency-Key: `apply-<tenantId>-<12 hex>` of the entry, the tier the tenant has now and the
 * latest ended execution of the tenant. The same run again (a lost answer: the change is running, nothing of it ended)
 * sends the same key and gets that change back; once a change has ended (failed, or the tier was later changed back),
 * a new one gets a new key (the same key again would only answer the ended one: "nothing started").
 */
export function changeKey(e: TenantEntry, current: Pick<TenantRecord, 'tier' | 'executions'>): string {
  const ended = (current.executions ?? []).findLast((x) => x.status !== 'RUNNING');
  return `apply-${e.tenantId}-${sha12(`${canonical(e)}\nfrom ${current.tier}\nafter ${ended?.executionArn ?? ended?.requestId ?? '-'}`)}`;
}


/** The most problems a TenantsFileError's message lists (`--json` has them all): a 10 MB file of one bad entry repeated had 150,000 lines. */
const MAX_PROBLEMS_SHOWN = 50;

/**
 * The file's problems, each a line naming the file as given on the command line, the entry and the field
 * (`tenants.yaml: tenants[2].tier = "": ...`): exit 2, nothing was applied. The message lists the first
 * MAX_PROBLEMS_SHOWN and counts the rest; `problems` keeps every line for `--json`.
 */
export class TenantsFileError extends CliError {
  constructor(readonly problems: string[]) {
    const listed = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => `  - ${p}`);
    const more = problems.length > MAX_PROBLEMS_SHOWN ? [`  ... and ${problems.length - MAX_PROBLEMS_SHOWN} more (--json lists every problem)`] : [];
    super(problems.length === 1 ? problems[0] : `${problems.length} problems; nothing was applied:\n${[...listed, ...more].join('\n')}`, 2, { type: 'usage_error', code: 'invalid_tenants_file' });
    this.name = 'TenantsFileError';
  }
}

/** The largest tenants file apply reads (bytes): strict-yaml-file.ts MAX_YAML_FILE_BYTES. */
export const MAX_TENANTS_FILE_BYTES = MAX_YAML_FILE_BYTES;

export { fileLabel };

/**
 * The file's entries, checked with the admin API's own onboarding schema before any call. The file is read by the
 * strict YAML reader `tessera serve --tenants-file` shares (strict-yaml-file.ts readStrictYamlFile: UTF-8, one YAML 1.2
 * document, no key twice, no tag it cannot resolve, no alias bomb, not empty, at most 16 MiB).
 * @param file the path as the user gave it (`-f`), `-` for the standard input: every message names the file so
 *   (fileLabel), not by its base name (two `tenants.yaml` of two directories read the same)
 * @param stdin what `-f -` reads @default process.stdin
 * @throws TenantsFileError (exit 2) naming the file, the entry and the field of every problem: `tenants.yaml: tenants[2].tier = "": ...`,
 *   with the value as written where YAML read it as another type (`tenantId = 0123 (YAML reads it as 123; ...)`);
 *   a tenant id given twice; every refusal of readStrictYamlFile
 */
export async function readTenantsFile(file: string, stdin?: NodeJS.ReadableStream): Promise<TenantEntry[]> {
  const checked = await checkTenantsFile(file, stdin);
  if (checked.problems.length) throw new TenantsFileError(checked.problems);
  return checked.entries.map((x) => x.entry);
}

/** What {@link checkTenantsFile} found: the valid entries with their index in the file, and the problems of the others. */
export interface CheckedTenantsFile {
  /** Each entry the schema accepts, with its index in `tenants` (problems name it so). */
  entries: Array<{ index: number; entry: TenantEntry }>;
  /**
   * The tier of each entry the schema refuses for another field (its `tier` a string the schema accepts), with its index
   * and its `tenantId` when that is a string: apply checks these tiers too, so that a file's misspelt tier is reported in
   * the same run as the same entry's bad email, not in the next one.
   */
  refusedTiers: Array<{ index: number; tenantId?: string; tier: string }>;
  /** readTenantsFile's lines, for the entries it refuses and the file's top level. */
  problems: string[];
}

/**
 * readTenantsFile's checks without the throw for an entry's problems: apply goes on to check the valid entries' tiers,
 * so that one run reports the file's problems and the tiers' together (exit 2 before any change).
 * @throws TenantsFileError for a file it cannot read as a tenants file (readStrictYamlFile's refusals; no list `tenants`)
 */
export async function checkTenantsFile(file: string, stdin?: NodeJS.ReadableStream): Promise<CheckedTenantsFile> {
  const label = fileLabel(file);
  let yaml: StrictYaml;
  try {
    yaml = await readStrictYamlFile(file, { source: `-f ${file}`, holds: 'it holds tenants: [{ tenantId, name, tier, adminEmail }]', reader: 'apply' }, stdin);
  } catch (e) {
    if (e instanceof YamlFileError) throw new TenantsFileError(e.problems);
    throw e;
  }
  const top = yaml.value as { tenants?: unknown } | null;
  const isObject = Boolean(top) && typeof top === 'object' && !Array.isArray(top);
  const extra = isObject ? Object.keys(top!).filter((k) => k !== 'tenants') : [];
  const unknownKeys = extra.map((k) => `${label}: ${k}: unknown key${nearest(k, ['tenants']) ? ' (did you mean tenants?)' : ''} (the file holds only \`tenants\`)`);
  if (!isObject || !Array.isArray(top!.tenants)) {
    const holds = '(tenants: [{ tenantId, name, tier, adminEmail }])';
    // A top-level key misspelt (`tenant:`): `tenants` is missing, and the misspelt key is named with its nearest.
    if (isObject && top!.tenants === undefined) throw new TenantsFileError([`${label}: tenants: missing: the file holds a list \`tenants\` ${holds}`, ...unknownKeys]);
    throw new TenantsFileError([`${label}: expected an object with a list \`tenants\` ${holds}, got ${shown(isObject ? top!.tenants : top)}${isObject ? ' for tenants' : ''}`, ...unknownKeys]);
  }
  const problems: string[] = [...unknownKeys];
  const entries: CheckedTenantsFile['entries'] = [];
  const refusedTiers: CheckedTenantsFile['refusedTiers'] = [];
  const seen = new Map<string, number>();
  (top!.tenants as unknown[]).forEach((raw, i) => {
    // Also of an entry with other problems: each is named once.
    const id = (raw as { tenantId?: unknown } | null)?.tenantId;
    const first = typeof id === 'string' ? seen.get(id) : undefined;
    if (first !== undefined) problems.push(`${label}: tenants[${i}].tenantId = "${String(id)}": given twice (also tenants[${first}]); a tenant is listed once`);
    else if (typeof id === 'string') seen.set(id, i);
    const parsed = TenantEntry.safeParse(raw, { error: requestErrorMap });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        if (issue.code === 'unrecognized_keys') {
          for (const k of issue.keys) {
            const near = nearest(k, ENTRY_FIELDS);
            problems.push(`${label}: tenants[${i}].${k}: unknown field${near ? ` (did you mean ${near}?)` : ''} (an entry has tenantId, name, tier, adminEmail and optionally inviteAdmin and tags; apply derives the requestId)`);
          }
          continue;
        }
        const field = issue.path.map(String).join('.');
        const value = field ? valueAt(raw, issue.path) : raw;
        // A field left out (or misspelt: its unknown-field line names it): `is required`, not zod's "expected string, received undefined".
        if (field && value === undefined && issue.code === 'invalid_type' && issue.path.length === 1) {
          problems.push(`${label}: tenants[${i}].${field} = missing: is required (an entry has tenantId, name, tier, adminEmail and optionally inviteAdmin and tags)`);
          continue;
        }
        // The value as written, quoted, checked with the same schema: where it would be refused too, both are said now.
        const quoted = (text: string) => {
          const again = TenantEntry.safeParse(setAt(raw, issue.path, text), { error: requestErrorMap });
          const same = again.success ? undefined : again.error.issues.find((x) => x.path.map(String).join('.') === field);
          return same?.message;
        };
        // A record's key its key schema refused (a tag key): that schema's reason, not zod's bare "Invalid key in record".
        const message = issue.code === 'invalid_key' && issue.issues.length ? `Invalid key ${JSON.stringify(String(issue.path.at(-1)))}: ${issue.issues[0].message}` : issue.message;
        problems.push(`${label}: tenants[${i}]${field ? `.${field}` : ''} = ${writtenAs(yaml, ['tenants', i, ...issue.path], value, quoted) ?? shown(value)}: ${message}`);
      }
      const tier = (raw as { tier?: unknown } | null)?.tier;
      if (typeof tier === 'string' && !parsed.error.issues.some((x) => x.path[0] === 'tier')) refusedTiers.push({ index: i, ...(typeof id === 'string' ? { tenantId: id } : {}), tier });
      return;
    }
    entries.push({ index: i, entry: parsed.data });
  });
  return { entries, refusedTiers, problems };
}

/** `raw` (an entry as read) with the value at `path` replaced by `value`; `raw` itself is left as it is. */
function setAt(raw: unknown, path: readonly PropertyKey[], value: unknown): unknown {
  if (!path.length) return value;
  const [head, ...rest] = path;
  const copy = Array.isArray(raw) ? [...raw] : { ...(raw as object) };
  (copy as Record<PropertyKey, unknown>)[head] = setAt((raw as Record<PropertyKey, unknown> | null)?.[head], rest, value);
  return copy;
}

/**
 * What the admin API would refuse of an entry for its tier, checked against the platform's tiers (`GET /admin/tiers`) before
 * anything changes, for each entry whose tier apply would send (a tenant to create, or one whose tier differs): a tier the
 * platform lacks (the API's 400 unknown_tier), a tenant id that is a tier's name (reserved_tenant_id: it would name that
 * tier's stack, OU and usage plan), an account-isolation tenant's admin email outside CreateAccount's 6-64 characters.
 * The API checked them per request, so the entries before the first refused one had been applied. Lines as readTenantsFile's,
 * a tier the platform lacks with the nearest tier's name (lib/config/nearest.ts: `profesional`, `Starter`), in the file's
 * order. An entry refused for another field (`refused`, checkTenantsFile's refusedTiers) has its tier checked for existence
 * too, unless the registry holds its tenant id on that tier: the file's next run would otherwise report it. A tenant to
 * create whose onboarding invites its first admin (its `inviteAdmin`, else `invitesAdmin`: the platform's default) with
 * an admin email Cognito cannot take as a Username (1-128 characters, no whitespace: adminInviteProblem), as the API's 400.
 * @param invitesAdmin TierList.invitesAdmin; undefined (an admin API deployed before it): only `inviteAdmin: true` is checked
 */
function tierProblems(file: string, entries: CheckedTenantsFile['entries'], registry: TenantRecord[], tiers: TierSummary[], refused: CheckedTenantsFile['refusedTiers'] = [], invitesAdmin?: boolean): string[] {
  const byName = new Map(tiers.map((t) => [t.name, t]));
  const current = new Map(registry.map((t) => [t.tenantId, t]));
  const problems: Array<{ index: number; line: string }> = [];
  const missing = (i: number, name: string) => {
    const near = nearest(name, byName.keys());
    problems.push({ index: i, line: `${file}: tenants[${i}].tier = ${shown(name)}: does not exist${near ? ` (did you mean ${near}?)` : ''} (tiers: ${tiers.map((x) => x.name).join(', ')})` });
  };
  entries.forEach(({ entry: e, index: i }) => {
    const t = current.get(e.tenantId);
    if (t?.tier === e.tier) return;
    const tier = byName.get(e.tier);
    if (!tier) missing(i, e.tier);
    if (t) return;
    if (byName.has(e.tenantId)) problems.push({ index: i, line: `${file}: tenants[${i}].tenantId = "${e.tenantId}": is reserved: it would name the stack tessera-${e.tenantId}, the name of that tier's OU and usage plan` });
    const invite = adminInviteProblem(e.adminEmail, e.inviteAdmin, invitesAdmin ?? false);
    if (invite) problems.push({ index: i, line: `${file}: tenants[${i}].${invite}` });
  });
  for (const r of refused) {
    if (r.tenantId !== undefined && current.get(r.tenantId)?.tier === r.tier) continue;
    if (!byName.has(r.tier)) missing(r.index, r.tier);
  }
  return problems.sort((a, b) => a.index - b.index).map((p) => p.line);
}

export type PlanStep =
  | { action: 'create'; entry: TenantEntry; requestId: string }
  | { action: 'update tier'; entry: TenantEntry; from: string; idempotencyKey: string; drift: string[]; ifMatch?: string; tags?: TenantTags }
  | { action: 'update tags'; entry: TenantEntry; from: TenantTags; tags: TenantTags; idempotencyKey: string; drift: string[]; ifMatch?: string }
  | { action: 'unchanged'; entry: TenantEntry; status: string; drift: string[] }
  | { action: 'cannot'; entry: TenantEntry; status: string; reason: string; drift: string[] }
  | { action: 'not in file'; tenantId: string; tier: string; status: string };

/**
 * What apply would do for each entry of the file and each tenant of the registry it leaves out (by tenant id). With the
 * platform's tiers, a tier change the admin API would refuse for the tenant is `cannot` with the API's reason: a migration
 * (tier-migration.ts migrationRefusal, the API's own rule: another isolation, another tenant network, a dedicated cluster in a
 * recorded zone EKS lacks), or a DR region other than that of the tenant's DR stack.
 * A tier change carries the ETag of the record it was planned on (`ifMatch`, from the list's `etags`): runPlan sends it
 * as `If-Match`, so a tenant changed by someone else between the plan and the PATCH is refused 412, not changed.
 * @param migrationRefusal tier-migration.ts's, imported by the caller when apply plans (not when this module loads)
 * @param etags each tenant's ETag as the list answered it (allTenants); empty from an admin API deployed before 2026-12-06
 */
export function planApply(entries: TenantEntry[], registry: TenantRecord[], tierList: TierList | undefined, migrationRefusal: typeof TierMigration.migrationRefusal, etags: ReadonlyMap<string, string> = new Map()): PlanStep[] {
  const tiers = tierList?.tiers;
  const tierOf = new Map((tiers ?? []).map((t) => [t.name, t]));
  const ruleTiers = migrationTiers(tiers ?? []);
  const byId = new Map(registry.map((t) => [t.tenantId, t]));
  const steps: PlanStep[] = entries.map((entry) => {
    const t = byId.get(entry.tenantId);
    if (!t) return { action: 'create', entry, requestId: entryRequestId(entry) };
    // Tags that differ are applied (PATCH tags: the entry's, all of them).
    const newTags = canonicalTags(t.tags) !== canonicalTags(entry.tags) ? JSON.parse(canonicalTags(entry.tags)) as TenantTags : undefined;
    const drift = [
      t.name !== entry.name ? `name: file ${JSON.stringify(entry.name)}, registry ${JSON.stringify(t.name)}` : '',
      t.adminEmail !== entry.adminEmail ? `adminEmail: file ${JSON.stringify(entry.adminEmail)}, registry ${JSON.stringify(t.adminEmail)}` : '',
    ].filter(Boolean);
    if (t.status === 'OFFBOARDED') {
      // The admin API registers a tenant id once: a new onboarding of an offboarded id is a 409 tenant_exists.
      return { action: 'cannot', entry, status: t.status, drift, reason: `tenant ${t.tenantId} is OFFBOARDED and a tenant id is registered once (the admin API refuses a new onboarding of it); remove the entry or choose another tenantId` };
    }
    if (t.tier === entry.tier && !newTags) return { action: 'unchanged', entry, status: t.status, drift };
    const what = t.tier !== entry.tier ? `tier ${t.tier} -> ${entry.tier}` : `tags ${canonicalTags(t.tags)} -> ${canonicalTags(entry.tags)}`;
    if (!(LIFECYCLE_OPERATIONS.change.from as readonly string[]).includes(t.status)) {
      return { action: 'cannot', entry, status: t.status, drift, reason: `${what}: tenant ${t.tenantId} is ${t.status}; a ${t.tier !== entry.tier ? 'tier' : 'tags'} change runs from ${LIFECYCLE_OPERATIONS.change.from.join(', ')} (run apply again once it is)` };
    }
    if (t.tier === entry.tier) {
      const ifMatch = etags.get(t.tenantId);
      return { action: 'update tags', entry, from: JSON.parse(canonicalTags(t.tags)) as TenantTags, tags: newTags!, idempotencyKey: changeKey(entry, t), drift, ...(ifMatch ? { ifMatch } : {}) };
    }
    const target = tierOf.get(entry.tier);
    // The admin API's own rule (PATCH /admin/tenants/{id} and Begin change refuse with it), on the tiers GET /admin/tiers gave.
    const migration = ruleTiers[entry.tier] ? migrationRefusal(t, entry.tier, ruleTiers, tierList?.region ?? '') : undefined;
    if (migration) return { action: 'cannot', entry, status: t.status, drift, reason: `tier ${t.tier} -> ${entry.tier}: ${migration.message} (${migration.code})` };
    if (target && !target.network && target.isolation !== t.isolation) {
      // An admin API deployed before GET /admin/tiers gave networks: its isolation only.
      return { action: 'cannot', entry, status: t.status, drift, reason: `tier ${t.tier} -> ${entry.tier}: tier "${entry.tier}" isolates by ${target.isolation}, tenant ${t.tenantId} by ${t.isolation}; changing isolation is a migration (offboard and onboard), not a tier change` };
    }
    const dr = target && drRegionConflict(t, { disasterRecovery: target.drRegion === null ? 'none' : { region: target.drRegion } });
    if (dr) return { action: 'cannot', entry, status: t.status, drift, reason: `tier ${t.tier} -> ${entry.tier}: ${describeDrRegionConflict(t.tenantId, entry.tier, dr)}` };
    const ifMatch = etags.get(t.tenantId);
    return { action: 'update tier', entry, from: t.tier, idempotencyKey: changeKey(entry, t), drift, ...(ifMatch ? { ifMatch } : {}), ...(newTags ? { tags: newTags } : {}) };
  });
  const inFile = new Set(entries.map((e) => e.tenantId));
  for (const t of registry) {
    if (!inFile.has(t.tenantId) && t.status !== 'OFFBOARDED') steps.push({ action: 'not in file', tenantId: t.tenantId, tier: t.tier, status: t.status });
  }
  return steps;
}

const idOf = (s: PlanStep) => ('entry' in s ? s.entry.tenantId : s.tenantId);

/** The plan as lines for a terminal. */
function planLines(file: string, steps: PlanStep[]): string[] {
  const w = Math.max(3, ...steps.map((s) => idOf(s).length));
  const line = (action: string, id: string, rest: string) => `  ${action.padEnd(12)} ${id.padEnd(w)}  ${rest}`.trimEnd();
  const lines = [`plan of ${file}:`];
  for (const s of steps) {
    if (s.action === 'create') lines.push(line('create', s.entry.tenantId, `tier ${s.entry.tier}, request ${s.requestId}`));
    else if (s.action === 'update tier') lines.push(line('update tier', s.entry.tenantId, `${s.from} -> ${s.entry.tier}${s.tags ? `, tags -> ${JSON.stringify(s.tags)}` : ''}, Idempotency-Key ${s.idempotencyKey}`));
    else if (s.action === 'update tags') lines.push(line('update tags', s.entry.tenantId, `${JSON.stringify(s.from)} -> ${JSON.stringify(s.tags)}, Idempotency-Key ${s.idempotencyKey}`));
    else if (s.action === 'unchanged') lines.push(line('unchanged', s.entry.tenantId, `tier ${s.entry.tier} (${s.status})`));
    else if (s.action === 'cannot') lines.push(line('cannot', s.entry.tenantId, s.reason));
    else lines.push(line('not in file', s.tenantId, `tier ${s.tier} (${s.status}): reported only; apply never offboards`));
    for (const d of 'drift' in s ? s.drift : []) lines.push(line('drift', idOf(s), `${d} (apply does not change it on an existing tenant)`));
  }
  const count = (a: PlanStep['action']) => steps.filter((s) => s.action === a).length;
  lines.push(`${count('create')} to create, ${count('update tier')} to change tier, ${count('update tags')} to change tags, ${count('unchanged')} unchanged, ${count('cannot')} cannot be applied, ${count('not in file')} not in the file (never offboarded by apply)`);
  return lines;
}

export interface StepResult { tenantId: string; action: string; ok: boolean; executionArn?: string; note?: string; error?: string }

/**
 * Runs the plan's creates and tier changes, one after the other, going on after a failure; each result goes into `results`
 * as it comes. A tier change is sent with `If-Match` its step's ETag (the record it was planned on): a tenant changed since
 * (another operator's tier change, suspend or upgrade) is answered 412 naming what changed, a failed result, nothing started.
 */
export async function runPlan(api: AdminClient, steps: PlanStep[], results: StepResult[]): Promise<void> {
  for (const s of steps) {
    if (s.action === 'unchanged' || s.action === 'not in file') continue;
    const tenantId = s.entry.tenantId;
    if (s.action === 'cannot') {
      results.push({ tenantId, action: s.action, ok: false, error: s.reason });
      continue;
    }
    try {
      const out = s.action === 'create'
        ? await api.call<{ executionArn?: string; note?: string }>('POST', '/admin/tenants', { ...s.entry, requestId: s.requestId })
        : await api.call<{ executionArn?: string; note?: string }>('PATCH', `/admin/tenants/${encodeURIComponent(tenantId)}`,
          s.action === 'update tags' ? { tags: s.tags } : { tier: s.entry.tier, ...(s.tags ? { tags: s.tags } : {}) }, {}, { 'idempotency-key': s.idempotencyKey, ...(s.ifMatch ? { 'if-match': s.ifMatch } : {}) });
      results.push({ tenantId, action: s.action, ok: true, executionArn: out.executionArn, note: out.note });
    } catch (e) {
      if (!(e instanceof AdminApiError)) throw e;
      results.push({ tenantId, action: s.action, ok: false, error: `${e.status ? `${e.status} ` : ''}${e.message}` });
    }
  }
}

const print = (s: string) => process.stdout.write(`${s}\n`);

/** A change apply makes (a run: an action that started) or would make (`--dry-run`: a create or tier change planned). */
export interface ApplyChange { tenantId: string; action: 'create' | 'update tier' | 'update tags' }

/**
 * The exit code of `tessera tenants apply --detailed-exitcode` (Terraform's `plan -detailed-exitcode`) and the changes it
 * counts, of a run that ended without an error:
 * - `--dry-run`: 1 when an entry cannot be applied (`cannot`: as without the flag), else 2 when the plan creates a
 *   tenant or changes a tier or tags, else 0. `unchanged`, `drift` (a name or admin email apply never changes) and `not in file`
 *   (never offboarded) are nothing apply would do, and do not count.
 * - a run: 1 when an action failed or could not be applied (as without the flag), else 2 when an action started (the
 *   admin API accepted the onboarding, tier change or tags change), else 0 (`nothing to change`).
 * An error that ends apply (an invalid file, the admin API refusing the list) exits 1 (detailedFailureCode).
 */
export function applyExitCode(dryRun: boolean, plan: readonly PlanStep[], results: readonly StepResult[]): { exitCode: DetailedExitCode; changes: ApplyChange[] } {
  const changes: ApplyChange[] = dryRun
    ? plan.flatMap((s) => (s.action === 'create' || s.action === 'update tier' || s.action === 'update tags' ? [{ tenantId: s.entry.tenantId, action: s.action }] : []))
    : results.flatMap((r) => (r.ok && (r.action === 'create' || r.action === 'update tier' || r.action === 'update tags') ? [{ tenantId: r.tenantId, action: r.action as ApplyChange['action'] }] : []));
  const failed = dryRun ? plan.some((s) => s.action === 'cannot') : results.some((r) => !r.ok);
  return { exitCode: failed ? DETAILED.error : changes.length ? DETAILED.changes : DETAILED.nothing, changes };
}

/** applyExitCode's verdict as the last line of apply's text output. */
function applyExitLine(dryRun: boolean, plan: readonly PlanStep[], results: readonly StepResult[]): string {
  const { exitCode, changes } = applyExitCode(dryRun, plan, results);
  const n = (action: ApplyChange['action']) => changes.filter((c) => c.action === action).length;
  const why = exitCode === DETAILED.error
    ? (dryRun ? `${plan.filter((s) => s.action === 'cannot').length} cannot be applied` : `${results.filter((r) => !r.ok).length} failed or could not be applied`)
    : exitCode === DETAILED.changes
      ? (dryRun ? `changes pending: ${n('create')} to create, ${n('update tier')} to change tier, ${n('update tags')} to change tags` : `changed: ${n('create')} onboarding(s), ${n('update tier')} tier change(s), ${n('update tags')} tags change(s) started`)
      : 'nothing to change';
  return `exit ${exitCode} (--detailed-exitcode): ${why}`;
}

/**
 * With `--json`, what an error that ended apply prints on stdout before it goes on to stderr (one JSON line: json-error.ts) and its exit code (as
 * `tessera doctor --json` does): the run's usual object with what was planned and done before the error, and the error:
 * `{ dryRun, plan, results, error: { message, exitCode, status?, code?, problems? } }` (`problems`: each problem of an
 * invalid file; `status`, `code`: the admin API's, or API Gateway's). With `detailed` (`--detailed-exitcode`), the exit
 * code is the one that flag gives every error, 1 (an invalid file's 2 included), and the object has it at the top level
 * too, as a run's object does (`exitCode`).
 */
function failureJson(dryRun: boolean, plan: PlanStep[], results: StepResult[], e: unknown, detailed: boolean): object {
  const code = e instanceof CliError ? e.exitCode : 1;
  const exitCode = detailed ? detailedFailureCode(code) : code;
  const error = {
    message: e instanceof Error ? e.message : String(e),
    exitCode,
    ...(e instanceof AdminApiError ? { status: e.status, ...(e.code ? { code: e.code } : {}) } : {}),
    ...(e instanceof TenantsFileError ? { problems: e.problems } : {}),
  };
  return { dryRun, plan, results, error, ...(detailed ? { exitCode } : {}) };
}

export function tenantsApplyCommand(): Command {
  return new Command('apply')
    .description('tenants as code: onboard the tenants of a file that the registry lacks and change the tier of those whose tier differs; never offboards (a tenant left out of the file is only reported) and never changes a name or admin email (reported as drift)')
    .requiredOption('-f, --file <tenants.yaml>', 'YAML or JSON (UTF-8, one document, at most 16 MiB; - reads the standard input): tenants: [{ tenantId, name, tier, adminEmail, inviteAdmin?, tags? }] (inviteAdmin: tenants create --invite-admin / --no-invite-admin; absent: the platform default; tags: { Key: Value }, as tenants create --tag), each entry checked as `tenants create` checks its flags; the onboarding requestId is derived from the entry (apply-<tenantId>-<sha256 of the entry>), so running apply again replays instead of duplicating')
    .option('--dry-run', 'print the plan and change nothing')
    .addOption(detailedExitcodeOption('changes are pending (--dry-run: a tenant to create or a tier to change) or were made (an onboarding or tier change started); name or email drift and tenants not in the file do not count (apply changes neither)'))
    .addHelpText('after', '\nExample file:\n  tenants:\n    - { tenantId: acme, name: Acme Corp, tier: starter, adminEmail: ops@acme.example }\n\n'
      + 'Plan actions: create, update tier, update tags (a tenant whose tags differ: the entry\'s become its tags, all of them, with a tier change in the same request), unchanged, cannot (OFFBOARDED id, a tenant not ACTIVE whose tier or tags differ, a tier change the admin API refuses: another isolation, tenant network or DR region), not in file (reported only: apply never offboards), drift (name or adminEmail differ: reported, not changed).\n'
      + 'Before anything changes, each tier the file would send is checked against the platform\'s tiers (GET /admin/tiers): an unknown tier, a tenant id that is a tier\'s name, an account tier\'s admin email out of 6-64 characters.\n'
      + 'Actions run one at a time, in the file\'s order: each starts its lifecycle execution and apply goes on without waiting for it to end (follow each with tessera tenants watch <id>).\n'
      + 'Each tier or tags change is sent with If-Match, the ETag of the tenant as the plan read it: a tenant someone changed since the plan (a tier change, suspend, upgrade) is refused (412, naming what changed) and left as it is; run apply again to plan on what it is now.\n'
      + 'Exit 2 when the file is invalid (nothing is changed); exit 1 when an action failed or cannot be applied (the other actions still run).\n'
      + 'With --detailed-exitcode (for CI, as terraform plan -detailed-exitcode): 0 nothing to change, 2 changes pending (--dry-run) or started, 1 any error, an invalid file included.\n'
      + 'With --json every outcome prints one JSON object on stdout: { dryRun, plan, results }, on an error with error: { message, exitCode, ... } (the error goes to stderr as one JSON line); with --detailed-exitcode also exitCode and changes: [{ tenantId, action }].')
    .action(async (o: { file: string; dryRun?: boolean; detailedExitcode?: boolean }, cmd: Command) => {
      const json = Boolean(cmd.optsWithGlobals<{ json?: boolean }>().json);
      const detailed = Boolean(o.detailedExitcode);
      let steps: PlanStep[] = [];
      const results: StepResult[] = [];
      try {
        const checked = await checkTenantsFile(o.file);
        // No valid entry: nothing would be sent, and the file's problems are said without a call (no credentials needed).
        if (checked.problems.length && !checked.entries.length) throw new TenantsFileError(checked.problems);
        // The file's problems and the tiers' in one run: the tiers are checked (of the valid entries, and of the entries refused
        // for another field beside them) before either is reported.
        let api: AdminClient;
        let registry: TenantRecord[];
        let tiers: TierList | undefined;
        const etags = new Map<string, string>();
        try {
          ({ api } = adminTarget(cmd));
          registry = await allTenants(api, {}, undefined, etags);
          tiers = await platformTierList(api);
        } catch (e) {
          if (!checked.problems.length) throw e;
          process.stderr.write(`note: the tiers were not checked (${e instanceof Error ? e.message : String(e)})\n`);
          throw new TenantsFileError(checked.problems);
        }
        if (tiers) {
          const problems = [...checked.problems, ...tierProblems(fileLabel(o.file), checked.entries, registry, tiers.tiers, checked.refusedTiers, tiers.invitesAdmin)];
          if (problems.length) throw new TenantsFileError(problems);
        } else if (checked.problems.length) {
          throw new TenantsFileError(checked.problems);
        } else {
          process.stderr.write('note: the admin API has no GET /admin/tiers (deployed before it): the file\'s tiers are checked by the API as each entry is applied\n');
        }
        const entries = checked.entries.map((x) => x.entry);
        // Imported here, not with this module: tier-migration.ts's zone rules sit beside the EC2 and CloudFormation clients'
        // commands (availability-zones.ts, ~1.2 MB of JavaScript bundled), which every other `tessera tenants` start loaded.
        const { migrationRefusal } = await import('../../lambdas/lifecycle/tier-migration.js');
        steps = planApply(entries, registry, tiers, migrationRefusal, etags);
        const unguarded = steps.filter((s) => (s.action === 'update tier' || s.action === 'update tags') && !s.ifMatch).map((s) => idOf(s));
        if (unguarded.length && !o.dryRun) process.stderr.write(`note: the admin API gave no ETag of ${unguarded.join(', ')} (deployed before 2026-12-06): the tier change is sent without If-Match, and a change made by someone else since this plan is not detected\n`);
        const dryRun = Boolean(o.dryRun);
        if (!dryRun) {
          if (!json) print(planLines(fileLabel(o.file), steps).join('\n'));
          await runPlan(api, steps, results);
        }
        // Without --detailed-exitcode: exit 1 when an entry cannot be applied or an action failed, else 0. With it, the
        // same 1, else 2 for changes pending (a dry run) or started (a run), else 0; --json then carries it and the changes.
        const verdict = applyExitCode(dryRun, steps, results);
        const exitCode = detailed ? verdict.exitCode : verdict.exitCode === DETAILED.error ? 1 : 0;
        if (json) print(JSON.stringify({ dryRun, plan: steps, results, ...(detailed ? verdict : {}) }, null, 2));
        else if (dryRun) print([...planLines(fileLabel(o.file), steps), 'dry run: nothing changed'].join('\n'));
        else {
          for (const r of results) {
            const what = r.action === 'create' ? 'onboarding' : r.action === 'update tags' ? 'tags change' : 'tier change';
            if (r.action === 'cannot') print(`${r.tenantId}: not applied: ${r.error}`);
            else print(r.ok ? `${r.tenantId}: ${what} ${r.note ?? 'started'}${r.executionArn ? `, execution ${r.executionArn}` : ''}` : `${r.tenantId}: ${what} failed: ${r.error}`);
          }
          const failed = results.filter((r) => !r.ok).length;
          // Nothing started (every action failed or could not be applied): no execution to follow, so say what to do instead.
          const next = failed === results.length ? 'nothing was started: see each failure above, then run apply again to plan on what the registry is now' : 'follow each with tessera tenants watch <id>';
          print(results.length ? `${results.length - failed} of ${results.length} actions done${failed ? `, ${failed} failed` : ''}; ${next}` : 'nothing to change: the registry is as the file says');
        }
        if (detailed && !json) print(applyExitLine(dryRun, steps, results));
        if (exitCode) process.exitCode = exitCode;
      } catch (e) {
        if (json) print(JSON.stringify(failureJson(Boolean(o.dryRun), steps, results, e, detailed), null, 2));
        throw e;
      }
    });
}
