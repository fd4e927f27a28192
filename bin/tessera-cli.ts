import { Command } from 'commander';
import { AdminApiError } from '../lib/cli/admin-client.js';
import { devTokenCommand, serveCommand } from '../lib/cli/serve-command.js';
import { tenantsCommand } from '../lib/cli/tenants-command.js';
import { fineTuningCommand } from '../lib/cli/fine-tuning-command.js';
import { doctorCommand } from '../lib/cli/doctor-command.js';
import { initCommand } from '../lib/cli/init-command.js';
import { adminsCommand } from '../lib/cli/admins-command.js';
import { loginCommand, usersCommand } from '../lib/cli/users-command.js';

const program = new Command('tessera')
  .description('Tessera platform CLI: the tenant lifecycle, through the admin API (SigV4, your AWS credentials)')
  .option('--api-url <url>', 'admin API base URL (default: $TESSERA_API_URL)')
  .option('--region <region>', 'AWS region of the admin API (default: $AWS_REGION)')
  .option('--json', 'print JSON instead of text')
  .showHelpAfterError();
program.addCommand(tenantsCommand());
program.addCommand(serveCommand());
program.addCommand(devTokenCommand());
program.addCommand(fineTuningCommand());
program.addCommand(initCommand());
program.addCommand(doctorCommand());
program.addCommand(adminsCommand());
program.addCommand(usersCommand());
program.addCommand(loginCommand());

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof AdminApiError) {
    process.stderr.write(`error: ${e.message}${e.code ? ` (${e.code}${e.param ? `, field ${e.param}` : ''})` : ''}\n`);
    process.exitCode = 1;
  } else {
    throw e;
  }
}
