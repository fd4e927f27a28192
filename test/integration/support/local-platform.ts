import { ExecutionAlreadyExists, ExecutionDoesNotExist, InvalidName, StateMachineDoesNotExist, type DescribeExecutionOutput, type ExecutionListItem, type ExecutionStatus, type HistoryEvent } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import { ENV } from '../../../lambdas/shared/environment.js';
import { inject } from './faults.js';
import { WorkflowRunner, workflowDefinitions, type WorkflowEvent, type WorkflowName } from './workflow-runner.js';
import { startHarnessMoto } from './harness-moto.js';
import type { MotoServer } from './moto-server.js';
import { createPlatformFixture, type PlatformFixture } from './platform-fixture.js';
import { matchAdminResource } from './admin-api-front.js';
import { LocalPortError } from './local-port-error.js';

export { LocalPortError };

export type LocalExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface LocalExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly workflow: WorkflowName;
  readonly name: string;
  /** The input as given to StartExecution (a JSON string). */
  readonly input: string;
  status: LocalExecutionStatus;
  readonly startDate: Date;
  stopDate?: Date;
  /** JSON string, once SUCCEEDED. */
  output?: string;
  error?: string;
  cause?: string;
  readonly events: WorkflowEvent[];
  /** Resolves once the execution is closed and its status-change listeners have run. */
  done: Promise<unknown>;
}

/**
 * The `detail` of the EventBridge event "Step Functions Execution Status Change" that AWS puts on
 * the default bus when an execution changes status (dates in epoch milliseconds, absent values
 * null, input and output as JSON strings).
 */
export interface ExecutionStatusChange {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: LocalExecutionStatus;
  startDate: number;
  stopDate: number | null;
  input: string;
  inputDetails: { included: boolean };
  output: string | null;
  outputDetails: { included: boolean } | null;
  error: string | null;
  cause: string | null;
}

export type StatusChangeListener = (detail: ExecutionStatusChange) => unknown;

/** The statuses whose change `onStatusChange` listeners receive: an execution closing unsuccessfully. */
export const NOTIFIED_STATUSES: readonly LocalExecutionStatus[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];

/** Characters Step Functions refuses in an execution name (whitespace, brackets, wildcards, specials, control characters). */
const INVALID_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;
const sdkError = <E>(ctor: new (o: { message: string; $metadata: object }) => E, message: string): E => new ctor({ message, $metadata: { httpStatusCode: 400 } });

/**
 * The whole control plane on one machine, for the CLI: moto as AWS, the admin API handler behind
 * a loopback HTTP server shaped like API Gateway's proxy integration, and Step Functions served
 * by aws-local-stepfunctions running the synthesized state machines. The Step Functions API the
 * handlers call is answered from those local runs with AWS's semantics:
 *
 * - StartExecution: a name (1–80 characters, none of those AWS refuses) is unique per state
 *   machine for good (AWS: 90 days, closed executions included). The name of a RUNNING execution
 *   with the same input returns that execution (idempotent); with another input, or once that
 *   execution is closed (SUCCEEDED, FAILED, TIMED_OUT, ABORTED), ExecutionAlreadyExists. No name:
 *   a UUID, as AWS generates one. An unknown state machine: StateMachineDoesNotExist.
 * - DescribeExecution: the fields AWS returns (stopDate once closed; output once SUCCEEDED; error
 *   and cause once FAILED, or as StopExecution gave them); GetExecutionHistory: the run's events
 *   (maxResults, nextToken, reverseOrder; a state's exit with its output). An unknown ARN: ExecutionDoesNotExist.
 * - StopExecution: a RUNNING execution becomes ABORTED at once (with the given error and cause) and
 *   its local run is aborted (the state in flight finishes, no further state runs); stopping a
 *   closed one changes nothing.
 * - ListExecutions: by stateMachineArn and optional statusFilter, newest first, paginated.
 * - An execution closing FAILED, TIMED_OUT or ABORTED is announced to `onStatusChange` listeners
 *   with the detail of AWS's "Step Functions Execution Status Change" event.
 *
 * Tests start executions "outside the API" with `startExecution` (the same semantics) and wait
 * for one with `awaitExecution`.
 */
export class LocalPlatform {
  readonly executions = new Map<string, LocalExecution>();
  /** Listeners of executions closing FAILED, TIMED_OUT or ABORTED (AWS: an EventBridge rule on the default bus). */
  readonly onStatusChange: StatusChangeListener[] = [];
  /** What a listener threw, with the event it was given (EventBridge would retry, then dead-letter it; nothing is lost silently). */
  readonly statusChangeErrors: Array<{ detail: ExecutionStatusChange; error: unknown }> = [];
  private readonly aborts = new Map<string, AbortController>();
  private readonly deliveries = new Map<string, Promise<void>>();
  private constructor(readonly moto: MotoServer, readonly fixture: PlatformFixture, readonly workflows: WorkflowRunner, private readonly server: Server, readonly apiUrl: string, readonly config: PlatformConfig) {}

  /**
   * Starts moto, the platform fixture and the state machines, and serves the admin API on 127.0.0.1:`options.port`
   * (`apiUrl`: `http://127.0.0.1:<port>/v1`). The port is bound first, before anything else starts, so a taken one
   * fails at once with nothing left running; until the platform is up the API answers 503.
   * @param options.port TCP port, an integer 0–65535; @default 0 (a free port the kernel picks)
   * @throws RangeError naming `port` when it is not an integer 0–65535
   * @throws LocalPortError (its `code` Node's: EADDRINUSE for a taken port, EACCES for one this user may not bind) naming the address
   */
  static async start(config: PlatformConfig, options: { port?: number } = {}): Promise<LocalPlatform> {
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port ${JSON.stringify(port)} is not an integer 0-65535`);
    let handler: ((event: APIGatewayProxyEvent) => Promise<{ statusCode: number; headers?: unknown; body: string }>) | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        if (!handler) {
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end(JSON.stringify({ error: { code: 'starting', message: 'the local platform is starting: moto and the admin API are not up yet' } }));
          return;
        }
        // A path outside the stage (`TESSERA_API_URL` without its `/v1`): API Gateway has no such resource.
        const refused = stagelessRefusal(new URL(req.url!, 'http://local').pathname);
        if (refused) {
          res.writeHead(refused.statusCode, refused.headers).end(refused.body);
          return;
        }
        // A request signed for another region than the platform's: API Gateway's IAM auth refuses it before the handler.
        const wrongRegion = signingRegionRefusal(req.headers.authorization, config.homeRegion);
        if (wrongRegion) {
          res.writeHead(wrongRegion.statusCode, wrongRegion.headers).end(wrongRegion.body);
          return;
        }
        const url = new URL(req.url!, 'http://local');
        const path = url.pathname.replace(/^\/v1/, '');
        // A path no resource matches goes to the handler as it is (its 404 no_route; API Gateway answers 403 Missing Authentication Token).
        const { resource, pathParameters } = matchAdminResource(path) ?? { resource: path, pathParameters: null };
        const requestId = `local-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
        const event = {
          httpMethod: req.method, resource, path, pathParameters,
          queryStringParameters: url.searchParams.size ? Object.fromEntries(url.searchParams) : null,
          // Every value of each name, as API Gateway gives them (queryStringParameters keep the last): the handler refuses a repeated one.
          multiValueQueryStringParameters: url.searchParams.size ? [...url.searchParams].reduce<Record<string, string[]>>((all, [k, v]) => ({ ...all, [k]: [...(all[k] ?? []), v] }), {}) : null,
          headers: req.headers, body: chunks.length ? Buffer.concat(chunks).toString('utf8') : null, isBase64Encoded: false,
          requestContext: { requestId, identity: localIdentity(req.headers.authorization) },
        } as unknown as APIGatewayProxyEvent;
        const out = await handler(event);
        // API Gateway adds its request id to every answer (`tessera --json` reports it as the error's `request_id`).
        res.writeHead(out.statusCode, { ...(out.headers as Record<string, string>), 'x-amzn-requestid': requestId }).end(out.body);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => reject(new LocalPortError(port, e)));
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address() as { port: number };
    let moto: MotoServer | undefined;
    try {
      moto = await startHarnessMoto({ serial: true }); // conditional writes (leases, slots, claims) need DynamoDB's isolation, which threaded moto lacks
      const workflows = new WorkflowRunner(await workflowDefinitions(config));
      const fixture = await createPlatformFixture(moto.endpoint, config);
      // The state machines the admin API starts (its environment in AWS: constructs/admin-api.ts); drift: POST /admin/drift;
      // upgrade: POST /admin/upgrades.
      for (const wf of ['onboard', 'change', 'status', 'offboard', 'drift', 'upgrade']) fixture.env[`TESSERA_${wf.toUpperCase()}_STATE_MACHINE_ARN`] = stateMachineArnOf(config, wf as WorkflowName);
      Object.assign(process.env, fixture.env, {
        [ENV.onboardStateMachineArn]: fixture.env.TESSERA_ONBOARD_STATE_MACHINE_ARN,
        [ENV.changeStateMachineArn]: fixture.env.TESSERA_CHANGE_STATE_MACHINE_ARN,
        [ENV.statusStateMachineArn]: fixture.env.TESSERA_STATUS_STATE_MACHINE_ARN,
        [ENV.offboardStateMachineArn]: fixture.env.TESSERA_OFFBOARD_STATE_MACHINE_ARN,
        [ENV.driftStateMachineArn]: fixture.env.TESSERA_DRIFT_STATE_MACHINE_ARN,
        [ENV.upgradeStateMachineArn]: fixture.env.TESSERA_UPGRADE_STATE_MACHINE_ARN,
      });
      handler = (await import('../../../lambdas/admin/admin-api.js')).handler;
      const platform = new LocalPlatform(moto, fixture, workflows, server, `http://127.0.0.1:${address.port}/v1`, config);
      platform.serveStepFunctions();
      return platform;
    } catch (e) {
      // Nothing left running after a failed start: the port, and moto when it came up.
      await new Promise((r) => server.close(r));
      await moto?.stop().catch(() => undefined);
      throw e;
    }
  }

  /** The ARN of `workflow`'s state machine. */
  stateMachineArn(workflow: WorkflowName): string {
    return stateMachineArnOf(this.config, workflow);
  }

  /** StartExecution from outside the admin API (a test, the console, another service): the same semantics as the API call. */
  async startExecution(workflow: WorkflowName, input: unknown, name?: string): Promise<{ executionArn: string; startDate: Date }> {
    return this.start({ stateMachineArn: this.stateMachineArn(workflow), input: typeof input === 'string' ? input : JSON.stringify(input), name });
  }

  /** Resolves with the execution as DescribeExecution answers it once it is closed (and its status-change listeners have run). */
  async awaitExecution(executionArn: string): Promise<DescribeExecutionOutput> {
    const e = this.execution(executionArn);
    await e.done;
    return this.describe(e);
  }

  private execution(executionArn: string): LocalExecution {
    const e = this.executions.get(executionArn);
    if (!e) throw sdkError(ExecutionDoesNotExist, `Execution Does Not Exist: '${executionArn}'`);
    return e;
  }

  private workflowOf(stateMachineArn: string): WorkflowName {
    const workflow = (Object.keys(this.workflows.definitions) as WorkflowName[]).find((w) => this.stateMachineArn(w) === stateMachineArn);
    if (!workflow) throw sdkError(StateMachineDoesNotExist, `State Machine Does Not Exist: '${stateMachineArn}'`);
    return workflow;
  }

  private start(input: { stateMachineArn?: string; name?: string; input?: string }): { executionArn: string; startDate: Date } {
    const stateMachineArn = String(input.stateMachineArn);
    const workflow = this.workflowOf(stateMachineArn);
    const name = input.name ?? randomUUID();
    if (name.length < 1 || name.length > 80 || INVALID_NAME.test(name)) throw sdkError(InvalidName, `Invalid Name: '${name}'`);
    const given = input.input ?? '{}';
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // AWS: the same name and input as a RUNNING execution is the same request; anything else is a conflict, closed executions included.
      if (existing.status === 'RUNNING' && existing.input === given) return { executionArn, startDate: existing.startDate };
      throw sdkError(ExecutionAlreadyExists, `Execution Already Exists: '${executionArn}'`);
    }
    const execution: LocalExecution = { executionArn, stateMachineArn, workflow, name, input: given, status: 'RUNNING', startDate: new Date(), events: [], done: Promise.resolve() };
    const abort = new AbortController();
    this.executions.set(executionArn, execution);
    this.aborts.set(executionArn, abort);
    execution.done = this.workflows.run(workflow, JSON.parse(given), { executionArn, signal: abort.signal, onEvent: (e) => execution.events.push(e) })
      .then((r) => {
        this.aborts.delete(executionArn);
        if (execution.status !== 'RUNNING') return; // stopped meanwhile: StopExecution closed it
        this.close(execution, r.status, { output: r.status === 'SUCCEEDED' ? JSON.stringify(r.output ?? null) : undefined, error: r.error?.error, cause: r.error?.cause });
      })
      .then(() => this.deliveries.get(executionArn));
    return { executionArn, startDate: execution.startDate };
  }

  private close(execution: LocalExecution, status: LocalExecutionStatus, fields: { output?: string; error?: string; cause?: string }): void {
    Object.assign(execution, { status, stopDate: new Date(), ...fields });
    if (NOTIFIED_STATUSES.includes(status)) this.deliveries.set(execution.executionArn, this.notify(execution));
  }

  private async notify(e: LocalExecution): Promise<void> {
    const detail: ExecutionStatusChange = {
      executionArn: e.executionArn, stateMachineArn: e.stateMachineArn, name: e.name, status: e.status,
      startDate: e.startDate.getTime(), stopDate: e.stopDate?.getTime() ?? null,
      input: e.input, inputDetails: { included: true }, output: e.output ?? null, outputDetails: e.output === undefined ? null : { included: true },
      error: e.error ?? null, cause: e.cause ?? null,
    };
    // Asynchronous, as EventBridge delivers: after the API call that closed the execution has answered.
    await Promise.resolve();
    for (const listener of [...this.onStatusChange]) {
      try {
        await listener({ ...detail });
      } catch (error) {
        this.statusChangeErrors.push({ detail, error });
      }
    }
  }

  private describe(e: LocalExecution): DescribeExecutionOutput {
    return {
      executionArn: e.executionArn, stateMachineArn: e.stateMachineArn, name: e.name, status: e.status as ExecutionStatus,
      startDate: e.startDate, stopDate: e.stopDate, input: e.input, inputDetails: { included: true },
      ...(e.output !== undefined ? { output: e.output, outputDetails: { included: true } } : {}),
      ...(e.error !== undefined ? { error: e.error } : {}), ...(e.cause !== undefined ? { cause: e.cause } : {}),
      $metadata: {},
    } as DescribeExecutionOutput;
  }

  private history(e: LocalExecution, input: { maxResults?: number; nextToken?: string; reverseOrder?: boolean }): { events: HistoryEvent[]; nextToken?: string } {
    const typeOf = (x: WorkflowEvent) => {
      if (x.type === 'StateEntered' || x.type === 'StateExited') return `${x.stateType ?? 'Task'}${x.type}`;
      if (x.type === 'ExecutionTimeout') return 'ExecutionTimedOut';
      return x.type;
    };
    const all = e.events.map((x, i) => ({
      id: i + 1, previousEventId: i, timestamp: x.at, type: typeOf(x),
      stateEnteredEventDetails: x.type === 'StateEntered' ? { name: x.name } : undefined,
      // With the state's output as a JSON string, as AWS gives it (the upgrade's progress reads List tier tenants' `tenants.count`
      // from it: without it, `tenants upgrade --watch` on the local platform never said how many tenants were listed).
      stateExitedEventDetails: x.type === 'StateExited' ? { name: x.name, ...(x.output !== undefined ? { output: JSON.stringify(x.output), outputDetails: { truncated: false } } : {}) } : undefined,
    })) as HistoryEvent[];
    if (input.reverseOrder) all.reverse();
    const from = input.nextToken ? Number(input.nextToken) : 0;
    const size = input.maxResults || 1000;
    return { events: all.slice(from, from + size), nextToken: from + size < all.length ? String(from + size) : undefined };
  }

  private serveStepFunctions(): void {
    const answer = (output: object) => ({ output: { ...output, $metadata: {} } });
    const handlers: Record<string, (input: Record<string, any>) => Promise<{ output: any }> | { output: any }> = {
      StartExecutionCommand: (input) => answer(this.start(input)),
      DescribeExecutionCommand: (input) => ({ output: this.describe(this.execution(input.executionArn)) }),
      GetExecutionHistoryCommand: (input) => answer(this.history(this.execution(input.executionArn), input)),
      StopExecutionCommand: (input) => {
        const e = this.execution(input.executionArn);
        if (e.status === 'RUNNING') {
          this.close(e, 'ABORTED', { error: input.error, cause: input.cause });
          this.aborts.get(e.executionArn)?.abort();
        }
        return answer({ stopDate: e.stopDate });
      },
      ListExecutionsCommand: (input) => {
        this.workflowOf(String(input.stateMachineArn));
        const items: ExecutionListItem[] = [...this.executions.values()]
          .filter((e) => e.stateMachineArn === input.stateMachineArn && (!input.statusFilter || e.status === input.statusFilter))
          .sort((a, b) => b.startDate.getTime() - a.startDate.getTime())
          .map((e) => ({ executionArn: e.executionArn, stateMachineArn: e.stateMachineArn, name: e.name, status: e.status as ExecutionStatus, startDate: e.startDate, stopDate: e.stopDate }));
        const from = input.nextToken ? Number(input.nextToken) : 0;
        const size = input.maxResults || 100;
        return answer({ executions: items.slice(from, from + size), nextToken: from + size < items.length ? String(from + size) : undefined });
      },
    };
    inject('local-step-functions', (next, context) => async (args) => {
      const handler = (context as { clientName?: string }).clientName === 'SFNClient' ? handlers[context.commandName ?? ''] : undefined;
      return handler ? handler(args.input) : next(args);
    });
  }

  /**
   * Resolves once the `onStatusChange` listeners have run for `executionArn`'s close (FAILED, TIMED_OUT or ABORTED: what
   * EventBridge delivers), without waiting for its local run, whose state in flight may still be running (a stopped
   * execution's Lambda runs on). Throws when no such close was announced yet (a RUNNING or SUCCEEDED execution).
   * @returns what a listener threw for it (statusChangeErrors), empty when none threw
   */
  async statusChangeDelivered(executionArn: string): Promise<unknown[]> {
    const delivery = this.deliveries.get(executionArn);
    if (!delivery) throw new Error(`no status change announced for ${executionArn} (${this.execution(executionArn).status})`);
    await delivery;
    return this.statusChangeErrors.filter((e) => e.detail.executionArn === executionArn).map((e) => e.error);
  }

  /** Waits for every local execution to end. */
  async settle(): Promise<void> {
    await Promise.all([...this.executions.values()].map((e) => e.done));
  }

  async stop(): Promise<void> {
    await this.settle();
    await new Promise((r) => this.server.close(r));
    await this.moto.stop();
  }
}

/** The ARN of `workflow`'s state machine in the platform account and home region (TesseraPlatform's). */
function stateMachineArnOf(config: PlatformConfig, workflow: WorkflowName): string {
  return `arn:aws:states:${config.homeRegion}:${config.platformAccountId}:stateMachine:tessera-${workflow}`;
}

/**
 * The caller identity the local platform gives the admin API, in API Gateway's `requestContext.identity` shape: the access
 * key id of the request's SigV4 `Authorization` header as `accessKey`, and `caller` `local:<access key id>` (the registry
 * history's actor is then `admin:local:<key>`: lambdas/admin/admin-http.ts adminCaller). API Gateway's IAM auth verifies
 * the signature and gives the signer's ARN as `userArn`; the local platform verifies nothing, so it gives no `userArn`
 * and says where the name came from. An unsigned request has no identity (actor `admin:unknown`, as there).
 */
export function localIdentity(authorization: string | undefined): { accessKey: string; caller: string } | undefined {
  const accessKey = /Credential=([^/\s,]+)\//.exec(authorization ?? '')?.[1];
  return accessKey ? { accessKey, caller: `local:${accessKey}` } : undefined;
}

/**
 * API Gateway's answer to a SigV4 request whose credential scope (`Credential=<key>/<yyyymmdd>/<region>/...` of the
 * `Authorization` header) names another region than the API's: 403, `x-amzn-errortype: InvalidSignatureException`, body
 * `{"message":"Credential should be scoped to a valid region, not '<region>'. "}`, before any handler runs. The CLI's
 * `--region` (or `AWS_REGION`) is the signing region: before, the local platform verified nothing, so
 * `tessera tenants create … --region eu-west-1` onboarded a tenant that AWS would have refused (s40h). The signature itself is not
 * checked (the CLI signs with placeholder keys).
 * @param authorization the request's `Authorization` header; an unsigned request is not refused here
 * @param region the platform's home region (the admin API's)
 * @returns undefined when the scope names `region` or there is no SigV4 scope
 */
export function signingRegionRefusal(authorization: string | undefined, region: string): { statusCode: 403; headers: Record<string, string>; body: string } | undefined {
  const scoped = /Credential=[^/\s,]+\/\d{8}\/([^/\s,]+)\//.exec(authorization ?? '')?.[1];
  if (scoped === undefined || scoped === region) return undefined;
  return {
    statusCode: 403,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'InvalidSignatureException' },
    body: JSON.stringify({ message: `Credential should be scoped to a valid region, not '${scoped}'. ` }),
  };
}

/**
 * API Gateway's answer to a path outside the admin API's stage `v1` (a REST API is served under its stage's name): 403,
 * `x-amzn-errortype: MissingAuthenticationTokenException`, body `{"message":"Missing Authentication Token"}`. Before, the
 * local platform took `/admin/tenants` as `/v1/admin/tenants`, so `TESSERA_API_URL=http://127.0.0.1:<port>` (the stage
 * left out) worked there and failed against AWS (a new user's trial, s40h).
 * @param pathname the request's path, as sent
 * @returns undefined for `/v1` and the paths under it
 */
export function stagelessRefusal(pathname: string): { statusCode: 403; headers: Record<string, string>; body: string } | undefined {
  if (/^\/v1(\/|$)/.test(pathname)) return undefined;
  return {
    statusCode: 403,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'MissingAuthenticationTokenException' },
    body: JSON.stringify({ message: 'Missing Authentication Token' }),
  };
}
