import { Command, Option } from 'commander';
import { DEFAULT_CONFIG } from '../config/default-config.js';
import { defaultConfigYaml, defaultTierNames, defaultTierYaml } from '../config/default-config-yaml.js';
import { tesseraVersion } from './program.js';

/**
 * `tessera config`: the platform config as a config file writes it. `tessera config defaults [--tier <name>]` prints the
 * embedded default (lib/config/default-config.ts), or one of its tiers under `tiers.<name>`, as YAML a config file takes
 * back unchanged (lib/config/default-config-yaml.ts): a platform team copies a tier from it to add one of its own
 * instead of reading TypeScript. `--json`: the same values as JSON (a config file may be JSON too). Makes no AWS call.
 * @param out where the text goes @default process.stdout
 */
export function configCommand(out: (text: string) => void = (t) => void process.stdout.write(t)): Command {
  const config = new Command('config').description('the platform config as tessera.config.yaml writes it (the embedded default, to copy from)');
  config.command('defaults')
    .description('print the embedded default config (lib/config/default-config.ts) as YAML a config file takes back unchanged; --tier <name>: that tier alone, under tiers.<name>, to copy as a tier of your own')
    .addOption(new Option('--tier <name>', 'print this tier of the default alone').choices(defaultTierNames()))
    .action((options: { tier?: string }, cmd: Command) => {
      const value = options.tier ? { tiers: { [options.tier]: DEFAULT_CONFIG.tiers[options.tier] } } : DEFAULT_CONFIG;
      if (cmd.optsWithGlobals<{ json?: boolean }>().json) {
        out(`${JSON.stringify(value, null, 2)}\n`);
        return;
      }
      out(options.tier ? defaultTierYaml(options.tier, tesseraVersion()) : defaultConfigYaml(tesseraVersion()));
    });
  return config;
}
