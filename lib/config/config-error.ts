/**
 * A config that does not validate: `source` names where it came from (the embedded default, a file, context keys),
 * `problems` one line each (config-issues.ts). Thrown by lib/config/load-config.ts, which re-exports it; in a module
 * of its own so that code that only reports it (the CLI's lib/cli/report-error.ts) does not load the schema.
 */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid Tessera config (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
