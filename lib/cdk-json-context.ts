import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The feature flags of cdk.json, for Apps built outside the CDK CLI (tests, benchmarks), so that
 * what tests assert is what `cdk synth` produces.
 */
export function cdkJsonContext(): Record<string, unknown> {
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'cdk.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { context: Record<string, unknown> }).context;
}
