/**
 * The text report of `npm run cost`: a summary table of the tiers, then per tier every line of its
 * fixed cost named by resource (a DR tier's DR blueprint and DR extras in sections of their own), its
 * GPU node-hours and its models' token prices, then the shared cluster's lines and the assumptions
 * behind the usage-priced lines.
 */
import type { DrCost } from './dr-costs.js';
import { byKind, type CostLine, type TemplateCost } from './price-template.js';
import type { CostReport, TierCost } from './tier-costs.js';

/** `$1,234.56`; amounts under a cent keep up to 4 decimals (`$0.0256`). */
export function usd(amount: number): string {
  if (amount !== 0 && Math.abs(amount) < 0.01) return `$${Number(amount.toFixed(4))}`;
  return `$${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** Unit prices as the table gives them (up to 6 decimals). */
const unitPrice = (amount: number) => `$${Number(amount.toFixed(6))}`;

/**
 * A catalog price per 1M tokens as the config gives it (`inputPricePer1k` x 1,000): at least 2 decimals,
 * up to 6 (`$0.80`, `$0.035`). A unit price, not an amount: usd() printed $0.035 as `$0.04`.
 */
export function tokenPrice(amount: number): string {
  const [whole, fraction = ''] = amount.toFixed(6).replace(/0+$/, '').split('.');
  return `$${Number(whole).toLocaleString('en-US')}.${fraction.padEnd(2, '0')}`;
}

/** Rows of cells, left-aligned except the columns in `right`. */
function columns(rows: string[][], right: ReadonlySet<number> = new Set()): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

function lineRows(lines: readonly CostLine[]): string[] {
  const rows = lines.map((l) => [
    l.resource, l.item, `${fmtQuantity(l.quantity)} ${l.unit} x ${unitPrice(l.unitUsd)}`, usd(l.monthlyUsd),
    `${l.basis}${l.assumption ? ', assumed*' : ''}${l.regionNote ? `, ${l.regionNote}` : ''}`,
  ]);
  return rows.length ? columns(rows, new Set([3])).map((r) => `    ${r}`) : ['    (no priced resource)'];
}

const fmtQuantity = (q: number) => q.toLocaleString('en-US', { maximumFractionDigits: 3 });

function templateBlock(title: string, cost: TemplateCost): string[] {
  const kinds = byKind(cost.lines).filter((k) => k.monthlyUsd > 0);
  const out = [`  ${title}: ${usd(cost.monthlyUsd)} per month${kinds.length ? `: ${kinds.map((k) => `${k.kind} ${usd(k.monthlyUsd)}`).join(', ')}` : ''}`, ...lineRows(cost.lines)];
  if (cost.unpriced.length) {
    out.push(`    NOT PRICED (type unknown to lib/cost): ${cost.unpriced.map((u) => `${u.resource} (${u.type})`).join(', ')}`);
  }
  return out;
}

/** How the DR region's figures were found, in one sentence. */
function regionPrices(home: string, dr: DrCost): string {
  const p = dr.prices;
  if (p.status === 'home') return `${dr.region} is the table's region`;
  if (p.status === 'not compared') return `the table has no ${dr.region} figures: ${home} figures used, each line flagged`;
  const differs = p.differs.length ? `; differ: ${p.differs.join(', ')}` : '; none differs';
  return `${dr.region} = ${home} for ${p.same.join(', ')} (${p.basis}, ${p.retrieved})${differs}; any other figure is ${home}'s, flagged`;
}

function drBlock(home: string, dr: DrCost): string[] {
  return [
    `  disaster recovery to ${dr.region} (RPO ${dr.rpoHours} h, RTO ${dr.rtoHours} h): ${usd(dr.monthlyUsd)} per month = DR blueprint ${usd(dr.blueprint.monthlyUsd)} + DR extras ${usd(dr.extras.monthlyUsd)}`,
    `    prices in ${dr.region}: ${regionPrices(home, dr)}`,
    ...templateBlock(`DR blueprint (${dr.region})`, dr.blueprint),
    ...templateBlock('DR extras (usage-priced: replication, cross-region copies and the DR vault, restore tests)', dr.extras),
  ];
}

function tierBlock(t: TierCost, home: string): string[] {
  const out = [`tier ${t.tier} (${t.isolation} isolation, ${t.compute} compute): ${usd(t.fixedMonthlyUsd)} per month fixed`];
  out.push(...templateBlock('tier blueprint', t.blueprint));
  if (t.namespace) out.push(...templateBlock('namespace blueprint', t.namespace));
  if (t.sharedCluster) {
    out.push(`  shared cluster share: ${usd(t.sharedCluster.monthlyUsd)} per month (${usd(t.sharedCluster.poolMonthlyUsd)} / ${t.sharedCluster.tenants} tenants; lines below)`);
  }
  if (t.disasterRecovery) out.push(...drBlock(home, t.disasterRecovery));
  if (t.gpu.length) {
    out.push(`  GPU per node-hour (${t.gpu[0]!.cluster} cluster; instance + root volume):`);
    out.push(...columns(t.gpu.map((g) => [g.instanceType, usd(g.nodeHourUsd), `= ${unitPrice(g.instanceHourUsd)} + ${g.diskGiB} GiB gp3 ${unitPrice(g.diskHourUsd)}`, g.basis]), new Set([1])).map((r) => `    ${r}`));
  } else {
    out.push('  GPU per node-hour: none (the tier schedules no GPU nodes)');
  }
  // An image model is priced per image, not per token (schema.ts pricePerImageUsd): the header says both when the tier has one.
  out.push(t.models.some((m) => m.kind === 'image') ? '  models, USD per 1M tokens (input / output), image models per image:' : '  tokens, USD per 1M (input / output):');
  out.push(...(t.models.length
    ? columns(t.models.map((m) => (m.kind === 'image' ? [m.id, m.kind, `${unitPrice(m.perImageUsd ?? 0)} per image`, '-'] : [m.id, m.kind, tokenPrice(m.inputPer1M), m.kind === 'chat' ? tokenPrice(m.outputPer1M) : '-'])), new Set([2, 3])).map((r) => `    ${r}`)
    : ['    (no catalog model allowed)']));
  return out;
}

/** The whole report as text. A DR column appears when a tier has disaster recovery. */
export function formatCostReport(report: CostReport): string {
  const anyDr = report.tiers.some((t) => t.disasterRecovery);
  const drCell = (t: TierCost) => (anyDr ? [t.disasterRecovery ? `${usd(t.disasterRecovery.monthlyUsd)} (${t.disasterRecovery.region})` : '-'] : []);
  const out: string[] = [
    `Tessera tier cost, ${report.region} on-demand prices retrieved ${report.retrieved} (lib/cost/prices-${report.region}.json), ${report.hoursPerMonth} h per month`,
    'basis: published = read on the source page; list = AWS list price, not re-read; derived = computed (see the table). assumed* = quantity from an assumption below.',
    '',
    ...columns([
      ['TIER', 'ISOLATION', 'COMPUTE', 'BLUEPRINT', 'NAMESPACE', 'SHARED CLUSTER SHARE', ...(anyDr ? ['DISASTER RECOVERY'] : []), 'FIXED PER MONTH'],
      ...report.tiers.map((t) => [
        t.tier, t.isolation, t.compute, usd(t.blueprint.monthlyUsd), t.namespace ? usd(t.namespace.monthlyUsd) : '-',
        t.sharedCluster ? `${usd(t.sharedCluster.monthlyUsd)} (1/${t.sharedCluster.tenants})` : '-', ...drCell(t), usd(t.fixedMonthlyUsd),
      ]),
    ], new Set(anyDr ? [3, 4, 5, 6, 7] : [3, 4, 5, 6])),
    '',
  ];
  for (const t of report.tiers) out.push(...tierBlock(t, report.region), '');
  if (report.sharedCluster) {
    out.push(`shared cluster (platform stack, ${report.sharedCluster.tenants} tenants assumed; --shared-tenants N):`);
    out.push(...templateBlock('shared cluster and its VPC', report.sharedCluster), '');
  }
  out.push('assumptions (lib/cost/prices-*.json "assumptions"):');
  out.push(...columns(Object.entries(report.assumptions).map(([k, a]) => [k, `${a.value} ${a.unit}`, a.why])).map((r) => `  ${r}`));
  return `${out.join('\n')}\n`;
}
