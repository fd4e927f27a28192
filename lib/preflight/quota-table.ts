/**
 * The quota table of a tier, generated from its templates: per-tenant usage per account/region
 * against AWS's default quotas, and the largest tenant count one workload account holds at
 * default quotas (lib/quotas.ts). Markdown, for the CLI and docs/preflight.md.
 */
import type { TierConfig } from '../config/schema.js';
import { computeVcpuNeeds, maxTenantsPerAccount, quotaNeeds, QUOTA_RULES } from '../quotas.js';
import type { CfnTemplate } from './cfn-template.js';

export interface TierQuotaSummary {
  readonly markdown: string;
  /** Largest tenant count per account at default quotas (Infinity when nothing binds). */
  readonly maxTenants: number;
  readonly binding?: string;
}

/** One markdown table per tier; `namespace` usage is the platform account's. */
export function quotaTable(tierName: string, tier: TierConfig, tenant: CfnTemplate, namespace?: CfnTemplate): TierQuotaSummary {
  const needs = quotaNeeds(tenant);
  const nsNeeds = namespace ? quotaNeeds(namespace) : [];
  const where = tier.isolation === 'account' ? 'tenant account' : 'workload account';
  const rows = needs.filter((n) => n.need > 0).map(({ rule, need }) => {
    const pre = rule.preexistingInNewAccount ? ` (+${rule.preexistingInNewAccount} in a new account)` : '';
    const fit = rule.scope === 'vpc' ? (need <= rule.defaultValue ? 'per VPC: fits' : 'per VPC: EXCEEDS') : String(Math.floor((rule.defaultValue - (rule.preexistingInNewAccount ?? 0)) / need));
    return `| ${rule.name} | ${rule.serviceCode}${rule.quotaCode ? ` ${rule.quotaCode}` : ''} | ${rule.scope} | ${need}${pre} | ${rule.defaultValue} | ${fit} |`;
  });
  for (const { rule, need } of nsNeeds.filter((n) => n.need > 0 && n.rule.key.startsWith('iam-'))) {
    rows.push(`| ${rule.name} (platform account, namespace blueprint) | ${rule.serviceCode}${rule.quotaCode ? ` ${rule.quotaCode}` : ''} | ${rule.scope} | ${need} | ${rule.defaultValue} | ${Math.floor(rule.defaultValue / need)} |`);
  }
  for (const v of computeVcpuNeeds(tier)) {
    rows.push(`| ${v.name} (vCPUs; one node ${v.oneNodeVcpus}) | ec2 ${v.quotaCode} | region | ${v.vcpus} at max scale | account-specific (often 0 for G/P in a new account) | — |`);
  }
  const max = maxTenantsPerAccount(tenant);
  const binding = max.binding ? `${max.binding.name} (${max.binding.serviceCode}${max.binding.quotaCode ? ` ${max.binding.quotaCode}` : ''})` : undefined;
  const header = [
    `#### ${tierName} (${tier.isolation} isolation: usage per ${where} and region)`,
    '',
    '| quota | code | scope | per tenant | AWS default | tenants that fit |',
    '|---|---|---|---:|---:|---:|',
  ];
  const footer = tier.isolation === 'vpc'
    ? `\nLargest tenant count per workload account at default quotas: **${Number.isFinite(max.tenants) ? max.tenants : 'unbounded'}**${binding ? `, bound by ${binding}` : ''}.`
    : `\nOne tenant per account: every quota above holds for one tenant${max.tenants >= 1 ? '' : ' — NOT at default quotas'}${binding ? ` (tightest: ${binding}, ${max.tenants} would fit)` : ''}.`;
  return { markdown: [...header, ...rows, footer].join('\n'), maxTenants: max.tenants, binding };
}

/** The rules' sources, for the table's footnote. */
export function quotaSources(): string {
  return [...new Set(QUOTA_RULES.map((r) => r.source))].map((s) => `- ${s}`).join('\n');
}
