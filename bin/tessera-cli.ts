import { Command, CommanderError } from 'commander';
import { politeCommander, reportError } from '../lib/cli/report-error.js';
import { devKeyCommand, devTokenCommand, serveCommand } from '../lib/cli/serve-command.js';
import { tenantsCommand } from '../lib/cli/tenants-command.js';
import { fineTuningCommand } from '../lib/cli/fine-tuning-command.js';
import { doctorCommand } from '../lib/cli/doctor-command.js';
import { initCommand } from '../lib/cli/init-command.js';
import { adminsCommand } from '../lib/cli/admins-command.js';
import { loginCommand, usersCommand } from '../lib/cli/users-command.js';
import { rolesCommand } from '../lib/cli/roles-command.js';
import { keysCommand } from '../lib/cli/keys-command.js';

const program = new Command('tessera')
  .description('Tessera platform CLI: the tenant lifecycle, through the admin API (SigV4, your AWS credentials)')
  .option('--api-url <url>', 'admin API base URL (default: $TESSERA_API_URL)')
  .option('--region <region>', 'AWS region of the admin API (default: $AWS_REGION)')
  .option('--json', 'print JSON instead of text')
  .option('--debug', 'print the stack trace of an error');
program.addCommand(tenantsCommand());
program.addCommand(serveCommand());
program.addCommand(devTokenCommand());
program.addCommand(devKeyCommand());
program.addCommand(fineTuningCommand());
program.addCommand(initCommand());
program.addCommand(doctorCommand());
program.addCommand(adminsCommand());
program.addCommand(usersCommand());
program.addCommand(loginCommand());
program.addCommand(rolesCommand());
program.addCommand(keysCommand());

// One error handler for every command: commander's refusals (printed by politeCommander, exit 2),
// CliError and its kin as one line with their exit code, anything else one line and exit 1; the
// stack trace only with --debug.
politeCommander(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  // process.exit, not exitCode: a failed command may leave a socket or a timer that would keep it running.
  if (e instanceof CommanderError) process.exit(e.exitCode);
  const report = reportError(e, Boolean(program.opts().debug) || process.argv.includes('--debug'));
  process.stderr.write(report.text);
  process.exit(report.exitCode);
}
