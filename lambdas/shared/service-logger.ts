import { Logger } from '@aws-lambda-powertools/logger';

const loggers = new Map<string, Logger>();

/**
 * The Powertools Logger of `serviceName` (its logs' `service` key), one per name per process: every module of a
 * service logs through the same instance, so keys appended to it (`appendKeys`) and the Lambda context added to it
 * (`addContext`, `injectLambdaContext`) show on all of its lines.
 *
 * A line is one JSON object: `level` (`INFO`, `WARN`, `ERROR`…), `message`, `timestamp` (ISO 8601), `service`,
 * `sampling_rate`, the X-Ray trace id and the Lambda context when there is one, then the keys of the object passed after
 * the message, at the top level (`logger.error('audit write failed', { error: 'disk full' })` has an `error` key).
 * INFO and DEBUG go to stdout, WARN and ERROR to stderr. Powertools reads its environment when the logger is made:
 * `POWERTOOLS_LOG_LEVEL` (@default INFO; `SILENT` prints nothing, what the tests set), or Lambda's
 * `AWS_LAMBDA_LOG_LEVEL`; `POWERTOOLS_LOGGER_SAMPLE_RATE` (share of invocations logged at DEBUG); `POWERTOOLS_DEV`
 * (indented lines through the global console). The `serviceName` given here wins over `POWERTOOLS_SERVICE_NAME`, as
 * Powertools' constructor option does: a module's lines name the module's service whatever function bundles it.
 * Source: https://docs.powertools.aws.dev/lambda/typescript/latest/core/logger/
 *
 * @param serviceName - the service's name, `tessera-<component>` (e.g. `tessera-gateway`, `tessera-fine-tuning`)
 * @returns the cached Logger of that name, made on the first call
 */
export function serviceLogger(serviceName: string): Logger {
  let logger = loggers.get(serviceName);
  if (!logger) loggers.set(serviceName, (logger = new Logger({ serviceName })));
  return logger;
}

/** A log line as a value: its `level` (`INFO`, `WARN` or `ERROR`), its `message`, and its other keys. */
export type LogEntry = { level: 'INFO' | 'WARN' | 'ERROR'; message: string } & Record<string, unknown>;

/**
 * A function that logs an entry through `logger` at the entry's level, its other keys at the line's top level: the
 * default of a class that takes its log as an option (tests pass their own and read the entries).
 */
export function entryLogger(logger: Logger): (entry: LogEntry) => void {
  return ({ level, message, ...keys }) => {
    if (level === 'ERROR') logger.error(message, keys);
    else if (level === 'WARN') logger.warn(message, keys);
    else logger.info(message, keys);
  };
}
