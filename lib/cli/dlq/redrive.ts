import { ListRuleNamesByTargetCommand, ListTargetsByRuleCommand, PutEventsCommand, type EventBridgeClient, type Target } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, paginateListFunctions, type LambdaClient } from '@aws-sdk/client-lambda';
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import {
  ChangeMessageVisibilityBatchCommand, DeleteMessageCommand, GetQueueUrlCommand, ListDeadLetterSourceQueuesCommand, ReceiveMessageCommand, SendMessageCommand, StartMessageMoveTaskCommand,
  type Message, type SQSClient,
} from '@aws-sdk/client-sqs';
import { pages, pagesOf } from '../../aws-pages.js';
import { EVENTBRIDGE_DLQ_ATTRIBUTES } from '../../dead-letters.js';
import { clientProfile, describeAwsError, isCredentialsError, missingProfileOf } from '../aws-errors.js';
import { CliError } from '../cli-error.js';
import { awsServiceEventSource, call, peekMessages, queueNameOf } from './queues.js';

/** The clients a redrive may use (each only for the kind of source it meets). */
export interface RedriveClients {
  readonly sqs: SQSClient;
  readonly events: EventBridgeClient;
  readonly lambda: LambdaClient;
  readonly sfn: SFNClient;
}

/** Where one message goes back to, and with what. */
export type Delivery = (
  | { readonly kind: 'lambda'; readonly target: string; readonly payload: string }
  | { readonly kind: 'state-machine'; readonly target: string; readonly input: string }
  | { readonly kind: 'event-bus'; readonly target: string; readonly entry: { Source: string; DetailType: string; Detail: string; Resources: string[] } }
  | { readonly kind: 'queue'; readonly target: string; readonly body: string }
) & {
  /**
   * The rule whose target settings (`Input`, `InputPath`) were used, when the rule that dead-lettered the message no
   * longer exists: the one rule of the bus that now has that target (a rule replaced by a deploy, such as the platform's
   * rules moved into the EventRules nested stack, which CloudFormation names anew).
   */
  readonly viaRule?: { readonly deleted: string; readonly now: string };
};

export interface MessageOutcome {
  readonly messageId: string;
  /** `eventbridge`: a rule target's DLQ message (RULE_ARN/TARGET_ARN attributes); `lambda`: a function's own DLQ message. */
  readonly from?: 'eventbridge' | 'lambda';
  readonly delivery?: Delivery;
  /** Replayed and deleted (never in a dry run). */
  readonly redriven: boolean;
  /** What failed, naming the queue and the call. */
  readonly error?: string;
}

export interface RedriveReport {
  readonly queue: string;
  readonly dryRun: boolean;
  /** When the queue is the dead-letter target of SQS queues: SQS moves every message back to them. */
  readonly moveTask?: { readonly sources: string[]; readonly taskHandle?: string };
  readonly messages: MessageOutcome[];
  /**
   * Why the run ended before the queue answered empty: `max` (--max reached: more messages may
   * wait), `interrupted` (Ctrl-C: the messages received and not yet replayed were made visible
   * again), or a receive that failed after some messages were done (its error, naming the call).
   */
  readonly stopped?: 'max' | 'interrupted' | { readonly error: string };
  /** ApproximateNumberOfMessagesNotVisible when the run began (from the queue's listing): messages another redrive (or a failed replay's visibility timeout) hides. */
  readonly inFlight?: number;
}

export interface RedriveOptions {
  /** Plan only: peek (VisibilityTimeout 0), say where each message would go, change nothing. */
  readonly dryRun: boolean;
  /** At most this many messages (message by message only: a move task of a DLQ of SQS queues takes no count). */
  readonly max: number;
  /**
   * `max` was given by the operator (`--max`), not the default: refused (CliError, exit 2, before any call that changes
   * anything) for a DLQ of SQS queues, whose redrive is a move task of every message. @default false
   */
  readonly maxGiven?: boolean;
  /** Seconds a received message stays hidden while it is replayed; a failed one reappears after it. @default 300 */
  readonly visibilityTimeout?: number;
  /** Called with each message's outcome as soon as it is known (the CLI prints it at once: a Ctrl-C or a crash still leaves what was done on the terminal). */
  readonly onMessage?: (outcome: MessageOutcome) => void;
  /** Aborted (Ctrl-C): the message being replayed is finished (replayed and deleted, or failed), the received rest made visible again, and the run ends. */
  readonly signal?: AbortSignal;
}

/** Seconds a redrive's receive waits for messages: long polling asks every SQS server, where a short poll (0) samples some and can answer empty while messages wait. */
export const REDRIVE_RECEIVE_WAIT_SECONDS = 1;

/**
 * Redrives one dead-letter queue (`tessera dlq redrive`):
 * - a DLQ of SQS queues (ListDeadLetterSourceQueues is not empty): SQS StartMessageMoveTask moves
 *   every message back to its source queue (a `max` the operator gave, `maxGiven`, is refused: a move task takes no count),
 *   unmodified but for a new MessageId and enqueue time, so a work queue's message keeps its tenant's MessageGroupId (the
 *   fair queues' tenant: lambdas/inference/work-queues.ts fairQueueGroup), which a receive and send of our own would drop;
 * - otherwise message by message. A message EventBridge dead-lettered (attributes RULE_ARN,
 *   TARGET_ARN; the body is the event) goes back to that one target, with the target's input as
 *   the rule would have built it (ListTargetsByRule: `Input`, `InputPath`; an input transformer is
 *   refused; a rule that no longer exists lends the settings of the one rule of the bus that has the target now,
 *   `replacingRule`): a Lambda is invoked asynchronously (`InvocationType: Event`), a state machine
 *   started, an SQS queue sent the input, an event bus put the event (not for `aws.*` sources,
 *   which PutEvents refuses: those cannot be replayed at all, see `awsServiceEventSource`). Not re-put on the source bus: that would deliver it again to every
 *   rule and target that already succeeded, and a schedule's event (`aws.events`) cannot be put.
 *   A message a Lambda dead-lettered (no RULE_ARN; the body is the event) is re-invoked
 *   asynchronously on the function whose DeadLetterConfig names this queue (ListFunctions).
 *   Each message is deleted only after its replay succeeded; a failed one stays (hidden for
 *   `visibilityTimeout`, then visible again) and its error names the queue and the call.
 * The run receives with long polling (REDRIVE_RECEIVE_WAIT_SECONDS: a short poll samples SQS's
 * servers and may answer empty while messages wait) until the queue answers empty, `max` messages
 * are done, or `signal` aborts (the received rest made visible again); a receive that fails after
 * some messages were done ends the run with what was done (`stopped`). Each outcome goes to
 * `onMessage` as it is known. A message delivered twice in one run is replayed once.
 */
export async function redriveQueue(clients: RedriveClients, queue: { name: string; url: string; arn: string; inFlight?: number }, options: RedriveOptions): Promise<RedriveReport> {
  const sources = (await call(`sqs:ListDeadLetterSourceQueues on ${queue.name}`, () => clients.sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: queue.url })), clientProfile(clients.sqs))).queueUrls ?? [];
  if (sources.length) {
    const names = sources.map(queueNameOf);
    // StartMessageMoveTask moves every message (it takes MaxNumberOfMessagesPerSecond, no count): `--max` cannot be kept.
    if (options.maxGiven) {
      throw new CliError(`--max ${options.max}: ${queue.name} is the dead-letter queue of SQS queue(s) ${names.join(', ')}: its redrive is an SQS message move task, which moves every message `
        + '(StartMessageMoveTask takes no count); run it without --max to move them all back (--dry-run says so first), or tessera dlq list --peek to look at them first');
    }
    if (options.dryRun) return { queue: queue.name, dryRun: true, moveTask: { sources: names }, messages: [] };
    const task = await call(`sqs:StartMessageMoveTask from ${queue.name}`, () => clients.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: queue.arn })), clientProfile(clients.sqs));
    return { queue: queue.name, dryRun: false, moveTask: { sources: names, taskHandle: task.TaskHandle }, messages: [] };
  }

  const planner = new Planner(clients, queue);
  const messages: MessageOutcome[] = [];
  const inFlight = queue.inFlight ? { inFlight: queue.inFlight } : {};
  const done = (o: MessageOutcome) => {
    messages.push(o);
    options.onMessage?.(o);
  };
  if (options.dryRun) {
    for (const m of await peekMessages(clients.sqs, queue.url, options.max)) done(await planner.outcome(m, false));
    return { queue: queue.name, dryRun: true, messages, ...inFlight };
  }
  // Standard queues deliver at least once: a message received again in the same run is not replayed again.
  const seen = new Map<string, boolean>();
  let stopped: RedriveReport['stopped'];
  while (!stopped) {
    if (messages.length >= options.max) {
      stopped = 'max';
      break;
    }
    if (options.signal?.aborted) {
      stopped = 'interrupted';
      break;
    }
    let got: Message[];
    try {
      got = (await call(`sqs:ReceiveMessage on ${queue.name}`, () => clients.sqs.send(new ReceiveMessageCommand({
        QueueUrl: queue.url, MaxNumberOfMessages: Math.min(10, options.max - messages.length), VisibilityTimeout: options.visibilityTimeout ?? 300,
        WaitTimeSeconds: REDRIVE_RECEIVE_WAIT_SECONDS, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'],
      })), clientProfile(clients.sqs))).Messages ?? [];
    } catch (e) {
      // Nothing done yet: the failure is the command's. Otherwise keep the report of what was replayed.
      if (!messages.length) throw e;
      stopped = { error: (e as Error).message };
      break;
    }
    if (!got.length) break;
    for (const [i, m] of got.entries()) {
      if (options.signal?.aborted) {
        stopped = 'interrupted';
        await release(clients, queue, got.slice(i));
        break;
      }
      const id = m.MessageId ?? '?';
      if (seen.has(id)) {
        // A duplicate delivery of a message this run replayed: delete this copy too, replay nothing.
        if (seen.get(id)) await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: m.ReceiptHandle })).catch(() => undefined);
        continue;
      }
      const outcome = await planner.outcome(m, true);
      seen.set(id, outcome.redriven);
      done(outcome);
    }
  }
  return { queue: queue.name, dryRun: false, messages, ...(stopped ? { stopped } : {}), ...inFlight };
}

/** Makes received messages visible again at once (ChangeMessageVisibility 0, 10 a call); a failure leaves them to their visibility timeout. */
async function release(clients: RedriveClients, queue: { url: string }, messages: readonly Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const entries = messages.slice(i, i + 10).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }));
    await clients.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queue.url, Entries: entries })).catch(() => undefined);
  }
}

/** Why an AWS service's event cannot be redriven, and what to do instead. */
const UNREPLAYABLE = (source: string) =>
  `the event's source is ${source}, an AWS service's event: it cannot be replayed (PutEvents refuses aws.* sources, and the service sends each event once); fix what made the target refuse it, then delete it with tessera dlq purge`;

class Planner {
  /** Each rule's targets by rule ARN; undefined: the rule no longer exists. */
  private readonly targets = new Map<string, Target[] | undefined>();
  private functionArn?: string | null;

  constructor(private readonly clients: RedriveClients, private readonly queue: { name: string; url: string; arn: string }) {}

  /** Plans (and, when `replay`, performs and deletes) one message; never throws. */
  async outcome(m: Message, replay: boolean): Promise<MessageOutcome> {
    const messageId = m.MessageId ?? '?';
    const from = m.MessageAttributes?.[EVENTBRIDGE_DLQ_ATTRIBUTES.ruleArn]?.StringValue ? 'eventbridge' as const : 'lambda' as const;
    let delivery: Delivery | undefined;
    try {
      delivery = from === 'eventbridge' ? await this.eventBridgeDelivery(m) : await this.lambdaDelivery(m);
      if (!replay) return { messageId, from, delivery, redriven: false };
      await this.deliver(delivery);
    } catch (e) {
      return { messageId, from, delivery, redriven: false, error: `${this.queue.name} message ${messageId}: ${(e as Error).message}` };
    }
    try {
      await this.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queue.url, ReceiptHandle: m.ReceiptHandle }));
    } catch (e) {
      return { messageId, from, delivery, redriven: false, error: `${this.queue.name} message ${messageId}: replayed, but ${describeAwsError('sqs:DeleteMessage', e, await this.missingProfile(e))}; it will be replayed again by the next redrive unless deleted` };
    }
    return { messageId, from, delivery, redriven: true };
  }

  private async eventBridgeDelivery(m: Message): Promise<Delivery> {
    const ruleArn = m.MessageAttributes![EVENTBRIDGE_DLQ_ATTRIBUTES.ruleArn]!.StringValue!;
    const targetArn = m.MessageAttributes?.[EVENTBRIDGE_DLQ_ATTRIBUTES.targetArn]?.StringValue;
    if (!targetArn) throw new Error(`has ${EVENTBRIDGE_DLQ_ATTRIBUTES.ruleArn} but no ${EVENTBRIDGE_DLQ_ATTRIBUTES.targetArn} attribute: cannot tell which target failed`);
    // Before reading the rule: nothing can replay it, whatever the rule is now.
    const awsSource = awsServiceEventSource(m);
    if (awsSource) throw new Error(UNREPLAYABLE(awsSource));
    const rule = /^arn:[^:]+:events:[^:]*:[^:]*:rule\/(?:([^/]+)\/)?([^/]+)$/.exec(ruleArn);
    if (!rule) throw new Error(`${EVENTBRIDGE_DLQ_ATTRIBUTES.ruleArn} ${JSON.stringify(ruleArn)} is not an EventBridge rule ARN`);
    const [, bus, ruleName] = rule;
    if (!this.targets.has(ruleArn)) this.targets.set(ruleArn, await this.ruleTargets(ruleName!, bus));
    const targets = this.targets.get(ruleArn);
    let target = targets?.find((t) => t.Arn === targetArn);
    let viaRule: Delivery['viaRule'];
    if (!targets) {
      const now = await this.replacingRule(ruleName!, bus, targetArn);
      target = now.target;
      viaRule = { deleted: ruleName!, now: now.rule };
    }
    if (!target) throw new Error(`rule ${ruleName} no longer has the target ${targetArn}: replay it by hand`);
    const via = viaRule ? { viaRule } : {};
    const event = parseJson(m.Body, 'its body (the event)');
    if (target.InputTransformer) throw new Error(`the target ${targetArn} of rule ${ruleName} uses an input transformer, which tessera does not re-apply: replay the event (the message body) by hand`);
    const input = target.Input !== undefined ? target.Input : target.InputPath ? JSON.stringify(jsonPath(event, target.InputPath)) : m.Body!;
    const service = targetArn.split(':')[2];
    if (service === 'lambda') return { kind: 'lambda', target: targetArn, payload: input, ...via };
    if (service === 'states') return { kind: 'state-machine', target: targetArn, input, ...via };
    if (service === 'sqs') return { kind: 'queue', target: targetArn, body: input, ...via };
    if (service === 'events' && /:event-bus\//.test(targetArn)) {
      const e = event as { source?: string; 'detail-type'?: string; detail?: unknown; resources?: string[] };
      if (typeof e.source !== 'string' || typeof e['detail-type'] !== 'string') throw new Error('the body is not an EventBridge event (no source and detail-type)');
      return { kind: 'event-bus', target: targetArn, entry: { Source: e.source, DetailType: e['detail-type'], Detail: JSON.stringify(e.detail ?? {}), Resources: e.resources ?? [] }, ...via };
    }
    throw new Error(`the target ${targetArn} is a kind tessera does not replay (Lambda, Step Functions, SQS and event bus targets only)`);
  }

  /** A rule's targets (ListTargetsByRule, every page), or undefined when the rule no longer exists (ResourceNotFoundException). */
  private async ruleTargets(ruleName: string, bus: string | undefined): Promise<Target[] | undefined> {
    const targets: Target[] = [];
    // EventBridge publishes no paginator for ListTargetsByRule: pagesOf, which stops on a repeated NextToken.
    const ask = (token: string | undefined) => this.clients.events.send(new ListTargetsByRuleCommand({ Rule: ruleName, EventBusName: bus, NextToken: token }));
    try {
      for await (const page of pagesOf(ask, (p) => p.NextToken)) targets.push(...(page.Targets ?? []));
    } catch (e) {
      if ((e as { name?: string }).name === 'ResourceNotFoundException') return undefined;
      throw new Error(describeAwsError(`events:ListTargetsByRule ${ruleName}`, e, await this.missingProfile(e)));
    }
    return targets;
  }

  /**
   * For a message whose rule was deleted: the one rule of the same bus that now has the message's target
   * (ListRuleNamesByTarget, then that rule's targets), whose target settings the deleted rule's replacement uses. A
   * deploy that replaces a rule (a new logical id or nested stack: CloudFormation names it anew) keeps its target and
   * input. Refused when no rule or several rules now have the target: which one replaced it cannot be told.
   */
  private async replacingRule(deleted: string, bus: string | undefined, targetArn: string): Promise<{ rule: string; target: Target }> {
    const names: string[] = [];
    const ask = (token: string | undefined) => this.aws(`events:ListRuleNamesByTarget ${targetArn}`, () => this.clients.events.send(new ListRuleNamesByTargetCommand({ TargetArn: targetArn, EventBusName: bus, NextToken: token })));
    for await (const page of pagesOf(ask, (p) => p.NextToken)) names.push(...(page.RuleNames ?? []));
    const candidates: Array<{ rule: string; target: Target }> = [];
    for (const rule of names.filter((n) => n !== deleted)) {
      for (const target of (await this.ruleTargets(rule, bus)) ?? []) if (target.Arn === targetArn) candidates.push({ rule, target });
    }
    const gone = `rule ${deleted} no longer exists (a deploy replaced or removed it)`;
    if (!candidates.length) throw new Error(`${gone} and no rule of the bus now has the target ${targetArn}: replay it by hand`);
    if (candidates.length > 1) throw new Error(`${gone} and rules ${candidates.map((c) => c.rule).join(', ')} all have the target ${targetArn} now: cannot tell which replaced it; replay it by hand`);
    return candidates[0]!;
  }

  private async lambdaDelivery(m: Message): Promise<Delivery> {
    if (this.functionArn === undefined) {
      const owners: string[] = [];
      await this.aws('lambda:ListFunctions', async () => {
        for await (const page of paginateListFunctions(pages(this.clients.lambda), {})) {
          for (const f of page.Functions ?? []) if (f.DeadLetterConfig?.TargetArn === this.queue.arn && f.FunctionArn) owners.push(f.FunctionArn);
        }
      });
      if (owners.length > 1) throw new Error(`functions ${owners.join(', ')} all name it as their dead-letter queue: cannot tell whose event this is`);
      this.functionArn = owners[0] ?? null;
    }
    if (!this.functionArn) {
      throw new Error(`has no ${EVENTBRIDGE_DLQ_ATTRIBUTES.ruleArn} attribute (not dead-lettered by EventBridge) and no Lambda function names ${this.queue.arn} as its dead-letter queue: no source to replay it to`);
    }
    return { kind: 'lambda', target: this.functionArn, payload: m.Body ?? '' };
  }

  private async deliver(d: Delivery): Promise<void> {
    const c = this.clients;
    switch (d.kind) {
      case 'lambda':
        await this.aws(`lambda:Invoke (Event) ${d.target}`, () => c.lambda.send(new InvokeCommand({ FunctionName: d.target, InvocationType: 'Event', Payload: new TextEncoder().encode(d.payload) })));
        return;
      case 'state-machine':
        await this.aws(`states:StartExecution ${d.target}`, () => c.sfn.send(new StartExecutionCommand({ stateMachineArn: d.target, input: d.input })));
        return;
      case 'queue': {
        const [, , , , account, name] = d.target.split(':');
        const url = (await this.aws(`sqs:GetQueueUrl ${name}`, () => c.sqs.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account })))).QueueUrl!;
        await this.aws(`sqs:SendMessage to ${name}`, () => c.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: d.body })));
        return;
      }
      case 'event-bus': {
        const out = await this.aws(`events:PutEvents to ${d.target}`, () => c.events.send(new PutEventsCommand({ Entries: [{ ...d.entry, EventBusName: d.target }] })));
        if (out.FailedEntryCount) throw new Error(`events:PutEvents to ${d.target} refused the event: ${out.Entries?.[0]?.ErrorCode}: ${out.Entries?.[0]?.ErrorMessage}`);
        return;
      }
    }
  }

  private async aws<T>(what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      throw new Error(describeAwsError(what, e, await this.missingProfile(e)));
    }
  }

  /** For a credentials error, the line saying the SQS client's profile (or AWS_PROFILE) is in neither shared file. */
  private async missingProfile(e: unknown): Promise<string | undefined> {
    return isCredentialsError(e) ? missingProfileOf(clientProfile(this.clients.sqs)) : undefined;
  }
}

function parseJson(body: string | undefined, what: string): unknown {
  try {
    return JSON.parse(body ?? '');
  } catch {
    throw new Error(`${what} is not JSON`);
  }
}

/**
 * The value at a JSONPath of the form EventBridge targets use here: `$` or `$.a.b` (dotted names).
 * @throws Error for other forms (filters, wildcards, brackets)
 */
export function jsonPath(value: unknown, path: string): unknown {
  if (path === '$') return value;
  if (!/^\$(\.[A-Za-z0-9_-]+)+$/.test(path)) throw new Error(`InputPath ${JSON.stringify(path)} is not a dotted path ($.a.b), which is all tessera re-applies`);
  let v: unknown = value;
  for (const key of path.slice(2).split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}
