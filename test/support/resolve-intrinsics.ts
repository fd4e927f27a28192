/**
 * A template value as CloudFormation resolves it: `Ref`s to the names in `values` (pseudo
 * parameters such as `AWS::Partition`, template parameters) and `Fn::GetAtt`s named there as
 * `<logical id>.<attribute>` replaced by their values, and
 * `Fn::Join`s of resolved parts joined. Anything else (other intrinsics, unknown `Ref`s) is kept as
 * it is, so a policy that still holds one does not match a concrete ARN in the IAM simulator.
 *
 * @param value a template value (a policy document, an ARN)
 * @param values the value of each `Ref` name, e.g. `{ 'AWS::Partition': 'aws' }`, and of each
 *   `Fn::GetAtt` as `<logical id>.<attribute>`, e.g. `{ 'GuardrailsQuarantineScp1234.Arn': 'arn:…' }`
 */
export function resolveIntrinsics(value: unknown, values: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, values));
  if (!value || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  if (typeof o.Ref === 'string' && values[o.Ref] !== undefined) return values[o.Ref];
  if (Array.isArray(o['Fn::GetAtt']) && values[(o['Fn::GetAtt'] as string[]).join('.')] !== undefined) return values[(o['Fn::GetAtt'] as string[]).join('.')];
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    const resolved = parts.map((p) => resolveIntrinsics(p, values));
    if (resolved.every((p) => typeof p === 'string')) return resolved.join(sep);
    return { 'Fn::Join': [sep, resolved] };
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveIntrinsics(v, values)]));
}
