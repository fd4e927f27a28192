import { ExecutionAbortedError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import { randomUUID } from 'node:crypto';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import type { LifecycleHandlerName } from '../../../lib/lifecycle-handlers.js';
import { cachedJson, cachedJsonAsync } from './disk-cache.js';
import { runDistributedMap, type DistributedMapState } from './local-distributed-map.js';

export type WorkflowName = 'onboard' | 'change' | 'status' | 'offboard' | 'upgrade' | 'drift';
export type Definition = { States: Record<string, { Type: string; Resource?: string; Iterator?: Definition; ItemProcessor?: Definition }>; StartAt: string };
type Handler = (event: unknown) => Promise<unknown>;
/**
 * One event of a local run, as aws-local-stepfunctions logs it (`stateType` for state events; `output`, a StateExited
 * event's: the state's output, which GetExecutionHistory gives as `stateExitedEventDetails.output`).
 */
export type WorkflowEvent = { type: string; name?: string; stateType?: string; output?: unknown; at: Date };

/** An execution's `cause` as Step Functions reports it: a string (an error's message, or JSON). */
function causeText(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause);
}

/**
 * The six lifecycle state machines of `config`'s platform stack as synthesized (local-workflows.ts's
 * `synthesizeDefinitions`), through the disk cache (disk-cache.ts, name `workflow-definitions`, the
 * same entry `new LocalWorkflows(config)` reads). On a miss, they come from the app snapshot of the
 * config (lifecycle-definitions.ts `snapshotDefinitions`: the default app's, or the one infra files
 * share for that config, made here if no run made it yet): no synth of the harness's own. aws-cdk-lib
 * and the app's constructs are imported only when a snapshot must be made: a test file that finds
 * the cache warm never loads them (about 1 s of CPU per file).
 */
export async function workflowDefinitions(config: PlatformConfig): Promise<Record<WorkflowName, Definition>> {
  return cachedJsonAsync('workflow-definitions', { config }, async () => (await import('./lifecycle-definitions.js')).snapshotDefinitions(config));
}

/** How the harness validates a definition: asl-validator through aws-local-stepfunctions, ARNs and paths not checked (rendered Lambda ARNs; the infra test checks both). */
const VALIDATION = { checkArn: false, checkPaths: false } as const;

/**
 * Throws as aws-local-stepfunctions' StateMachine does for an invalid `definition` (asl-validator
 * with VALIDATION). A definition found valid is remembered in the test disk cache (disk-cache.ts,
 * name `workflow-definition-valid`; key: every source file, this harness, package-lock.json, which
 * pins asl-validator, Ajv and aws-local-stepfunctions, the definition's JSON and VALIDATION): each
 * validation compiles asl-validator's 15 JSON schemas with a new Ajv, 0.5-0.9 s of CPU per
 * definition (profile of lifecycle.test.ts: 4.5 s of its worker's ~31 s), and every harness file
 * validated the same five or six definitions again. An invalid one is never remembered (it throws
 * every time); `TESSERA_TEST_CACHE=off` validates every time.
 */
export function validateDefinition(definition: Definition): void {
  cachedJson('workflow-definition-valid', { definition, validation: VALIDATION }, () => {
    new StateMachine(definition as never, { validationOptions: VALIDATION }); // throws on an invalid definition
    return true;
  });
}

/**
 * The one function outside the lifecycle's that a workflow invokes: the fine-tuning events Lambda
 * (offboarding's *Retire fine-tuned models*), rendered as its handler file under lambdas/.
 */
export const FINE_TUNING_EVENTS_HANDLER = 'fine-tuning/training-events-handler' as const;
/** What a Task state of a lifecycle workflow invokes: a lifecycle handler, or the fine-tuning events Lambda. */
type TaskHandlerName = LifecycleHandlerName | typeof FINE_TUNING_EVENTS_HANDLER;

/** The handler an onboarding polls for an account-creation slot (`Wait for account slot` → `Acquire account slot`). */
const SLOT_POLL: LifecycleHandlerName = 'acquire-account-slot';
/**
 * The handlers that give an account-creation slot back: release-account-slot, and record-failure
 * and end-stopped-execution through `failOperation` (lambdas/lifecycle/lease.ts).
 */
const SLOT_RELEASERS: ReadonlySet<LifecycleHandlerName> = new Set(['release-account-slot', 'record-failure', 'end-stopped-execution']);
/**
 * A Task state's timeout where its definition sets none. Step Functions then has no task timeout
 * of its own (the Task state's `TimeoutSeconds` defaults to 99,999,999 s, Amazon States Language,
 * "Task state"): the task ends when its Lambda does, whose own timeout is at most 15 minutes.
 * aws-local-stepfunctions instead fails such a Task with States.Timeout after 60 s of wall time,
 * which a loaded machine reached (offboarding-export's export of 1,000 objects and a 50 MB one, at
 * load ~20: the test failed with an execution States.Timeout that AWS would not raise). The
 * largest delay Node's setTimeout keeps (2^31 - 1 ms; a longer one fires at once), ~24.8 days:
 * never reached by a test, as AWS's default is never reached by a Lambda.
 */
const TASK_TIMEOUT_UNSET_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * `definition` with TASK_TIMEOUT_UNSET_SECONDS on every Task state (nested Map and Parallel
 * definitions included) that sets neither `TimeoutSeconds` nor `TimeoutSecondsPath`; the rest as
 * synthesized. A copy: the synthesized definition itself is not changed.
 */
export function withAwsTaskTimeouts<D extends Definition>(definition: D): D {
  type State = Definition['States'][string] & { TimeoutSeconds?: number; TimeoutSecondsPath?: string; Branches?: Definition[] };
  const states = Object.fromEntries(Object.entries(definition.States).map(([name, state]: [string, State]) => {
    const copy: State = { ...state };
    if (copy.Type === 'Task' && copy.TimeoutSeconds === undefined && copy.TimeoutSecondsPath === undefined) copy.TimeoutSeconds = TASK_TIMEOUT_UNSET_SECONDS;
    if (copy.Iterator) copy.Iterator = withAwsTaskTimeouts(copy.Iterator);
    if (copy.ItemProcessor) copy.ItemProcessor = withAwsTaskTimeouts(copy.ItemProcessor);
    if (copy.Branches) copy.Branches = copy.Branches.map((b) => withAwsTaskTimeouts(b));
    return [name, copy];
  }));
  return { ...definition, States: states };
}

/** The Task resource a Distributed Map is run as (withLocalDistributedMaps): no Lambda has the name; the runner's handler answers it. */
const DISTRIBUTED_MAP_RESOURCE = 'arn:aws:lambda:us-east-1:000000000000:function:local-distributed-map';

/** Whether a state is a Map reading its items from S3 (`ItemReader`): a Distributed Map, which aws-local-stepfunctions cannot run. */
function isDistributedMap(state: { Type: string; ItemReader?: unknown }): boolean {
  return state.Type === 'Map' && state.ItemReader !== undefined;
}

/**
 * `definition` with each top-level Map that reads its items from S3 (`ItemReader`) made a Task of the same name, input,
 * `ResultPath`, `OutputPath`, `Next`/`End`, `Retry` and `Catch`, whose handler (run()) runs it as Step Functions runs a
 * Distributed Map (local-distributed-map.ts). aws-local-stepfunctions reads no ItemReader: it failed such a Map at once
 * with `States.Runtime` "Input of Map state must be an array…", so the rolling upgrade could not run on the local
 * platform. A copy; the rest as given.
 */
export function withLocalDistributedMaps<D extends Definition>(definition: D): D {
  const states = Object.fromEntries(Object.entries(definition.States).map(([name, state]) => {
    if (!isDistributedMap(state as { Type: string; ItemReader?: unknown })) return [name, state];
    const { ResultPath, OutputPath, InputPath, Next, End, Retry, Catch } = state as Record<string, unknown>;
    const kept = Object.entries({ ResultPath, OutputPath, InputPath, Next, End, Retry, Catch }).filter(([, v]) => v !== undefined);
    return [name, { Type: 'Task', Resource: DISTRIBUTED_MAP_RESOURCE, ...Object.fromEntries(kept) }];
  }));
  return { ...definition, States: states };
}

/** The longest a refused slot poll's next poll is held back waiting for a release (a slot freed by other means). */
const SLOT_RECHECK_MS = 1_000;

/**
 * The error a task that waits for its tenant's lease retries (constructs/lifecycle-workflows.ts `waitForLease`: the rolling
 * upgrade's *Begin change*, 12 retries from 60 s, backoff 1.5, at most 10 min apart: about an hour and a half).
 */
const LEASE_WAIT_ERROR = 'TenantBusy';
/** The longest a retry of LEASE_WAIT_ERROR is held back waiting for a run to end (a lease released by other means). */
const LEASE_RECHECK_MS = 2_000;

/**
 * The state machines exactly as synthesized by the platform stack, made runnable locally:
 * Lambda ARNs in the definition are resolved to the handler each function bundles, and
 * aws-local-stepfunctions runs every Task state with that real handler (in this process, against
 * moto). Wait states and retry pauses are shortened through the library's override options; the
 * definitions themselves are not edited, but for what the library cannot run: a Distributed Map (ItemReader) runs as a
 * Task of its own handler (withLocalDistributedMaps), on a copy.
 */
export class WorkflowRunner {
  private readonly modules = new Map<TaskHandlerName, Handler>();
  private readonly machines = new WeakMap<Definition, StateMachine>();
  /** Wraps handlers, e.g. to observe them (concurrency tests). */
  wrap?: (name: LifecycleHandlerName, handler: Handler) => Handler;
  /** Slot releases seen so far (SLOT_RELEASERS finished), and the slot polls held until the next one. */
  private slotReleases = 0;
  private slotWaiters: Array<() => void> = [];
  /** Runs ended so far, and the lease-waiting retries held until the next one. */
  private runEnds = 0;
  private runEndWaiters: Array<() => void> = [];

  /** @param definitions the state machines' definitions as synthesized (workflowDefinitions()). */
  constructor(readonly definitions: Record<WorkflowName, Definition>) {}

  /** Counts a slot release and lets every held slot poll go. */
  private slotReleased(): void {
    this.slotReleases += 1;
    for (const go of this.slotWaiters.splice(0)) go();
  }

  /**
   * Resolves once a slot was released after release number `seen` (at once if one already was),
   * or after SLOT_RECHECK_MS.
   */
  private releaseAfter(seen: number): Promise<void> {
    if (this.slotReleases !== seen) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(go, SLOT_RECHECK_MS);
      function go() {
        clearTimeout(timer);
        resolve();
      }
      this.slotWaiters.push(go);
    });
  }

  /** Counts a run's end and lets every held lease-waiting retry go. */
  private runEnded(): void {
    this.runEnds += 1;
    for (const go of this.runEndWaiters.splice(0)) go();
  }

  /** Resolves once a run ended after run end number `seen` (at once if one already did), or after LEASE_RECHECK_MS. */
  private runEndAfter(seen: number): Promise<void> {
    if (this.runEnds !== seen) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(go, LEASE_RECHECK_MS);
      function go() {
        clearTimeout(timer);
        resolve();
      }
      this.runEndWaiters.push(go);
    });
  }

  /**
   * The runnable machine of `definition`, made once per definition and runner. The definition is
   * validated then, with the options every run used before (asl-validator, ARNs and paths not
   * checked: the Lambda ARNs are rendered, the infra test checks both), nested Map definitions
   * included, once per state of the sources (validateDefinition); the machine that runs is built
   * with `noValidate`, because aws-local-stepfunctions would otherwise validate again on every run
   * and for every Map item (a new Ajv schema compilation each time: about a quarter of a second of
   * CPU per run here). Task states without a timeout get AWS's (withAwsTaskTimeouts), not the
   * library's 60 s.
   */
  private machine(definition: Definition): StateMachine {
    let machine = this.machines.get(definition);
    if (!machine) {
      validateDefinition(definition);
      machine = new StateMachine(withAwsTaskTimeouts(withLocalDistributedMaps(definition)) as never, { validationOptions: { noValidate: true } });
      this.machines.set(definition, machine);
    }
    return machine;
  }

  private async handler(name: TaskHandlerName): Promise<Handler> {
    if (!this.modules.has(name)) {
      const mod = (await import(name === FINE_TUNING_EVENTS_HANDLER ? `../../../lambdas/${name}.ts` : `../../../lambdas/lifecycle/${name}.ts`)) as { handler: Handler };
      this.modules.set(name, mod.handler);
    }
    const h = this.modules.get(name)!;
    return this.wrap ? this.wrap(name as LifecycleHandlerName, h) : h;
  }

  /**
   * Runs `workflow` to its end; resolves with the output, or with the error of a failed execution.
   * `status` is how Step Functions would close it; for FAILED, `error.error` and `error.cause` are
   * the execution's error and cause as DescribeExecution reports them. `signal` aborts the run (the
   * library's `abort()`: the state in flight finishes, no further state runs).
   *
   * Every Wait state lasts `waitMs` (default 1 ms) instead of its Seconds. One exception in effect:
   * an onboarding that found no account-creation slot free (`Acquire account slot` answered
   * `acquired: false`) polls again only once a slot was given back in this process (a
   * SLOT_RELEASERS handler finished since its refused poll began) or SLOT_RECHECK_MS passed; the
   * poll is held at the start of the `Acquire account slot` Task. A poll before then would find
   * the same slots taken: in AWS the Wait is 30 s, far longer than a release takes here. Without
   * it, in the account-creation burst (30 onboardings, cap 5) the 25 waiting onboardings polled
   * ~750 times (1 ms Waits), each poll two DynamoDB writes (the step and the slot), taking CPU from
   * the 5 that hold slots; with it, ~440 (both measured on a loaded machine). Every
   * poll that is made is the real handler against moto; on each release all waiting onboardings
   * poll at once, as their 30 s Waits would end, and contend for the freed slot.
   *
   * A second, for a Task whose Retry waits for the tenant's lease (LEASE_WAIT_ERROR: the rolling upgrade's run of a tenant
   * another operation holds): after it threw that error, its retry is held until a run of this runner ended since the
   * attempt began (the lease holder's, which releases the lease before it ends), or LEASE_RECHECK_MS passed. With 1 ms
   * retry pauses, the 12 retries that wait about an hour and a half in AWS ran out in about a second of the other
   * operation's run (lifecycle-crossfire's upgrade run queued behind a repair took the lease at its 9th of 13 attempts,
   * and was refused TenantBusy on a loaded machine): a wait Step Functions would have kept up.
   */
  async run(
    workflow: WorkflowName | Definition,
    input: unknown,
    options: { executionArn?: string; onEvent?: (e: WorkflowEvent) => void; waitMs?: number; signal?: AbortSignal } = {},
  ): Promise<{ output?: any; error?: { name: string; message: string; error?: string; cause?: string }; states: string[]; status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' }> {
    // A definition of its own: e.g. the upgrade's ItemProcessor, run as one tenant's child execution.
    const definition = typeof workflow === 'string' ? this.definitions[workflow] : workflow;
    const machineName = typeof workflow === 'string' ? workflow : 'child';
    const taskHandlers: Record<string, Handler> = {};
    const waits: Record<string, number> = {};
    const retries: Record<string, number> = {};
    // The release number at the start of this execution's last refused slot poll.
    let refusedAt: number | undefined;
    const visit = async (d: Definition) => {
      for (const [name, state] of Object.entries(d.States)) {
        if (state.Type === 'Task') {
          const fn = state.Resource!.split(':function:')[1] as LifecycleHandlerName;
          const handler = await this.handler(fn);
          taskHandlers[name] = (event: unknown) => handler(event);
          if (fn === SLOT_POLL) {
            taskHandlers[name] = async (event: unknown) => {
              if (refusedAt !== undefined) await this.releaseAfter(refusedAt);
              const seen = this.slotReleases;
              const out = await handler(event);
              refusedAt = (out as { acquired?: boolean } | undefined)?.acquired === false ? seen : undefined;
              return out;
            };
          }
          if (waitsForLease(state as { Retry?: Array<{ ErrorEquals?: string[] }> })) {
            // Per execution (a Map's items share this run's handlers): the run end number when its last refused attempt began.
            const busyAt = new Map<string, number>();
            const attempt = taskHandlers[name];
            taskHandlers[name] = async (event: unknown) => {
              const key = String((event as { executionArn?: string } | undefined)?.executionArn);
              const refused = busyAt.get(key);
              if (refused !== undefined) await this.runEndAfter(refused);
              const seen = this.runEnds;
              busyAt.delete(key);
              try {
                return await attempt(event);
              } catch (e) {
                if ((e as Error)?.name === LEASE_WAIT_ERROR) busyAt.set(key, seen);
                throw e;
              }
            };
          }
          if (SLOT_RELEASERS.has(fn)) {
            taskHandlers[name] = async (event: unknown) => {
              try {
                return await handler(event);
              } finally {
                this.slotReleased();
              }
            };
          }
          retries[name] = 1;
        }
        if (d === definition && isDistributedMap(state as { Type: string; ItemReader?: unknown })) {
          // Run as a Task (withLocalDistributedMaps): each item a child execution of this runner, as a Distributed Map's are.
          taskHandlers[name] = (event: unknown) => runDistributedMap(state as unknown as DistributedMapState, event, executionId,
            (child, childInput, executionArn) => this.run(child as Definition, childInput, { executionArn, waitMs: options.waitMs, signal: options.signal }));
        }
        if (state.Type === 'Wait') waits[name] = options.waitMs ?? 1;
        const inner = state.Iterator ?? state.ItemProcessor;
        if (inner) await visit(inner);
      }
    };
    const executionId = options.executionArn ?? `arn:aws:states:us-east-1:222222222222:execution:tessera-${machineName}:${randomUUID()}`;
    await visit(definition);
    const machine = this.machine(definition);
    const execution = machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: taskHandlers as never, waitTimeOverrides: waits, retryIntervalOverrides: retries },
      context: { Execution: { Id: executionId, Name: executionId.split(':').pop(), Input: input, StartTime: new Date().toISOString() } } as never,
    });
    const states: string[] = [];
    let failure: { Error?: string; Cause?: unknown } | undefined;
    const log = (async () => {
      for await (const event of execution.eventLogs) {
        const e = event as { type: string; state?: { name: string; type?: string; output?: unknown }; Error?: string; Cause?: unknown };
        if (e.type === 'StateEntered') states.push(e.state!.name);
        if (e.type === 'ExecutionFailed') failure = e;
        options.onEvent?.({ type: e.type, name: e.state?.name, stateType: e.state?.type, ...(e.type === 'StateExited' ? { output: e.state?.output } : {}), at: new Date() });
      }
    })();
    const abort = () => execution.abort();
    if (options.signal?.aborted) abort();
    options.signal?.addEventListener('abort', abort, { once: true });
    try {
      const output = await execution.result;
      await log;
      return { output, states, status: 'SUCCEEDED' };
    } catch (e) {
      await log.catch(() => undefined);
      const error = { name: (e as Error).name, message: (e as Error).message };
      if (e instanceof ExecutionAbortedError) return { error, states, status: 'ABORTED' };
      if (e instanceof ExecutionTimeoutError) return { error: { ...error, error: 'States.Timeout' }, states, status: 'TIMED_OUT' };
      const caught = (e as Error).cause as Error | undefined;
      return { error: { ...error, error: failure?.Error ?? caught?.name, cause: causeText(failure ? failure.Cause : caught?.message) }, states, status: 'FAILED' };
    } finally {
      options.signal?.removeEventListener('abort', abort);
      this.runEnded();
    }
  }
}

/** Whether a Task state's Retry retries LEASE_WAIT_ERROR by name (a `waitForLease` task). */
function waitsForLease(state: { Retry?: Array<{ ErrorEquals?: string[] }> }): boolean {
  return (state.Retry ?? []).some((r) => r.ErrorEquals?.includes(LEASE_WAIT_ERROR));
}
