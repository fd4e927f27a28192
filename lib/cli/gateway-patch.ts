import { CliError } from './cli-error.js';

/** A key path of `--set` / `--unset`: dot-separated keys of the gateway policy (`guardrails.redactPii`), none empty. */
const KEY_PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * A `--set` value: the JSON it parses as (`true`, `500`, `["a","b"]`, `{"x":1}`, `null`), else the text itself
 * (`gpt-4o`, `Answer in French.`). A string that reads as JSON (`123`, `true`) is given quoted: `'"123"'`.
 */
export function setValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The JSON Merge Patch (RFC 7396) of `tessera tenants gateway <id> --set key.path=value --unset key.path`: each `--set`
 * puts its value (setValue) at its path, each `--unset` a `null` (the key is removed: it takes its default).
 * @param sets `key.path=value` each (the first `=` ends the path)
 * @param unsets `key.path` each
 * @returns the merge patch, e.g. `{ guardrails: { redactPii: true }, systemPrompt: null }`
 * @throws CliError (exit 2) naming the option and its value: no `=`, a bad key path, or one path given twice or inside
 *   another (`--set guardrails={...} --set guardrails.redactPii=true`: which wins would depend on the order)
 */
export function gatewayPatch(sets: readonly string[], unsets: readonly string[]): Record<string, unknown> {
  const entries: { option: string; given: string; path: string[]; value: unknown }[] = [];
  for (const given of sets) {
    const eq = given.indexOf('=');
    if (eq <= 0) throw new CliError(`--set ${JSON.stringify(given)}: give key.path=value, e.g. --set monthlyCostBudgetUsd=500 or --set guardrails.redactPii=true`);
    entries.push({ option: '--set', given, path: keyPath('--set', given, given.slice(0, eq)), value: setValue(given.slice(eq + 1)) });
  }
  for (const given of unsets) entries.push({ option: '--unset', given, path: keyPath('--unset', given, given), value: null });
  const patch: Record<string, unknown> = {};
  for (const [i, e] of entries.entries()) {
    const clash = entries.find((o, j) => j !== i && o.path.length <= e.path.length && o.path.every((k, n) => e.path[n] === k));
    if (clash) {
      throw new CliError(`${e.option} ${JSON.stringify(e.given)}: ${clash.path.length === e.path.length ? 'the same key is' : `${clash.path.join('.')} is`} also given by ${clash.option} ${JSON.stringify(clash.given)}; give each key once`);
    }
    let at = patch;
    for (const key of e.path.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
    at[e.path.at(-1)!] = e.value;
  }
  return patch;
}

function keyPath(option: string, given: string, path: string): string[] {
  if (!KEY_PATH.test(path)) throw new CliError(`${option} ${JSON.stringify(given)}: ${JSON.stringify(path)} is not a key path: keys of the gateway policy joined by dots, e.g. guardrails.redactPii`);
  return path.split('.');
}
