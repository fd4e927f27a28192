import { modelShutdownFindings, SHUTDOWN_WARNING_DAYS, shutdownFix } from '../../config/model-lifecycle.js';
import { result } from './results.js';
import type { CheckResult, DoctorContext } from './types.js';

/**
 * `model-shutdown:<catalog id>`: the same finding as the preflight's rule `model-shutdown-dates`
 * (lib/config/model-lifecycle.ts), for each `openai/` or `openai-compatible/` entry of `gateway.models` whose
 * upstream OpenAI has announced a shutdown of: on or past the date a fail (an `openai/` entry), within
 * {@link SHUTDOWN_WARNING_DAYS} days (or any `openai-compatible/` one on or within) a warning, further off a pass
 * naming the date. With none, one `model-shutdown` pass line. No AWS call: the dates are the embedded table's.
 * The day is `ctx.today` (tests) or the clock's.
 */
export async function modelShutdownChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const today = ctx.today ?? new Date();
  const findings = modelShutdownFindings(ctx.config.gateway.models, { today, aliases: ctx.config.gateway.modelAliases });
  if (!findings.length) {
    return [result('model-shutdown', 'Model shutdowns', 'pass', `no openai/ or openai-compatible/ model of gateway.models has an announced OpenAI shutdown date (as of ${today.toISOString().slice(0, 10)})`)];
  }
  return findings.map((f) => result(`model-shutdown:${f.modelId}`, `Shutdown of ${f.modelId}`, f.severity === 'info' ? 'pass' : f.severity, f.message, { fix: shutdownFix(f) }));
}
