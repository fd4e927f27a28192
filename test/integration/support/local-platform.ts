import { ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createServer, type Server } from 'node:http';
import type { PlatformConfig } from '../../../lib/config/schema.js';
import { ENV } from '../../../lambdas/shared/environment.js';
import { inject } from './faults.js';
import { LocalWorkflows, type WorkflowName } from './local-workflows.js';
import { startMoto, type MotoServer } from './moto-server.js';
import { createPlatformFixture, type PlatformFixture } from './platform-fixture.js';

interface LocalExecution {
  name: string;
  input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  events: Array<{ type: string; name?: string; at: Date }>;
  done: Promise<unknown>;
}

/**
 * The whole control plane on one machine, for the CLI: moto as AWS, the admin API handler behind
 * a loopback HTTP server shaped like API Gateway's proxy integration, and Step Functions served
 * by aws-local-stepfunctions running the synthesized state machines (StartExecution,
 * DescribeExecution and GetExecutionHistory are answered from those local runs).
 */
export class LocalPlatform {
  readonly executions = new Map<string, LocalExecution>();
  private constructor(readonly moto: MotoServer, readonly fixture: PlatformFixture, readonly workflows: LocalWorkflows, private readonly server: Server, readonly apiUrl: string) {}

  static async start(config: PlatformConfig): Promise<LocalPlatform> {
    const moto = await startMoto();
    const workflows = new LocalWorkflows(config);
    const fixture = await createPlatformFixture(moto.endpoint, config);
    for (const wf of ['onboard', 'change', 'status', 'offboard']) fixture.env[`TESSERA_${wf.toUpperCase()}_STATE_MACHINE_ARN`] = `arn:aws:states:us-east-1:${config.platformAccountId}:stateMachine:tessera-${wf}`;
    Object.assign(process.env, fixture.env, {
      [ENV.onboardStateMachineArn]: fixture.env.TESSERA_ONBOARD_STATE_MACHINE_ARN,
      [ENV.changeStateMachineArn]: fixture.env.TESSERA_CHANGE_STATE_MACHINE_ARN,
      [ENV.statusStateMachineArn]: fixture.env.TESSERA_STATUS_STATE_MACHINE_ARN,
      [ENV.offboardStateMachineArn]: fixture.env.TESSERA_OFFBOARD_STATE_MACHINE_ARN,
    });
    const { handler } = await import('../../../lambdas/admin/admin-api.js');
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        const url = new URL(req.url!, 'http://local');
        const path = url.pathname.replace(/^\/v1/, '');
        const parts = path.split('/');
        const id = parts[3];
        const resource = id ? ['/admin/tenants/{id}', ...parts.slice(4)].join('/') : path;
        const event = {
          httpMethod: req.method, resource, path, pathParameters: id ? { id } : null,
          queryStringParameters: url.searchParams.size ? Object.fromEntries(url.searchParams) : null,
          headers: req.headers, body: chunks.length ? Buffer.concat(chunks).toString('utf8') : null, isBase64Encoded: false,
          requestContext: { requestId: `local-${Date.now()}-${Math.random().toString(36).slice(2, 8)}` },
        } as unknown as APIGatewayProxyEvent;
        const out = await handler(event);
        res.writeHead(out.statusCode, out.headers as Record<string, string>).end(out.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address() as { port: number };
    const platform = new LocalPlatform(moto, fixture, workflows, server, `http://127.0.0.1:${address.port}/v1`);
    platform.serveStepFunctions();
    return platform;
  }

  private serveStepFunctions(): void {
    inject('local-step-functions', (next, context) => async (args) => {
      const input = args.input;
      if (context.commandName === 'StartExecutionCommand') {
        const workflow = String(input.stateMachineArn).split(':stateMachine:tessera-')[1] as WorkflowName;
        const executionArn = `${String(input.stateMachineArn).replace(':stateMachine:', ':execution:')}:${input.name}`;
        const existing = this.executions.get(executionArn);
        if (existing) {
          if (existing.input !== input.input) throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${executionArn}'`, $metadata: {} });
          return { output: { executionArn, startDate: new Date(), $metadata: {} } };
        }
        const execution: LocalExecution = { name: input.name, input: input.input, status: 'RUNNING', events: [], done: Promise.resolve() };
        this.executions.set(executionArn, execution);
        execution.done = this.workflows.run(workflow, JSON.parse(input.input), { executionArn, onEvent: (e) => execution.events.push(e) })
          .then((r) => (execution.status = r.error ? 'FAILED' : 'SUCCEEDED'));
        return { output: { executionArn, startDate: new Date(), $metadata: {} } };
      }
      if (context.commandName === 'DescribeExecutionCommand') {
        const e = this.executions.get(input.executionArn);
        return { output: { executionArn: input.executionArn, status: e?.status ?? 'RUNNING', $metadata: {} } };
      }
      if (context.commandName === 'GetExecutionHistoryCommand') {
        const e = this.executions.get(input.executionArn);
        const events = (e?.events ?? []).map((x, i) => ({
          id: i + 1, timestamp: x.at, type: x.type === 'StateEntered' ? 'TaskStateEntered' : x.type === 'StateExited' ? 'TaskStateExited' : x.type,
          stateEnteredEventDetails: x.type === 'StateEntered' ? { name: x.name } : undefined,
          stateExitedEventDetails: x.type === 'StateExited' ? { name: x.name } : undefined,
        }));
        return { output: { events, $metadata: {} } };
      }
      return next(args);
    });
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
