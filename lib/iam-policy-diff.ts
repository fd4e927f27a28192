/**
 * How an IAM policy document differs from the one a writer put there, statement by statement: what `tessera doctor` reports of a
 * tenant namespace deployer's `TenantNamespaceStack` policy edited by hand (lib/cli/doctor/namespace-deployer-checks.ts).
 */

import { statementsOf } from './iam-policy-document.js';

/** A statement as IAM's policy grammar allows it ("IAM JSON policy elements reference", IAM User Guide). */
type Statement = Record<string, unknown>;

/** The elements compared as sets of strings; IAM matches action names case-insensitively, so those are compared in lower case. */
const LIST_ELEMENTS = ['Action', 'NotAction', 'Resource', 'NotResource'] as const;
/** The elements compared as whole values (order of keys and of values in a list not counting). */
const VALUE_ELEMENTS = ['Effect', 'Principal', 'NotPrincipal', 'Condition'] as const;

/** Longest rendering of one element's value in a difference (characters). */
const SHOWN = 200;

/** Each statement by its Sid; one without is named by its place (`#<n>`, from 1), a repeated Sid by its place too. */
function bySid(statements: Statement[]): Map<string, Statement> {
  const out = new Map<string, Statement>();
  statements.forEach((s, i) => {
    const sid = typeof s.Sid === 'string' && s.Sid && !out.has(s.Sid) ? s.Sid : `#${i + 1}`;
    out.set(sid, s);
  });
  return out;
}

/** An element's strings (a string or a list of them), the way IAM reads both. */
const listOf = (v: unknown): string[] => (v === undefined ? [] : [v].flat().map(String));

/** A value with object keys sorted and lists sorted, so that two documents IAM reads alike render alike. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical).map((x) => JSON.stringify(x)).sort().map((x) => JSON.parse(x) as unknown);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

/** A condition's values as lists (IAM reads `"a"` and `["a"]` alike). */
function listedCondition(v: unknown): unknown {
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([op, keys]) => [op, keys && typeof keys === 'object'
    ? Object.fromEntries(Object.entries(keys).map(([k, values]) => [k, listOf(values)]))
    : keys]));
}

const shown = (v: unknown) => {
  const text = v === undefined ? '(none)' : JSON.stringify(v);
  return text.length > SHOWN ? `${text.slice(0, SHOWN)}…` : text;
};

/** One statement, briefly: `<Effect> <actions> on <resources>`. */
function summary(s: Statement): string {
  const actions = s.Action !== undefined ? listOf(s.Action).join(', ') : `NotAction ${listOf(s.NotAction).join(', ')}`;
  const resources = s.Resource !== undefined ? listOf(s.Resource).join(', ') : `NotResource ${listOf(s.NotResource).join(', ')}`;
  return shown(`${String(s.Effect)} ${actions} on ${resources}${s.Condition !== undefined ? ' with a condition' : ''}`).slice(1, -1);
}

/**
 * The differences of `actual` from `expected`, one line each, by statement Sid (a statement without one by its place, `#<n>`):
 * `statement <Sid> added (<Effect> <actions> on <resources>)` for one only in `actual`, `statement <Sid> missing` for one only in
 * `expected`, and for a Sid in both what differs: `statement <Sid>: Action added <a>, …`, `… Action missing …` (likewise
 * NotAction, Resource, NotResource), `… Effect <actual>, not <expected>` (likewise Principal, NotPrincipal, Condition). Lists
 * compare as sets, actions case-insensitively (IAM's matching), a string as a list of one; key order does not count. The
 * policies' `Version` and `Id` are not compared.
 * @param expected the document as its writer builds it (an object with `Statement`)
 * @param actual the document as read (parsed JSON: lib/iam-policy-document.ts parsePolicyDocument); undefined for none
 * @returns the differences, in the order of `expected`'s statements then the added ones; empty when IAM reads both alike
 */
export function policyStatementDifferences(expected: { Statement?: unknown }, actual: { Statement?: unknown } | undefined): string[] {
  const want = bySid(statementsOf<Statement>(expected));
  const have = bySid(statementsOf<Statement>(actual));
  const out: string[] = [];
  for (const [sid, w] of want) {
    const h = have.get(sid);
    if (!h) {
      out.push(`statement ${sid} missing`);
      continue;
    }
    const parts: string[] = [];
    for (const element of LIST_ELEMENTS) {
      const key = (x: string) => (element.endsWith('Action') ? x.toLowerCase() : x);
      const wl = listOf(w[element]);
      const hl = listOf(h[element]);
      const added = hl.filter((x) => !wl.some((y) => key(y) === key(x)));
      const missing = wl.filter((x) => !hl.some((y) => key(y) === key(x)));
      if (added.length) parts.push(`${element} added ${added.join(', ')}`);
      if (missing.length) parts.push(`${element} missing ${missing.join(', ')}`);
    }
    for (const element of VALUE_ELEMENTS) {
      const norm = (v: unknown) => JSON.stringify(canonical(element === 'Condition' ? listedCondition(v) : v));
      if (norm(w[element]) !== norm(h[element])) parts.push(`${element} ${shown(h[element])}, not ${shown(w[element])}`);
    }
    if (parts.length) out.push(`statement ${sid}: ${parts.join('; ')}`);
  }
  for (const [sid, h] of have) if (!want.has(sid)) out.push(`statement ${sid} added (${summary(h)})`);
  return out;
}
