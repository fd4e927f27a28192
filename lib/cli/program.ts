import { Command, CommanderError } from 'commander';
import { adminsCommand } from './admins-command.js';
import { dlqCommand } from './dlq-command.js';
import { doctorCommand } from './doctor-command.js';
import { fineTuningCommand } from './fine-tuning-command.js';
import { initCommand } from './init-command.js';
import { keysCommand } from './keys-command.js';
import { politeCommander, reportError } from './report-error.js';
import { rolesCommand } from './roles-command.js';
import { devKeyCommand, devTokenCommand, serveCommand } from './serve-command.js';
import { tenantsCommand } from './tenants-command.js';
import { loginCommand, usersCommand } from './users-command.js';

/** The `tessera` program: every command, the global options, commander's refusals in house style. */
export function tesseraProgram(): Command {
  const program = new Command('tessera')
    .description('Tessera platform CLI: the tenant lifecycle, through the admin API (SigV4, your AWS credentials)')
    .option('--api-url <url>', 'admin API base URL (default: $TESSERA_API_URL)')
    .option('--region <region>', 'AWS region of the admin API (default: $AWS_REGION)')
    .option('--json', 'print JSON instead of text')
    .option('--debug', 'print the stack trace of an error');
  for (const command of [
    tenantsCommand(), serveCommand(), devTokenCommand(), devKeyCommand(), fineTuningCommand(), initCommand(), doctorCommand(),
    adminsCommand(), usersCommand(), loginCommand(), rolesCommand(), keysCommand(), dlqCommand(),
  ]) program.addCommand(command);
  return politeCommander(program);
}

/**
 * Runs `tessera <args>` and returns its exit code instead of exiting: commander's refusals exit 2
 * (politeCommander printed them), CliError and its kin print one line with their exit code,
 * anything else one line and exit 1; the stack trace only with `--debug`.
 * @param args the arguments after `tessera`
 */
export async function runTesseraProgram(args: string[]): Promise<number> {
  const program = tesseraProgram();
  try {
    await program.parseAsync(['node', 'tessera', ...args]);
    // A command that finished but failed (tessera tenants ... --watch of a FAILED execution) sets exitCode.
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    const report = reportError(e, Boolean(program.opts().debug) || args.includes('--debug'));
    process.stderr.write(report.text);
    return report.exitCode;
  }
}
