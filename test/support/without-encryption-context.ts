import type { PolicyJson } from '../../lib/preflight/iam-eval.js';

type Statement = { Condition?: Record<string, Record<string, unknown>> } & Record<string, unknown>;

/**
 * `doc` without its `kms:EncryptionContext:*` conditions (an operator left empty is dropped): what the IAM simulator
 * (lib/preflight/iam-eval.ts) can evaluate, since it cannot evaluate a condition key whose name holds colons after
 * `kms:EncryptionContext:`. Tests that drop them check those conditions as written instead.
 */
export function withoutEncryptionContext(doc: PolicyJson): PolicyJson {
  const strip = (s: Statement): Statement => {
    if (!s.Condition) return s;
    const Condition = Object.fromEntries(Object.entries(s.Condition).map(([op, keys]) => [op, Object.fromEntries(Object.entries(keys).filter(([k]) => !k.startsWith('kms:EncryptionContext:')))]).filter(([, keys]) => Object.keys(keys).length > 0));
    return { ...s, Condition };
  };
  return { ...doc, Statement: ([] as Statement[]).concat(doc.Statement as Statement[]).map(strip) } as PolicyJson;
}
