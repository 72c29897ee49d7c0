/** The `torgo` command. `createProgram()` builds a fresh command tree (tests make one each). */
import { Command, CommanderError } from 'commander';
import { addAppend } from './commands/append.js';
import { addAudit } from './commands/audit.js';
import { addExport } from './commands/export.js';
import { addLedger } from './commands/ledger.js';
import { addGet } from './commands/get.js';
import { addKeyGenerate } from './commands/key.js';
import { addKeyOnline } from './commands/keyonline.js';
import { addQuery } from './commands/query.js';
import { addReceiptCommands } from './commands/receipt.js';
import { addRelay } from './commands/relay.js';
import { addServe } from './commands/serve.js';
import { addTls } from './commands/tls.js';
import { addToken } from './commands/token.js';
import { addVerifierPage } from './commands/verifier-page.js';
import { addVerifyCommand } from './commands/verify.js';
import { CliError, describeError, EXIT_OK, EXIT_USAGE } from './errors.js';
import { type Output, processOutput } from './output.js';

export function createProgram(output: Output = processOutput): Command {
  const program = new Command('torgo')
    .description('TORGO Ledger: post-quantum signed audit receipts')
    .version('0.1.0')
    .showHelpAfterError()
    .configureOutput({ writeOut: output.out, writeErr: output.err })
    .exitOverride();
  const key = program.command('key').description('ML-DSA signing keys');
  addKeyGenerate(key, output);
  addKeyOnline(key, output);
  const receipt = program.command('receipt').description('MARKUP .mu receipts (offline)');
  addReceiptCommands(receipt, output);
  addVerifyCommand(program, output);
  addVerifierPage(program, output);
  // Online commands: through the gateway's HTTP API.
  addServe(program, output);
  addRelay(program, output);
  addAppend(program, output);
  addGet(program, output);
  addQuery(program, output);
  addToken(program, output);
  addAudit(program, output);
  addExport(program, output);
  addLedger(program, output);
  addTls(program, output);
  const everyCommand = (c: Command): Command[] => [c, ...c.commands.flatMap(everyCommand)];
  for (const c of everyCommand(program))
    c.exitOverride().configureOutput({ writeOut: output.out, writeErr: output.err });
  return program;
}

/** Runs the CLI; resolves to the exit status (never calls process.exit, so servers can drain). */
export async function main(argv: readonly string[], output: Output = processOutput): Promise<number> {
  const program = createProgram(output);
  try {
    await program.parseAsync(argv as string[]);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0
        ? EXIT_OK
        : EXIT_USAGE;
    }
    const d = describeError(e);
    if (!(e instanceof CliError && e.reported)) output.err(`torgo: ${d.code}: ${d.message}\n`);
    return d.exitCode;
  }
}
