import { runTesseraProgram } from '../lib/cli/program.js';

// process.exit, not exitCode: a failed command may leave a socket or a timer that would keep it running.
const code = await runTesseraProgram(process.argv.slice(2));
if (code !== 0) process.exit(code);
