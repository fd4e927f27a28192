type Json = Record<string, unknown>;

/**
 * TesseraPlatform as it stands once deployed with its FunctionPolicies nested stack: the platform
 * template with the nested stack's resources added, each of its parameters replaced by the value the
 * platform passes it (the nested stack resource's `Parameters`). The Lambdas' managed policies live
 * in the nested stack (docs/measured.md "Room in TesseraPlatform"); tests that read what a role may do (grants,
 * policy evaluation) read them here, next to the roles and resources they name, as before the move.
 * @throws Error when the platform has no nested stack resource of that template, or a parameter has no value
 */
export function platformWithFunctionPolicies(platform: Json, functionPolicies: Json): Json {
  const merged = structuredClone(platform) as { Resources: Record<string, { Type: string; Properties?: Json }> };
  const nested = structuredClone(functionPolicies) as { Parameters?: Record<string, unknown>; Resources: Record<string, unknown> };
  const params = Object.keys(nested.Parameters ?? {});
  const stackResource = Object.entries(merged.Resources).find(([id, r]) => r.Type === 'AWS::CloudFormation::Stack' && id.startsWith('FunctionPoliciesNestedStack'));
  if (!stackResource) throw new Error('the platform template has no FunctionPolicies nested stack resource');
  const values = (stackResource[1].Properties?.Parameters ?? {}) as Record<string, unknown>;
  for (const p of params) if (!(p in values)) throw new Error(`FunctionPolicies parameter ${p} has no value in the platform template`);
  const substitute = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(substitute);
    if (v && typeof v === 'object') {
      const o = v as Json;
      if (Object.keys(o).length === 1 && typeof o.Ref === 'string' && params.includes(o.Ref)) return structuredClone(values[o.Ref]);
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, substitute(x)]));
    }
    return v;
  };
  for (const [id, r] of Object.entries(nested.Resources)) {
    if (id in merged.Resources) throw new Error(`FunctionPolicies resource ${id} has the logical id of a platform resource`);
    merged.Resources[id] = substitute(r) as { Type: string };
  }
  return merged as unknown as Json;
}
