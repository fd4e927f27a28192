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
  return platformWithNestedStack(platform, 'FunctionPolicies', functionPolicies);
}

/**
 * `platform` (a TesseraPlatform template) with the resources of its nested stack `id` (`FunctionPolicies`,
 * `EventRules`: the construct id, whose nested stack resource's logical id starts with `<id>NestedStack`) added, as
 * deployed: each of the nested template's parameters replaced by the value the platform passes it (the nested stack
 * resource's `Parameters`), and each of the platform's references to the nested stack's outputs
 * (`Fn::GetAtt: [<nested stack resource>, 'Outputs.<name>']`) replaced by that output's value. References between the
 * two then name logical ids of the one template, as before the resources moved (docs/measured.md "Room in
 * TesseraPlatform").
 * @throws Error when the platform has no nested stack resource of that id, a parameter has no value, an output the
 * platform reads is missing, or a nested resource has the logical id of a platform resource
 */
export function platformWithNestedStack(platform: Json, id: string, nestedTemplate: Json): Json {
  const merged = structuredClone(platform) as { Resources: Record<string, { Type: string; Properties?: Json }> };
  const nested = structuredClone(nestedTemplate) as { Parameters?: Record<string, unknown>; Resources?: Record<string, unknown>; Outputs?: Record<string, { Value: unknown }> };
  const params = Object.keys(nested.Parameters ?? {});
  const stackResource = Object.entries(merged.Resources).find(([logicalId, r]) => r.Type === 'AWS::CloudFormation::Stack' && logicalId.startsWith(`${id}NestedStack`));
  if (!stackResource) throw new Error(`the platform template has no ${id} nested stack resource`);
  const [stackId] = stackResource;
  const values = (stackResource[1].Properties?.Parameters ?? {}) as Record<string, unknown>;
  for (const p of params) if (!(p in values)) throw new Error(`${id} parameter ${p} has no value in the platform template`);
  const substitute = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(substitute);
    if (v && typeof v === 'object') {
      const o = v as Json;
      if (Object.keys(o).length === 1 && typeof o.Ref === 'string' && params.includes(o.Ref)) return structuredClone(values[o.Ref]);
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, substitute(x)]));
    }
    return v;
  };
  const outputsRead = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(outputsRead);
    if (v && typeof v === 'object') {
      const o = v as Json;
      const att = o['Fn::GetAtt'];
      if (Object.keys(o).length === 1 && Array.isArray(att) && att[0] === stackId && typeof att[1] === 'string' && att[1].startsWith('Outputs.')) {
        const output = nested.Outputs?.[att[1].slice('Outputs.'.length)];
        if (!output) throw new Error(`the platform reads ${id} output ${att[1]}, which its template lacks`);
        return substitute(output.Value);
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, outputsRead(x)]));
    }
    return v;
  };
  for (const [logicalId, r] of Object.entries(merged.Resources)) {
    if (logicalId !== stackId) merged.Resources[logicalId] = outputsRead(r) as { Type: string };
  }
  for (const [logicalId, r] of Object.entries(nested.Resources ?? {})) {
    if (logicalId in merged.Resources) throw new Error(`${id} resource ${logicalId} has the logical id of a platform resource`);
    merged.Resources[logicalId] = substitute(r) as { Type: string };
  }
  return merged as unknown as Json;
}
