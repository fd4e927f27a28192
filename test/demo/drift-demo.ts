/**
 * `tessera tenants drift` on this machine, as the onboarding demo runs the other tenant commands: moto plays
 * AWS, the synthesized state machines (the daily drift workflow among them) run in aws-local-stepfunctions
 * with the real Lambda handlers, and the admin API handler answers on loopback. The drift check is started as an
 * operator starts one, `tessera tenants drift --detect acme --wait` (POST /admin/drift, then its result followed
 * through the admin API). moto has no
 * DetectStackDrift, so the drift workflow's real run records the tenant UNKNOWN with moto's answer; the
 * drifted resource that follows is written to the registry as *Check drift* writes one (the workflow's
 * detection itself is tested on mocks: test/infra/lifecycle-definitions.test.ts, test/unit/lifecycle/).
 * Prints the transcript quoted in docs/resilience.md (Drift, Seeing it).
 * Usage: npm run demo:drift (installs moto into .venv first when it is missing, as `npm test` does)
 */
// First: --help / -h prints the comment above and exits before anything runs (scripts/help-flag.ts).
import '../../scripts/help-flag.js';

// Imported after help-flag.js has run, as in onboarding-demo.ts: a static import would have tsx load and compile the
// harness, the Lambda handlers and the AWS SDK before --help is seen.
const { updateTenant } = await import('../../lambdas/shared/registry.js');
const { startDemoPlatform } = await import('./demo-platform.js');

const { platform, tessera } = await startDemoPlatform();

try {
  await tessera('tenants', 'create', '--id', 'acme', '--name', 'Acme Corp', '--tier', 'starter', '--admin-email', 'platform+acme@example.com', '--request-id', 'acme-2026-11-23', '--watch', '--interval', '0.5');
  await tessera('tenants', 'drift');
  // A drift check now, as an operator starts one (POST /admin/drift starts tessera-drift with { tenantId: acme }); on moto
  // its DetectStackDrift fails, so acme is recorded UNKNOWN with the error.
  // --wait follows it through the admin API until its result is recorded, and prints it.
  await tessera('tenants', 'drift', '--detect', 'acme', '--wait', '--interval', '0.5');
  await tessera('tenants', 'drift');
  await tessera('tenants', 'drift', 'acme');
  // What a check that found drift records (check-drift.ts), written as it writes it: moto cannot detect drift.
  process.stdout.write('# moto has no DetectStackDrift: acme\'s record is written as Check drift writes a drifted database\n\n');
  await updateTenant('acme', { drift: {
    status: 'DRIFTED', checkedAt: new Date().toISOString(), stacks: [{ stack: 'tessera-acme', status: 'DRIFTED', detectionId: 'det-1' }],
    resources: [{ stack: 'tessera-acme', logicalId: 'Database', type: 'AWS::RDS::DBInstance', physicalId: 'tessera-acme', status: 'MODIFIED', differences: [{ path: '/BackupRetentionPeriod', type: 'NOT_EQUAL' }] }],
  } }, { holder: null });
  await tessera('tenants', 'drift', '--status', 'DRIFTED');
  await tessera('tenants', 'drift', 'acme');
  await tessera('tenants', 'update', 'acme', '--repair', '--watch');
  await tessera('tenants', 'drift', 'acme');
} finally {
  await platform.stop();
}
