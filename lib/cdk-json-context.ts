import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The context the CDK CLI would pass: cdk.json's feature flags and cdk.context.json's cached
 * lookups (the default platform account's AZs), for Apps built outside the CLI (tests, benchmarks),
 * so that what tests assert is what `cdk synth` produces.
 */
export function cdkJsonContext(): Record<string, unknown> {
  const flags = (JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
  const cached = JSON.parse(readFileSync(join(root, 'cdk.context.json'), 'utf8')) as Record<string, unknown>;
  return { ...cached, ...flags };
}
