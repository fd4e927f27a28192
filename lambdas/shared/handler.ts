import { serviceLogger } from './service-logger.js';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { tenantIdOf } from '../lifecycle/state.js';
import { boundedError } from './error-size.js';
import { markStep, stepContext } from './registry.js';

export const logger = serviceLogger('tessera-lifecycle');
export const metrics = new Metrics({ namespace: 'Tessera', serviceName: 'tessera-lifecycle' });
export const tracer = new Tracer({ serviceName: 'tessera-lifecycle' });

export type StepHandler<I, O> = (event: I, context?: Context) => Promise<O>;

/** What lifecycleHandler adds to the handler it returns. */
export interface LifecycleStep {
  /** The handler's own name (the metrics' `Step` dimension, the logs' `step` key). */
  step: string;
  /**
   * The name the registry's `currentStep` is set to before the step runs on `event` (the event's `stateName`, else
   * `step`); undefined for a handler made with `trackStep: false`, which sets no step before it runs.
   */
  recordedStep(event: unknown): string | undefined;
}

/**
 * The workflow state a shared handler runs as, when its payload names it (`stateName`, which the
 * definitions pass to the handlers that serve several states: deploy-blueprint as Deploy namespace, Deploy DR blueprint…;
 * check-stack; manage-usage-key as Issue, Move or Revoke usage key). Before, the registry's `currentStep` (tessera tenants
 * show and list, and the failure end-stopped-execution records for a stopped execution) named the handler, e.g.
 * "Manage usage key" or "Deploy blueprint" while the namespace was deploying: a step the workflow never had.
 */
function stateNameOf(event: unknown): string | undefined {
  const name = (event as { stateName?: unknown } | undefined)?.stateName;
  return typeof name === 'string' && name ? name : undefined;
}

/**
 * Wraps a lifecycle step: structured logs with the Lambda context, EMF metrics, X-Ray traces.
 * Registry writes inside the step are conditional on the event's `executionArn` holding the
 * tenant's lease (stepContext); steps that take the lease themselves pass `trackStep: false`.
 * Errors are logged whole and re-thrown with their class and `name` (what the state machine's Retry and Catch rules match
 * on), their message and stack cut, with a marker, beyond what the cause of a `… failed, not recorded` Fail state has room
 * for (error-size.ts boundedError: Step Functions' execution cause is at most 32,768 characters).
 *
 * The returned handler carries `step` (the handler's own name: the metrics' Step dimension and the logs') and
 * `recordedStep(event)`: the step the registry's `currentStep` is set to for `event` before `fn` runs (the state named by
 * the event's `stateName`, else `step`), or undefined with `trackStep: false` (the step writes it itself, or not at all).
 * The definitions are checked against it (test/infra/lifecycle-definitions.test.ts: every Task records its state's name).
 */
export function lifecycleHandler<I, O>(step: string, fn: StepHandler<I, O>, options: { trackStep?: boolean } = {}): StepHandler<I, O> & LifecycleStep {
  const recordedStep = (event: unknown): string | undefined => (options.trackStep === false ? undefined : stateNameOf(event) ?? step);
  // One EMF record per step outcome, published at once (a step is one invocation), with the
  // dimensions service and Step (the dashboard's SEARCH expressions name exactly those). One
  // single-metric instance per step, made with the step's module: metrics.singleMetric() per outcome
  // built a new Metrics and a new Console each time. A published record clears only the record's
  // own metrics and dimensions, so Step, a default dimension here, stays for the next outcome;
  // addMetric stores and publishes synchronously, so concurrent invocations cannot mix records.
  const stepMetrics = metrics.singleMetric().setDefaultDimensions({ Step: step });
  const outcome = (name: string) => stepMetrics.addMetric(name, MetricUnit.Count, 1);
  const wrapped = middy(async (event: I, context: Context) => {
    const tenantId = tenantIdOf(event as never);
    logger.appendKeys({ step, tenantId });
    const executionArn = (event as { executionArn?: string } | undefined)?.executionArn;
    try {
      const result = await stepContext.run({ executionArn }, async () => {
        // The registry shows which step runs now, and after a failure which one failed. Like every
        // registry write of a step, it happens only while the step's execution holds the lease.
        const recorded = recordedStep(event);
        if (tenantId && recorded) await markStep(tenantId, recorded);
        return fn(event, context);
      });
      outcome('StepSucceeded');
      return result;
    } catch (e) {
      outcome('StepFailed');
      logger.error('step failed', { error: e as Error });
      // Logged whole above; thrown cut to what the workflow's `… failed, not recorded` cause has room for (error-size.ts).
      throw e instanceof Error ? boundedError(e) : e;
    }
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer));
  const handler = ((event: I, context?: Context) => wrapped(event, context ?? ({} as Context))) as StepHandler<I, O> & LifecycleStep;
  handler.step = step;
  handler.recordedStep = recordedStep;
  return handler;
}
