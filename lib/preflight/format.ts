/** Text rendering of a preflight report (the CLI's output; tests print the per-tier counts line). */
import type { PermissionCheck } from './handler-permissions.js';
import { quotaSources } from './quota-table.js';
import { tierPasses, type PreflightReport, type TierReport } from './run.js';
import { ruleStatus } from './service-rules.js';
import { shutdownFix } from '../config/model-lifecycle.js';

/** One line of counts per tier, e.g. for CI logs. */
export function countsLine(t: TierReport): string {
  const perms = t.blueprints.map((b) => `${b.blueprint} (as ${b.deployerName}): ${b.resources} resources, ${b.counts.evaluated} permissions evaluated, ${b.counts.denied} denied, ${b.counts['not-exercised']} not exercised, ${b.counts['not-an-action']} not actions`).join('; ');
  const status = t.rules.map(ruleStatus);
  const n = (s: string) => status.filter((x) => x === s).length;
  const sr = t.serviceRoles;
  return `[${t.tierName}] ${perms}; ${t.collisions.length} name collisions, ${t.nameViolations.length} name violations, ${t.plainRetain.length} plain Retain; service rules ${n('pass')} passed, ${n('fail')} failed, ${n('n/a')} not applicable; deploy-time service roles: ${sr.roles} roles, ${sr.actionsEvaluated} actions, ${sr.denials.length} SCP denials, ${sr.errors.length} not evaluable, ${sr.unknownServices.length} unknown services (${sr.postActivationDenials.length} SCP denials of post-activation roles, not failures)`;
}

/** Denied checks grouped so that one missing grant is one line (resource ARNs of other tenants folded). */
export function deniedSummary(checks: PermissionCheck[]): string[] {
  const lines = new Map<string, number>();
  for (const c of checks.filter((x) => x.outcome === 'denied')) {
    const key = `${c.logicalId} (${c.type}) ${c.handler} ${c.action} on ${c.resource}: ${c.detail}`;
    lines.set(key, (lines.get(key) ?? 0) + 1);
  }
  return [...lines.keys()];
}

/**
 * The model catalog section (rule `model-shutdown-dates`): its verdict (FAIL with a catalog model past its date,
 * WARN with one within the window, else pass) and one line per finding.
 */
export function modelShutdownLines(m: PreflightReport['modelShutdowns']): string[] {
  const has = (s: string) => m.findings.some((f) => f.severity === s);
  const verdict = has('fail') ? 'FAIL' : has('warn') ? 'WARN' : 'pass';
  const out = [`== model catalog: rule ${verdict} model-shutdown-dates: no catalog model routed to an OpenAI model past its shutdown date (fail) or within ${m.warnWithinDays} days of it (warning), as of ${m.today} (lib/config/openai-model-shutdowns.ts, from the openai package's deprecation notices)`];
  for (const f of m.findings) {
    out.push(`  ${f.severity === 'fail' ? 'FAIL' : f.severity === 'warn' ? 'WARN' : 'info'} ${f.message}`);
    if (f.severity !== 'info') out.push(`    fix: ${shutdownFix(f)}`);
  }
  return out;
}

/**
 * The platform stack section (rule `offered-in-region` over TesseraPlatform in homeRegion): its verdict and one line
 * per violation.
 */
export function platformLines(p: PreflightReport['platform']): string[] {
  return [
    `== platform stack (TesseraPlatform in homeRegion ${p.region}): rule ${p.violations.length ? 'FAIL' : 'pass'} offered-in-region: every resource type and the shared cluster's node group instance types exist in homeRegion (cfn-lint's Region data, lib/preflight/region-availability.ts)`,
    ...p.violations.map((v) => `    - ${v}`),
  ];
}

/**
 * The platform DR stack section (rule `offered-in-region` over TesseraPlatformDr in platformDisasterRecovery.region): its
 * verdict and one line per violation; no lines without the stack (`platformDisasterRecovery: 'none'`).
 */
export function platformDrLines(p: PreflightReport['platformDr']): string[] {
  if (!p) return [];
  return [
    `== platform DR stack (TesseraPlatformDr in platformDisasterRecovery.region ${p.region}): rule ${p.violations.length ? 'FAIL' : 'pass'} offered-in-region: every resource type exists in the DR Region (cfn-lint's Region data, lib/preflight/region-availability.ts)`,
    ...p.violations.map((v) => `    - ${v}`),
  ];
}

/**
 * The report's last line: the verdict the exit code gives (`npm run preflight` exits 1 on FAIL) and what made it, so that a
 * failure above hundreds of lines is named at the end: the missing baseline, the platform stack's Region, the platform DR stack's, each failing tier, the model catalog's
 * models past their shutdown date; on PASS, the warnings' count.
 */
export function outcomeLine(report: PreflightReport): string {
  const failing = [
    ...(report.baselinePresent ? [] : ['no account baseline template']),
    ...(report.platform.violations.length ? ['platform stack offered-in-region'] : []),
    ...(report.platformDr?.violations.length ? ['platform DR stack offered-in-region'] : []),
    ...report.tiers.filter((t) => !tierPasses(t)).map((t) => `tier ${t.tierName}`),
    ...report.modelShutdowns.findings.filter((f) => f.severity === 'fail').map((f) => `model-shutdown-dates: ${f.modelId} (shut down ${f.shutdown})`),
  ];
  if (failing.length) return `preflight: FAIL (exit 1): ${failing.join('; ')} — see the FAIL lines above`;
  const warnings = report.modelShutdowns.findings.filter((f) => f.severity === 'warn').length;
  return `preflight: PASS${warnings ? ` with ${warnings} warning${warnings === 1 ? '' : 's'} (model-shutdown-dates)` : ''}`;
}

export function formatReport(report: PreflightReport, opts: { verbose: boolean } = { verbose: false }): string {
  const out: string[] = [`Tessera deploy preflight (cfn-lint ${report.cfnLintVersion} provider schemas, @cloud-copilot/iam-simulate)`];
  if (!report.baselinePresent) out.push('FAIL: no account baseline template (TesseraAccountBaseline) in the Blueprints stage');
  out.push('', ...modelShutdownLines(report.modelShutdowns));
  out.push('', ...platformLines(report.platform));
  if (report.platformDr) out.push('', ...platformDrLines(report.platformDr));
  for (const t of report.tiers) {
    out.push('', `== ${t.tierName} (${t.isolation} isolation): ${tierPasses(t) ? 'PASS' : 'FAIL'}`, countsLine(t));
    for (const b of t.blockers) out.push(`  BLOCKER ${b}`);
    for (const b of t.blueprints) {
      const denied = deniedSummary(b.checks);
      if (denied.length) out.push(`  denied handler permissions in ${b.blueprint} (deployer ${b.deployer}):`, ...denied.slice(0, opts.verbose ? undefined : 40).map((l) => `    - ${l}`));
      if (!opts.verbose && denied.length > 40) out.push(`    … ${denied.length - 40} more (--verbose)`);
    }
    for (const c of t.collisions) out.push(`  COLLISION ${c.type} "${c.name}" in ${c.scope}: ${c.holders.join(', ')}`);
    for (const v of t.nameViolations) out.push(`  NAME ${v.tenantId}/${v.logicalId} ${v.property} "${v.name}": ${v.problem}`);
    for (const r of t.plainRetain) out.push(`  RETAIN ${r.logicalId} ${r.type} has DeletionPolicy Retain: a rolled-back create leaves it behind (use RetainExceptOnCreate)`);
    for (const r of t.rules) {
      const status = ruleStatus(r);
      out.push(`  rule ${status === 'fail' ? 'FAIL' : status === 'n/a' ? 'not applicable' : 'pass'} ${r.rule.id}: ${r.rule.statement} (${r.rule.source})`);
      for (const v of r.violations) out.push(`    - ${v}`);
    }
    const byRole = new Map<string, string[]>();
    for (const d of t.serviceRoles.denials) byRole.set(`${d.roleLogicalId} (${d.roleArn}, trusted by ${d.service})`, [...(byRole.get(`${d.roleLogicalId} (${d.roleArn}, trusted by ${d.service})`) ?? []), d.action]);
    for (const [role, actions] of byRole) out.push(`  SERVICE ROLE denied by SCP: ${role}: ${actions.length} actions (${actions.slice(0, 5).join(', ')}${actions.length > 5 ? ', …' : ''})`);
    for (const e of t.serviceRoles.errors) out.push(`  SERVICE ROLE not evaluable: ${e.roleLogicalId} (${e.roleArn}) ${e.action}: ${e.detail}`);
    if (t.serviceRoles.unknownServices.length) out.push(`  service-role actions of services IAM does not know (not evaluated): ${t.serviceRoles.unknownServices.join(', ')}`);
    if (t.serviceRoles.unknownManagedPolicies.length) out.push(`  service-role AWS-managed policies not in the embedded excerpt (not evaluated): ${t.serviceRoles.unknownManagedPolicies.join(', ')}`);
    out.push('  retained named resources (outlive the stack):');
    for (const r of t.retained) out.push(`    - ${r.logicalId} ${r.type} ${r.deletionPolicy}: ${r.namePattern}`);
    out.push('', t.quotas.markdown);
  }
  out.push('', 'Quota sources:', quotaSources(), '', 'What the preflight cannot see:', ...report.cannotSee.map((s) => `- ${s}`));
  out.push('', outcomeLine(report));
  return out.join('\n');
}
