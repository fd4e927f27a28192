import type { Message } from '@aws-sdk/client-sqs';
import { Command } from 'commander';
import { HTTP_TIMEOUTS } from '../aws-http-timeouts.js';
import { DLQ_NAME_PREFIX } from '../dead-letters.js';
import { printable } from '../printable.js';
import { CliError } from './cli-error.js';
import type { DeadLetterQueueInfo } from './dlq/queues.js';
import type { PurgeReport } from './dlq/purge.js';
import type { Delivery, MessageOutcome, RedriveClients, RedriveReport } from './dlq/redrive.js';
import { table } from './format.js';
import { interruptionLine } from './json-error.js';
import { numberIn } from './option-parsers.js';

type Globals = { region?: string; json?: boolean; profile?: string; prefix: string };

/** The AWS clients and output of `tessera dlq`; tests replace them. */
export interface DlqIo {
  out(text: string): void;
  clients(region: string | undefined, profile: string | undefined): Promise<RedriveClients>;
  /** The account of the credentials in `region` (sts:GetCallerIdentity), named when no queue is found. */
  account(region: string, profile: string | undefined): Promise<string>;
}
const processIo: DlqIo = {
  out: (text) => void process.stdout.write(`${text}\n`),
  clients: async (region, profile) => {
    const config = { ...(region ? { region } : {}), ...(profile ? { profile } : {}), requestHandler: { ...HTTP_TIMEOUTS.control } };
    const [{ SQSClient }, { EventBridgeClient }, { LambdaClient }, { SFNClient }] = await sdk(() => Promise.all([
      import('@aws-sdk/client-sqs'), import('@aws-sdk/client-eventbridge'), import('@aws-sdk/client-lambda'), import('@aws-sdk/client-sfn'),
    ]));
    return { sqs: new SQSClient(config), events: new EventBridgeClient(config), lambda: new LambdaClient(config), sfn: new SFNClient(config) };
  },
  account: async (region, profile) => {
    const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
    const sts = new STSClient({ region, ...(profile ? { profile } : {}), requestHandler: { ...HTTP_TIMEOUTS.control } });
    return (await sts.send(new GetCallerIdentityCommand({}))).Account ?? '(not named by sts:GetCallerIdentity)';
  },
};

/** Where the queues were looked for (searchedWhere): what `tessera dlq list --json` prints as `searchedIn` when it found none. */
export interface SearchedIn {
  /** The account of the credentials (sts:GetCallerIdentity); absent when that call failed (`accountError`). */
  account?: string;
  /** sts:GetCallerIdentity's error, `<name>: <first line of the message>`, when it failed. */
  accountError?: string;
  /** The SQS client's resolved region (`--region`, else the profile's or the environment's). */
  region: string;
  /** `--profile`, when given. */
  profile?: string;
  /** The queue name prefix looked for (`--prefix`, default tessera-dlq-). */
  prefix: string;
}

/**
 * Where the queues were looked for, for an answer that found none: the SQS client's resolved region, the account of the
 * credentials in it (sts:GetCallerIdentity, same region and profile; its error when it fails: the region is still named),
 * the profile when given, and the prefix.
 */
export async function searchedWhere(io: DlqIo, sqs: RedriveClients['sqs'], region: string | undefined, profile: string | undefined, prefix: string): Promise<SearchedIn> {
  const resolved = await sqs.config.region().catch(() => region ?? 'unknown');
  const account = await io.account(resolved, profile).then((a) => ({ account: a }), (e: Error) => ({ accountError: `${e.name}: ${e.message.split('\n')[0]}` }));
  return { ...account, region: resolved, ...(profile ? { profile } : {}), prefix };
}

/** searchedWhere's answer in words: `account 111122223333, region ap-south-1` (` (profile x)` when given; `account unknown (sts:GetCallerIdentity: …)` when that call failed). */
export const describeSearchedIn = (w: SearchedIn): string =>
  `account ${w.account ?? `unknown (sts:GetCallerIdentity: ${w.accountError})`}, region ${w.region}${w.profile ? ` (profile ${w.profile})` : ''}`;

/** Where the queues were looked for, in words (describeSearchedIn of searchedWhere), for a message that found none. */
export async function searchedIn(io: DlqIo, sqs: RedriveClients['sqs'], region: string | undefined, profile: string | undefined): Promise<string> {
  return describeSearchedIn(await searchedWhere(io, sqs, region, profile, ''));
}

/**
 * Loads the SDK clients (and the modules that use them) only when a dlq command runs: the rest of
 * the CLI keeps working in an install without them (@aws-sdk/client-sqs is a devDependency and
 * @aws-sdk/client-lambda comes only through aws-local-stepfunctions).
 * @throws CliError (1) naming the missing package
 */
async function sdk<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    throw new CliError(`tessera dlq needs @aws-sdk/client-sqs, @aws-sdk/client-eventbridge, @aws-sdk/client-lambda and @aws-sdk/client-sfn installed: ${(e as Error).message.split('\n')[0]}`, 1);
  }
}
const dlqModules = () => sdk(async () => ({ ...(await import('./dlq/queues.js')), ...(await import('./dlq/redrive.js')), ...(await import('./dlq/purge.js')) }));

/** The options a follow-up command needs to find the same queues: ` --prefix …` when not the default, ` --profile …` and ` --region …` when given. */
export function sameQueuesOptions(prefix: string, profile: string | undefined, region?: string): string {
  return `${prefix === DLQ_NAME_PREFIX ? '' : ` --prefix ${prefix}`}${profile ? ` --profile ${profile}` : ''}${region ? ` --region ${region}` : ''}`;
}

/**
 * What `tessera dlq list` suggests for the queues that hold messages, with the options that find
 * them again (`sameQueuesOptions`): a queue whose peeked messages include AWS service events
 * (`awsServiceEvents`, which redrive cannot replay) gets the purge, the others peek and redrive.
 */
export function listHints(queues: DeadLetterQueueInfo[], options: string): string[] {
  const waiting = queues.filter((q) => q.visible > 0);
  const replayable = waiting.filter((q) => q.awsServiceEvents === 0).map((q) => q.name);
  const unreplayable = waiting.filter((q) => q.awsServiceEvents > 0).map((q) => q.name);
  const lines: string[] = [];
  if (replayable.length) lines.push(`${replayable.join(', ')} hold(s) messages: tessera dlq list <queue>${options} --peek 5 shows them; tessera dlq redrive <queue>${options} --dry-run says where they would go`);
  if (unreplayable.length) lines.push(`${unreplayable.join(', ')} hold(s) AWS service events (aws.*), which cannot be replayed: tessera dlq list <queue>${options} --peek 5 shows them; fix what refused them (docs/resilience.md: Nothing lost in asynchronous paths), then tessera dlq purge <queue>${options} --yes deletes them`);
  return lines;
}

/** A purge's outcome for a terminal. */
export function purgeLines(r: PurgeReport): string {
  if (r.messages === 0) return `${r.queue}: no messages, nothing to purge`;
  if (r.dryRun) return `${r.queue}: ${r.messages} message(s); purge would delete them all (nothing changed: --dry-run)`;
  return `${r.queue}: purged about ${r.messages} message(s) (SQS PurgeQueue: deletion completes within 60 s; another purge of this queue is refused for 60 s)`;
}

/** `95` → `1m 35s`; hours and days for older messages. */
export function formatAge(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86_400)}d ${String(Math.floor((seconds % 86_400) / 3600)).padStart(2, '0')}h`;
}

/** The queue `name` (full, or without the prefix) among `queues`. @throws CliError (2) naming the queue and the ones there are */
export function findQueue(queues: DeadLetterQueueInfo[], name: string, prefix: string, where = 'this account and region'): DeadLetterQueueInfo {
  const found = queues.find((q) => q.name === name || q.name === `${prefix}${name}`);
  if (!found) {
    throw new CliError(`no dead-letter queue ${JSON.stringify(name)} (names starting ${prefix}): ${queues.length ? `there are ${queues.map((q) => q.name).join(', ')}` : `there are none in ${where} (check --region and your credentials)`}`);
  }
  return found;
}

const describeDelivery = (d: Delivery | undefined): string => {
  if (!d) return '-';
  const verb = { lambda: 'invoke (async)', 'state-machine': 'start execution', queue: 'send to queue', 'event-bus': 'put on bus' }[d.kind];
  return `${verb} ${d.target}${d.viaRule ? ` (rule ${d.viaRule.deleted} no longer exists: with the target settings of rule ${d.viaRule.now}, the one that has this target now)` : ''}`;
};

/** How much of a peeked message's body `messageLines` prints (UTF-16 code units, before escaping). */
export const PEEK_BODY_CHARACTERS = 2000;

/**
 * A peeked message for a terminal: id, sent time, receive count, the DLQ attributes, the body (cut at
 * PEEK_BODY_CHARACTERS, never inside a surrogate pair, with the body's full length named). Each of the message's
 * own values (id, attribute names and values, body) goes through `printable`: whoever may send to the queue (or
 * to what dead-letters into it: an event's detail, a function's ERROR_MESSAGE attribute) writes them, and a raw
 * `\r`, `\n` or escape sequence would let a message print over or as other lines (a false queue state). `--json`
 * prints them as they are.
 */
export function messageLines(m: Message): string[] {
  const sent = Number(m.Attributes?.SentTimestamp);
  const lines = [`message ${printable(m.MessageId ?? '-')}  sent ${Number.isFinite(sent) ? new Date(sent).toISOString() : '-'}  received ${m.Attributes?.ApproximateReceiveCount ?? '-'}x`];
  for (const [k, v] of Object.entries(m.MessageAttributes ?? {}).sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${printable(k).padEnd(26)}${v.StringValue === undefined ? '(binary)' : printable(v.StringValue)}`);
  const body = m.Body ?? '';
  let cut = PEEK_BODY_CHARACTERS;
  // Not between the two halves of a surrogate pair (an emoji, say): a lone half prints as a replacement character.
  if (/[\uD800-\uDBFF]/.test(body.charAt(cut - 1))) cut -= 1;
  lines.push(`  body ${body.length > PEEK_BODY_CHARACTERS ? `${printable(body.slice(0, cut))}… (${body.length} characters)` : printable(body)}`);
  return lines;
}

/**
 * One redriven (or planned) message for a terminal: id, where it goes, what happened; `printable` (the id, the target and
 * the error quote the message's own attributes, e.g. a TARGET_ARN, which whoever sent the message wrote).
 */
export function redriveMessageLine(m: MessageOutcome, dryRun: boolean): string {
  return printable(`${m.messageId}  ${describeDelivery(m.delivery)}  ${m.error ? `FAILED: ${m.error}` : dryRun ? 'would redrive' : 'redriven, deleted'}`);
}

/** A redrive's outcome for a terminal, one line per message (unless `withMessages` is false: they were printed as they came) and a summary. */
export function redriveLines(r: RedriveReport, withMessages = true): string[] {
  if (r.moveTask) {
    return [r.dryRun
      ? `${r.queue}: would start an SQS message move task back to its source queue(s) ${r.moveTask.sources.join(', ')}: every message of the queue (a move task takes no --max; nothing changed: --dry-run)`
      : `${r.queue}: SQS message move task ${r.moveTask.taskHandle ?? ''} started, back to ${r.moveTask.sources.join(', ')}: every message of the queue (a move task takes no --max)`];
  }
  const inFlight = r.inFlight ? `; ${r.inFlight} in flight, hidden by a redrive (another one running, or replays that failed: visible again within their 300 s visibility timeout): tessera dlq list shows them, run again once they are visible` : '';
  if (!r.messages.length && !r.stopped) return [`${r.queue}: no messages${r.dryRun ? ' seen by the peek' : ''}${inFlight}`];
  const lines = withMessages ? r.messages.map((m) => redriveMessageLine(m, r.dryRun)) : [];
  const failed = r.messages.filter((m) => m.error).length;
  if (r.dryRun) {
    lines.push(`${r.queue}: ${r.messages.length - failed} message(s) would be redriven, ${failed} could not be (nothing changed: --dry-run)`);
    return lines;
  }
  const stopped = r.stopped === 'max' ? `; stopped at --max ${r.messages.length}: more messages may wait (tessera dlq list shows them; run again, or raise --max)`
    : r.stopped === 'interrupted' ? '; interrupted: the messages received and not replayed are visible again, run again for them'
      : r.stopped ? `; stopped: ${printable(r.stopped.error)}; the messages not yet received stay in the queue, run again for them` : '';
  lines.push(`${r.queue}: ${r.messages.filter((m) => m.redriven).length} of ${r.messages.length} redriven${failed ? `; ${failed} failed and stay in the queue (visible again after the visibility timeout)` : ''}${stopped}`);
  // "Redriven" is the target's acceptance, not its run's outcome: say where a second failure shows.
  const kinds = new Set(r.messages.filter((m) => m.redriven).map((m) => m.delivery?.kind));
  if (kinds.has('lambda')) lines.push(`  a function invoked asynchronously may fail again: after its own retries its event lands in this queue again (tessera dlq list ${r.queue} --peek 5 in a few minutes)`);
  if (kinds.has('state-machine')) lines.push('  an execution started may fail later: the failed-execution alarm of its state machine and the registry record it (not this queue)');
  return lines;
}

/**
 * `tessera dlq`: the platform's dead-letter queues (SQS queues named `tessera-dlq-*`, see
 * constructs/dead-letter-queue.ts), found by name prefix in the account and region of your
 * credentials (`--region`, `--profile`). With a tenant account's credentials and
 * `--prefix tessera-<tenant>-dlq-`, the blueprint's forwarder queues there (what the tenant DLQ
 * alarms' page names, constructs/tenant-dlq-alarm.ts).
 * - `list [queue] [--peek N]`: depth, in flight, oldest message age, source; with `--peek`, up to
 *   N messages of each listed queue, left in place (ReceiveMessage, VisibilityTimeout 0).
 * - `redrive <queue> [--dry-run] [--max N]`: replays each message to where it failed and deletes it
 *   (lib/cli/dlq/redrive.ts says exactly how per source); `--dry-run` says where each would go. A DLQ of
 *   SQS queues is redriven by a move task of every message: `--max` is refused there (exit 2).
 * - `purge <queue> --yes [--dry-run]`: deletes every message (SQS PurgeQueue), for what cannot be
 *   replayed (AWS service events) once its cause is fixed; without `--yes` it refuses (exit 2) and
 *   says how many messages it would delete; `--dry-run` only counts.
 * A failure exits 1 and names the queue, the message and the call that failed.
 */
export function dlqCommand(io: DlqIo = processIo): Command {
  const dlq = new Command('dlq').description('dead-letter queues of the platform\'s asynchronous paths: list (--peek shows messages), redrive, purge');
  const common = (cmd: Command) => cmd
    .option('--profile <profile>', 'AWS profile of the account whose queues to read: the platform account, or a tenant\'s account (account mode) or workload account (vpc mode) for its tessera-<tenant>-dlq-* queues (with --prefix)')
    .option('--prefix <prefix>', 'queue name prefix (tessera-<tenant>-dlq- for a tenant account\'s queues)', DLQ_NAME_PREFIX);
  const globals = (cmd: Command) => cmd.optsWithGlobals<Globals>();

  common(dlq.command('list'))
    .description('each dead-letter queue: messages, in flight, oldest message age (a peek: a lower bound), what feeds it')
    .argument('[queue]', 'only this queue (full name, or without the prefix)')
    .option('--peek <n>', 'also show up to n messages of each queue, without deleting them (VisibilityTimeout 0)', numberIn(1, 100, 'messages', true))
    .action(async (name: string | undefined, o: { peek?: number }, cmd: Command) => {
      const g = globals(cmd);
      const { listDeadLetterQueues, peekMessages } = await dlqModules();
      const clients = await io.clients(g.region, g.profile);
      let queues = await listDeadLetterQueues(clients.sqs, g.prefix);
      // None found: on a deployed platform, the wrong account, region or profile. Named in the text and in --json (exit 0:
      // an empty list is an answer, and a tenant account may have no queue of a --prefix).
      const searched = queues.length ? undefined : await searchedWhere(io, clients.sqs, g.region, g.profile, g.prefix);
      const where = searched && describeSearchedIn(searched);
      if (name) queues = [findQueue(queues, name, g.prefix, where)];
      const peeked = new Map<string, Message[]>();
      if (o.peek) for (const q of queues) peeked.set(q.name, q.visible ? await peekMessages(clients.sqs, q.url, o.peek) : []);
      if (g.json) {
        io.out(JSON.stringify({ queues: queues.map((q) => ({ ...q, ...(o.peek ? { messages: peeked.get(q.name) } : {}) })), ...(searched ? { searchedIn: searched } : {}) }, null, 2));
        return;
      }
      if (!queues.length) {
        io.out(`no queues named ${g.prefix}* in ${where} (check --region and --profile)`);
        return;
      }
      io.out(table(queues.map((q) => ({ queue: q.name, messages: q.visible, 'in flight': q.inFlight, oldest: formatAge(q.oldestAgeSeconds), source: q.source })), ['queue', 'messages', 'in flight', 'oldest', 'source']));
      if (!o.peek) for (const line of listHints(queues, sameQueuesOptions(g.prefix, g.profile, g.region))) io.out(line);
      for (const [queue, messages] of peeked) {
        if (!messages.length) continue;
        io.out(`\n${queue}: ${messages.length} message(s) (left in the queue)`);
        for (const m of messages) io.out(messageLines(m).join('\n'));
      }
    });

  common(dlq.command('redrive'))
    .description('replay each message to where it failed (the rule\'s target, the function, or the source queue), then delete it')
    .argument('<queue>', 'the queue (full name, or without the prefix)')
    .option('--dry-run', 'say where each message would go; change nothing')
    .option('--max <n>', 'at most n messages (not for a DLQ of SQS queues: its move task moves every message, and --max is refused)', numberIn(1, 10_000, 'messages', true), 100)
    .action(async (name: string, o: { dryRun?: boolean; max: number }, cmd: Command) => {
      const g = globals(cmd);
      const { listDeadLetterQueues, redriveQueue } = await dlqModules();
      const clients = await io.clients(g.region, g.profile);
      const all = await listDeadLetterQueues(clients.sqs, g.prefix);
      const queue = findQueue(all, name, g.prefix, all.length ? undefined : await searchedIn(io, clients.sqs, g.region, g.profile));
      // Ctrl-C once: finish the message being replayed, make the received rest visible again, print the summary.
      // A second Ctrl-C ends the process at once (Node's default).
      const interrupt = new AbortController();
      const onSigint = () => {
        process.stderr.write(`interrupted: finishing the message being replayed, then stopping (Ctrl-C again to quit at once)\n`);
        interrupt.abort();
        process.off('SIGINT', onSigint);
      };
      process.on('SIGINT', onSigint);
      let report: RedriveReport;
      try {
        report = await redriveQueue(clients, queue, {
          dryRun: Boolean(o.dryRun), max: o.max, maxGiven: cmd.getOptionValueSource('max') === 'cli', signal: interrupt.signal,
          // Each message's line as soon as it is done: a crash or a kill still leaves on the terminal what was replayed.
          ...(g.json ? {} : { onMessage: (m: MessageOutcome) => io.out(redriveMessageLine(m, Boolean(o.dryRun))) }),
        });
      } finally {
        process.off('SIGINT', onSigint);
      }
      io.out(g.json ? JSON.stringify(report, null, 2) : redriveLines(report, false).join('\n'));
      // 130 after Ctrl-C, as a shell reports a SIGINT; 1 when a message failed or a receive did.
      if (report.stopped === 'interrupted') {
        // With --json, the stop is also the last line of stderr in the shape of every other end (json-error.ts interruptionLine).
        if (g.json) process.stderr.write(interruptionLine(`interrupted (Ctrl-C): the redrive stopped after ${report.messages.length} message${report.messages.length === 1 ? '' : 's'} (the report on stdout); the messages not replayed stay in ${report.queue}`, 'redrive_stopped', true));
        process.exitCode = 130;
      }
      else if (report.messages.some((m) => m.error) || (report.stopped && report.stopped !== 'max')) process.exitCode = 1;
    });

  common(dlq.command('purge'))
    .description('delete every message of the queue (SQS PurgeQueue), e.g. AWS service events that cannot be replayed, once their cause is fixed')
    .argument('<queue>', 'the queue (full name, or without the prefix)')
    .option('--yes', 'really delete them (without it: refuse, exit 2, and say how many)')
    .option('--dry-run', 'only count the messages; change nothing')
    .action(async (name: string, o: { yes?: boolean; dryRun?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const { listDeadLetterQueues, purgeQueue } = await dlqModules();
      const clients = await io.clients(g.region, g.profile);
      const all = await listDeadLetterQueues(clients.sqs, g.prefix);
      const queue = findQueue(all, name, g.prefix, all.length ? undefined : await searchedIn(io, clients.sqs, g.region, g.profile));
      const dryRun = Boolean(o.dryRun) || !o.yes;
      const report = await purgeQueue(clients.sqs, queue, dryRun);
      if (!o.yes && !o.dryRun && report.messages > 0) {
        throw new CliError(`${queue.name} holds ${report.messages} message(s): purge deletes them all and cannot be undone; run again with --yes (tessera dlq purge ${queue.name}${sameQueuesOptions(g.prefix, g.profile, g.region)} --yes), or --dry-run to only count`, 2);
      }
      io.out(g.json ? JSON.stringify(report, null, 2) : purgeLines(report));
    });
  return dlq;
}
