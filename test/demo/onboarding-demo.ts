/**
 * A full onboarding with the `tessera` CLI, on this machine: moto plays AWS, the synthesized state
 * machines run in aws-local-stepfunctions with the real Lambda handlers, and the admin API handler
 * answers on loopback. Prints the transcript quoted in docs/tenant-lifecycle.md.
 * Usage: npm run demo:onboarding (installs moto into .venv first when it is missing, as `npm test` does)
 */
// First: --help / -h prints the comment above and exits before anything runs (scripts/help-flag.ts).
import '../../scripts/help-flag.js';

// Imported after help-flag.js has run: a static import would have tsx load and compile the harness, the Lambda handlers
// and the AWS SDK (~0.8 s of CPU) before --help is seen (ESM loads a module's whole static graph before it evaluates any).
const { startDemoPlatform } = await import('./demo-platform.js');
const { platform, tessera } = await startDemoPlatform();

try {
  await tessera('tenants', 'create', '--id', 'acme', '--name', 'Acme Corp', '--tier', 'professional', '--admin-email', 'platform+acme@example.com', '--request-id', 'acme-2026-11-23', '--watch', '--interval', '0.5');
  await tessera('tenants', 'create', '--id', 'globex', '--name', 'Globex', '--tier', 'enterprise', '--admin-email', 'platform+globex@example.com', '--request-id', 'globex-2026-11-23', '--watch', '--interval', '0.5');
  await tessera('tenants', 'list');
  await tessera('tenants', 'show', 'globex');
  await tessera('tenants', 'create', '--id', 'acme', '--name', 'Someone Else', '--tier', 'starter', '--admin-email', 'x@example.com');
} finally {
  await platform.stop();
}
