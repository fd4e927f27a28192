import { alertMailSenders } from './config/budget-alerts-config.js';
import { disasterRecoveryOf } from './config/disaster-recovery.js';
import type { PlatformConfig } from './config/schema.js';
import { PLATFORM_ROLE_NAMES } from './fine-tuning.js';
import { deployedLifecycleHandlers, LIFECYCLE_HANDLERS, lifecycleRoleName } from './lifecycle-handlers.js';

/**
 * Lambda's minimum of unreserved concurrency: reserved concurrency may take all of an account's
 * `ConcurrentExecutions` but 100 per Region, kept for functions without a reservation
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html: "You can reserve up
 * to the Unreserved account concurrency value minus 100"). A reservation that would leave less is
 * refused with InvalidParameterValueException "Specified ReservedConcurrentExecutions for function
 * decreases account's UnreservedConcurrentExecution below its minimum value of [100]".
 */
export const LAMBDA_UNRESERVED_MINIMUM = 100;

/** Service Quotas code of AWS Lambda's "Concurrent executions" (per account and Region; `--service-code lambda`). */
export const LAMBDA_CONCURRENCY_QUOTA_CODE = 'L-B99A9384';

/** One Tessera Lambda of TesseraPlatform: the fixed name of its role (how doctor finds it deployed) and its reserved concurrency. */
export interface PlatformFunction {
  /** IAM role name, fixed (LambdaFunctionProps.roleName). */
  readonly roleName: string;
  /** Lambda `ReservedConcurrentExecutions`: concurrent executions taken from the account's pool and the function's ceiling. */
  readonly reservedConcurrency: number;
}

/**
 * Reserved concurrency of each lifecycle Lambda (lib/lifecycle-handlers.ts LIFECYCLE_HANDLERS, one
 * function each): a ceiling, since the state machines and daily schedules call each a few times at once.
 */
export const LIFECYCLE_RESERVED_CONCURRENCY = 10;

/**
 * TesseraPlatform's Lambdas but the lifecycle's ({@link LIFECYCLE_RESERVED_CONCURRENCY}): the one
 * source of their role names and reserved concurrency, read by the constructs (LambdaFunction's
 * `roleName` and `reservedConcurrency`) and by {@link reservedConcurrency} (`tessera doctor`).
 */
export const PLATFORM_FUNCTIONS = {
  /** The gateway's API key authorizer (constructs/inference-api.ts). */
  authorizer: { roleName: 'tessera-gateway-authorizer', reservedConcurrency: 50 },
  /** The gateway's router: every model call (constructs/inference-api.ts). */
  router: { roleName: PLATFORM_ROLE_NAMES.router, reservedConcurrency: 200 },
  /** `/v1/tenant/users` on the Cognito pool; only without `gateway.jwt` (constructs/inference-api.ts). */
  tenantUsers: { roleName: 'tessera-gateway-tenant-users', reservedConcurrency: 10 },
  /** The CORS origin index's maintainer, on the registry's stream (constructs/cors-origin-index.ts). */
  corsOriginIndex: { roleName: 'tessera-gateway-cors-origin-index', reservedConcurrency: 5 },
  /** The budget alert mail; only when a tier sets `budgetAlerts.emailTenantAdmins` (constructs/tenant-budget-alerts.ts). */
  budgetAlertEmail: { roleName: 'tessera-budget-alert-email', reservedConcurrency: 5 },
  /** The fine-tuning API (constructs/fine-tuning.ts). */
  fineTuningApi: { roleName: PLATFORM_ROLE_NAMES.fineTuningApi, reservedConcurrency: 20 },
  /** Training and endpoint state changes (constructs/fine-tuning.ts). */
  fineTuningEvents: { roleName: PLATFORM_ROLE_NAMES.fineTuningEvents, reservedConcurrency: 10 },
  /** The admin API's handler (constructs/admin-api.ts). */
  adminApi: { roleName: 'tessera-admin-api', reservedConcurrency: 10 },
  /** The monthly tenant statements job, in Operations (constructs/tenant-statements.ts). */
  tenantStatements: { roleName: 'tessera-monthly-statements', reservedConcurrency: 1 },
  /** The gateway's daily reservation reclaim, in Operations (constructs/reservation-reclaim.ts). */
  reservationReclaim: { roleName: 'tessera-gateway-reservation-reclaim', reservedConcurrency: 1 },
  /** DR restore-test results; only when a tier has `disasterRecovery`, in Operations (constructs/restore-test-recorder.ts). */
  restoreTestRecorder: { roleName: 'tessera-restore-test-results', reservedConcurrency: 2 },
  /** Tenant infrastructure budget alerts to the platform bus; only when a tier sets `infrastructureBudget`, in Operations (constructs/infrastructure-budget-events.ts). */
  infrastructureBudgetEvents: { roleName: 'tessera-infrastructure-budget-events', reservedConcurrency: 2 },
} as const satisfies Record<string, PlatformFunction>;

export type PlatformFunctionName = keyof typeof PLATFORM_FUNCTIONS;

/** What TesseraPlatform reserves: the total and its parts, one per function. */
export interface PlatformReservations {
  /** Sum of `functions[].reservedConcurrency`: concurrent executions the platform takes from the account's pool in its home Region. */
  readonly total: number;
  /** Each function the config deploys, in a fixed order: the lifecycle's (LIFECYCLE_HANDLERS order), then PLATFORM_FUNCTIONS order. */
  readonly functions: ReadonlyArray<PlatformFunction & { /** `lifecycle/<handler>` or a PLATFORM_FUNCTIONS key. */ readonly name: string }>;
}

/**
 * The role names of every Lambda TesseraPlatform may have, whatever the config: how `tessera doctor`
 * tells the deployed platform's functions (whose reservations a deploy replaces) from the account's
 * others. A function the config no longer deploys (DR turned off) is deleted by the next deploy, so
 * its reservation is freed too.
 */
export function platformFunctionRoleNames(): string[] {
  return [...LIFECYCLE_HANDLERS.map(lifecycleRoleName), ...Object.values(PLATFORM_FUNCTIONS).map((f) => f.roleName)];
}

/**
 * The reserved concurrency TesseraPlatform's Lambdas take with `config`, per function and in total
 * (the sum of their `ReservedConcurrentExecutions`; the functions CDK adds itself, e.g. custom
 * resource providers, reserve none). Which functions exist depends on the config as the stack
 * decides it: the tenant users function without `gateway.jwt` (the platform's Cognito pool), the
 * budget alert mail when a tier sets `budgetAlerts.emailTenantAdmins: true`, the restore-test
 * recorder when a tier has `disasterRecovery`, the infrastructure budget forwarder when a tier sets `infrastructureBudget`, the lifecycle's `enable-regions` when an account tier needs an opt-in region
 * (deployedLifecycleHandlers). The account's `ConcurrentExecutions` in the home
 * Region must be at least this total + {@link LAMBDA_UNRESERVED_MINIMUM} + what its other functions
 * reserve, or `cdk deploy` fails at the first function that does not fit.
 * Kept equal to the synthesized templates, function by function, by test/infra/platform-headroom.test.ts.
 */
export function reservedConcurrency(config: PlatformConfig): PlatformReservations {
  const present: Record<PlatformFunctionName, boolean> = {
    authorizer: true,
    router: true,
    tenantUsers: !config.gateway.jwt,
    corsOriginIndex: true,
    budgetAlertEmail: Object.keys(alertMailSenders(config.tiers)).length > 0,
    fineTuningApi: true,
    fineTuningEvents: true,
    adminApi: true,
    tenantStatements: true,
    reservationReclaim: true,
    restoreTestRecorder: Object.values(config.tiers).some((t) => disasterRecoveryOf(t) !== undefined),
    infrastructureBudgetEvents: Object.values(config.tiers).some((t) => t.infrastructureBudget !== undefined),
  };
  const functions = [
    ...deployedLifecycleHandlers(config).map((h) => ({ name: `lifecycle/${h}`, roleName: lifecycleRoleName(h), reservedConcurrency: LIFECYCLE_RESERVED_CONCURRENCY })),
    ...(Object.entries(PLATFORM_FUNCTIONS) as Array<[PlatformFunctionName, PlatformFunction]>)
      .filter(([name]) => present[name])
      .map(([name, f]) => ({ name, roleName: f.roleName, reservedConcurrency: f.reservedConcurrency })),
  ];
  return { total: functions.reduce((sum, f) => sum + f.reservedConcurrency, 0), functions };
}
