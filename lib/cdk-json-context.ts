import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The context the CDK CLI would pass: cdk.json's feature flags, for Apps built outside the CLI
 * (tests, benchmarks), so that what tests assert is what `cdk synth` produces. There is no
 * cdk.context.json: the app performs no lookups (Availability Zones come from the config).
 */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}
