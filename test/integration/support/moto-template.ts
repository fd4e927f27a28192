import type { CfnTemplate } from './derive-moto-blueprint.js';

/**
 * The template body handed to moto for one stack operation: the published template with the two
 * things moto reads differently from CloudFormation made explicit. Both depend on the operation,
 * not on the blueprint, so they happen at deploy time (cloudformation-emulation.ts), never in the
 * published template:
 * - `Fn::Cidr` is evaluated with the stack's parameters: moto 5.2.5 has no `Fn::Cidr`
 *   (`moto/cloudformation/parsing.py` `clean_json`), and `Fn::Select` over it fails with
 *   `KeyError: 0` (HTTP 500). The tenant VPC range is a parameter, so this cannot be done earlier.
 * - `DeletionPolicy: RetainExceptOnCreate` becomes `Retain` in moto's copy: on DeleteStack moto
 *   keeps exactly the resources whose policy is `Retain` and deletes all others, whereas AWS keeps
 *   `RetainExceptOnCreate` resources on every operation but the rollback of their own create
 *   (which the emulation handles itself, from the published template).
 */

/** AWS's `Fn::Cidr`: `count` consecutive blocks of `2^cidrBits` addresses from the start of `ipBlock`. */
export function cidr(ipBlock: string, count: number, cidrBits: number): string[] {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(ipBlock);
  if (!m) throw new Error(`Fn::Cidr: "${ipBlock}" is not an IPv4 CIDR`);
  const prefix = Number(m[5]);
  const base = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  const network = prefix === 0 ? 0 : (base & ((~0 << (32 - prefix)) >>> 0)) >>> 0;
  const size = 2 ** cidrBits;
  if (count < 1 || count > 256 || cidrBits < 0 || 32 - cidrBits < prefix || count * size > 2 ** (32 - prefix)) {
    throw new Error(`Fn::Cidr: ${count} blocks of /${32 - cidrBits} do not fit in ${ipBlock}`);
  }
  const dotted = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
  return Array.from({ length: count }, (_, i) => `${dotted(network + i * size)}/${32 - cidrBits}`);
}

/** The value of a `Fn::Cidr` argument: a literal or a `Ref` to a parameter. */
function argument(value: unknown, parameters: Record<string, string>): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  const ref = (value as { Ref?: string } | undefined)?.Ref;
  if (ref && parameters[ref] !== undefined) return parameters[ref];
  throw new Error(`Fn::Cidr argument ${JSON.stringify(value)} is neither a literal nor a parameter reference`);
}

/**
 * `template` as moto gets it for a stack with `parameters` (the operation's values over the
 * template's defaults). The input is not modified.
 */
export function templateForMoto(template: CfnTemplate, parameters: Record<string, string>): CfnTemplate {
  const values: Record<string, string> = {};
  for (const [name, p] of Object.entries(template.Parameters ?? {})) {
    const d = (p as { Default?: unknown }).Default;
    if (d !== undefined) values[name] = String(d);
  }
  Object.assign(values, parameters);
  const visit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(visit);
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if (Object.keys(o).length === 1 && 'Fn::Cidr' in o) {
      const [block, count, bits] = o['Fn::Cidr'] as unknown[];
      return cidr(argument(block, values), Number(argument(count, values)), Number(argument(bits, values)));
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, visit(x)]));
  };
  const out = visit(template) as CfnTemplate;
  for (const resource of Object.values(out.Resources)) {
    if (resource.DeletionPolicy === 'RetainExceptOnCreate') resource.DeletionPolicy = 'Retain';
  }
  return out;
}
