import { printable } from '../printable.js';
import type { TenantRecord } from '../tenant-record.js';
import { table } from './format.js';
import { displayWidth } from './display-width.js';

type RetainedStore = NonNullable<NonNullable<TenantRecord['offboarding']>['retainedStores']>[number];
type KeyDeletion = NonNullable<NonNullable<TenantRecord['offboarding']>['keyDeletion']>;
type DrKeyDeletion = NonNullable<NonNullable<TenantRecord['offboarding']>['drKeyDeletion']>;

/**
 * One line on the tenant key's fate (`offboarding.keyDeletion`), or the DR key's (`offboarding.drKeyDeletion`, in its
 * region): when KMS deletes it, or what it waits for.
 */
function keyLine(k: KeyDeletion | DrKeyDeletion, holders: number): string {
  const dr = 'region' in k ? k : undefined;
  const key = dr ? `${k.keyArn ?? `the DR key ${dr.key ?? ''}`.trimEnd()} (DR region ${dr.region})` : k.keyArn ?? 'the tenant key';
  switch (k.state) {
    case 'SCHEDULED': return `${key}: deletion scheduled, KMS deletes it on ${k.deletionDate ?? '(date not recorded)'} (aws kms cancel-key-deletion until then)`;
    case 'QUEUED': return `${key}: queued until ${k.dueAt ?? '(date not recorded)'}, when the last store under it expires; the platform's daily job then schedules its deletion (it needs TesseraPlatform and the account's TesseraProvisioning until then)`;
    case 'HELD': return `${key}: held by ${holders} store(s) that hold it without expiry (retained stores below: holdsKey yes, no keptUntil${dr ? `, in ${dr.region}` : ''}): nothing schedules it; decide on them, then aws kms schedule-key-deletion${dr ? ` --region ${dr.region}` : ''}`;
    default: return `${key}: goes with the account's closure`;
  }
}

/**
 * The disposition and date of a retained store's row: as recorded, except the tenant key's own row (store `key`, the
 * key `offboarding.keyDeletion` names), which the inventory records before *Schedule key deletion* runs (as what it will
 * do; records from before s23 say `review`): its row says what that step did, as the `key` line does, with the date
 * KMS answered: `scheduled` (KMS deletes it on that date), `queued` (until
 * that date, then scheduled by the daily job), `with account` (goes with the account's closure); `review` only while HELD.
 * It said `review` under a `key` line saying the key was queued for deletion.
 */
function keyRow(s: RetainedStore, tenantKeys: Set<string | undefined>, k: KeyDeletion | undefined): { disposition: string; keptUntil?: string } {
  const own = s.store === 'key' && !!s.keyArn && tenantKeys.has(s.keyArn) && (s.id === s.keyArn || s.keyArn.endsWith(`/${s.id}`));
  if (!own || !k || k.state === 'HELD') return { disposition: s.disposition, keptUntil: s.keptUntil };
  switch (k.state) {
    case 'SCHEDULED': return { disposition: 'scheduled', keptUntil: k.deletionDate };
    case 'QUEUED': return { disposition: 'queued', keptUntil: k.dueAt };
    default: return { disposition: 'with account' };
  }
}

type Identities = NonNullable<NonNullable<TenantRecord['offboarding']>['identities']>;
type PooledData = NonNullable<NonNullable<TenantRecord['offboarding']>['pooledData']>;
type PooledDataExpiry = NonNullable<NonNullable<TenantRecord['offboarding']>['pooledDataExpiry']>;

/** A reason wider than this many terminal columns goes on lines of its own under the `identities` line, wrapped at it. */
const INLINE_REASON = 60;

/** `text` cut at spaces into lines of at most `width` terminal columns (display-width.ts; a longer word stays whole on its own line). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && displayWidth(line) + 1 + displayWidth(word) > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * What *Revoke tenant identities* revoked (`offboarding.identities`): key records deleted, users disabled (or why not),
 * with their checks. @returns the line's text, then, when the users were left alone for a reason of more than
 * INLINE_REASON columns, that reason wrapped in lines of at most INLINE_REASON + 40 columns (the caller indents
 * them under the first); a short reason stays in the line, as before. The reason of a platform without a user pool was
 * about 230 characters, which made the line about 330.
 */
export function identitiesLines(i: Identities): string[] {
  const skipped = i.users && 'skipped' in i.users ? i.users : undefined;
  const long = !!skipped && displayWidth(skipped.skipped) > INLINE_REASON;
  const users = !i.users ? 'users not yet checked'
    : skipped ? (long ? `users left alone (checked ${skipped.checkedAt}; why below)` : `users left alone (${skipped.skipped}; ${skipped.checkedAt})`)
      : 'disabled' in i.users ? `${i.users.disabled} user(s) disabled${i.users.gone ? `, ${i.users.gone} gone before` : ''} (checked ${i.users.checkedAt})` : '';
  const line = `${i.apiKeys.deleted} API key record(s) deleted (checked ${i.apiKeys.checkedAt}); ${users}; ${i.executionArns.length} execution(s)`;
  return long ? [line, ...wrap(`users left alone: ${skipped!.skipped}`, INLINE_REASON + 40).map((l, n) => (n ? `  ${l}` : l))] : [line];
}

/** The items of the responses table by kind (ErasedCounts), as the `pooled data` lines count them. */
function itemKinds(e: PooledData['erased']): string {
  const kinds = [[e.responses, 'stored response(s)'], [e.conversations, 'conversation(s)'], [e.conversationItems, 'conversation item record(s)'], [e.batches, 'batch(es)'], [e.batchFiles, 'batch file(s)'], [e.vectorStores, 'vector store record(s)'], [e.other, 'other item(s)']] as const;
  return kinds.map(([n, what]) => `${n} ${what}`).join(', ');
}

/** What *Erase pooled gateway data* erased (`offboarding.pooledData`): the items by kind, the objects, whether it reached the end. */
export function pooledDataLine(p: PooledData): string {
  return `erased ${itemKinds(p.erased)}; ${p.objectsDeleted} object(s) deleted; ${p.complete ? `complete (checked ${p.checkedAt})` : `in progress (last run ${p.checkedAt})`}; ${p.executionArns.length} execution(s)`;
}

/** What *Expire pooled gateway data* bounded (`offboarding.pooledDataExpiry`): the TTL given, the items by kind, the kept files moved, whether it reached the end. */
export function pooledDataExpiryLine(p: PooledDataExpiry): string {
  return `expiring by ${p.expiresAt}: TTL given to ${itemKinds(p.bounded)}; ${p.keptFilesMoved} kept file(s) moved to the expiring prefix; ${p.complete ? `complete (checked ${p.checkedAt})` : `in progress (last run ${p.checkedAt})`}; ${p.executionArns.length} execution(s)`;
}

/**
 * `tessera tenants show`'s offboarding section, for a tenant whose record has one (`offboarding`, `accountClosure`):
 * the identities revoked (`identities`) and the pooled gateway data erased or given an expiry (`pooled data`), the verified archive export and final snapshot (and when the
 * final snapshot under the tenant key was deleted, its copy made: `sourceDeletedAt`), the tenant key's fate (scheduled with its date, queued until when,
 * held by what), the account closure, and every store the offboarding left (registry `offboarding.retainedStores`:
 * store, id, disposition, kept until, whether it holds the key, its key: `tenant key` or the key's ARN, e.g. the archive
 * key of the final snapshot's copy). Without it the text showed none of this: an operator
 * tearing the platform down had to read `--json` to learn which keys and stores were still waiting. Empty when the
 * record has neither.
 */
export function offboardingLines(t: TenantRecord): string[] {
  const o = t.offboarding;
  const lines: string[] = [];
  if (o?.export) lines.push(`  archive     ${printable(o.export.prefix)} in the admin archive bucket (${o.export.versions} versions, ${o.export.bytes} bytes; verified ${o.export.verifiedAt})`);
  if (o?.databaseSnapshot) {
    const s = o.databaseSnapshot;
    const deleted = s.sourceDeletedAt ? `; ${printable(s.snapshotId)} deleted ${printable(s.sourceDeletedAt)}` : '';
    lines.push(`  snapshot    ${printable(s.archiveSnapshotId)} (archive-key copy of ${printable(s.snapshotId)}, shared with the platform account${deleted})`);
  }
  if (o?.identities) lines.push(...identitiesLines(o.identities).map((l, n) => `${n ? ' '.repeat(14) : '  identities  '}${printable(l)}`));
  if (o?.pooledData) lines.push(`  pooled data ${printable(pooledDataLine(o.pooledData))}`);
  if (o?.pooledDataExpiry) lines.push(`  pooled data ${printable(pooledDataExpiryLine(o.pooledDataExpiry))}`);
  const stores = o?.retainedStores ?? [];
  if (o?.keyDeletion) lines.push(`  key         ${printable(keyLine(o.keyDeletion, stores.filter((s) => s.holdsKey && !s.keptUntil && !s.drRegion).length))}`);
  if (o?.drKeyDeletion) lines.push(`  DR key      ${printable(keyLine(o.drKeyDeletion, stores.filter((s) => s.holdsKey && !s.keptUntil && s.drRegion).length))}`);
  if (t.accountClosure) {
    const c = t.accountClosure;
    lines.push(`  account     ${c.accountId} closure ${c.state} at ${c.at}${c.attempts ? ` (${c.attempts} attempts)` : ''}${c.error ? `: ${printable(c.error)}` : ''}${c.note ? ` (${printable(c.note)})` : ''}`);
  }
  if (!lines.length && !stores.length) return [];
  const out = ['offboarding', ...lines];
  if (stores.length) {
    const tenantKeys = new Set([t.stackOutputs.KeyArn, o?.keyDeletion?.keyArn].filter(Boolean));
    const drKeys = new Set([o?.drKeyDeletion?.keyArn, ...stores.filter((s) => s.store === 'key' && s.drRegion).map((s) => s.keyArn)].filter(Boolean));
    const withDr = stores.some((s) => s.drRegion);
    out.push(`  retained stores (--json: each with its note${withDr ? '; region: a DR store\'s, whose holdsKey is about the DR key' : ''})`);
    const rows = stores.map((s) => ({
      store: s.store, id: s.id, region: s.drRegion ?? '', ...(s.drRegion ? keyRow(s, drKeys, o?.drKeyDeletion) : keyRow(s, tenantKeys, o?.keyDeletion)),
      // A container AWS Backup refused to delete (a recovery point still in it) says so; the daily job tries it again.
      ...(s.removedAt ? { keptUntil: `removed ${s.removedAt}` } : s.removalRefused ? { keptUntil: `removal refused ${s.removalRefused.split(': ')[0]}, tried daily` } : {}), holdsKey: s.holdsKey ? 'yes' : 'no',
      encryption: !s.keyArn ? s.encryption : tenantKeys.has(s.keyArn) ? 'tenant key' : drKeys.has(s.keyArn) ? 'DR key' : s.keyArn,
    }));
    const columns = withDr ? ['store', 'id', 'region', 'disposition', 'keptUntil', 'holdsKey', 'encryption'] : ['store', 'id', 'disposition', 'keptUntil', 'holdsKey', 'encryption'];
    out.push(...table(rows, columns).split('\n').map((l) => `  ${l}`));
  }
  return out;
}
