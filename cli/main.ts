/** The `torgo` command. `createProgram()` builds a fresh command tree (each `main` call makes one). */
import { Command, CommanderError } from 'commander';
import { CliError, describeError, EXIT_OK, EXIT_USAGE } from './errors.js';
import { type Output, processOutput } from './output.js';

/**
 * Every top-level command, in help order, with the module that defines it, imported only when the
 * command is registered: the modules together take ~0.5 s of CPU to load (the gateway's, fastify,
 * fabric-shim's), which `torgo verify` paid before reading its first line (docs/performance.md §13).
 */
const COMMANDS: readonly {
  names: readonly string[];
  register(program: Command, output: Output): Promise<void>;
}[] = [
  {
    names: ['key'],
    async register(program, output) {
      const key = program.command('key').description('ML-DSA signing keys');
      const [{ addKeyGenerate }, { addKeyOnline }] = await Promise.all([
        import('./commands/key.js'),
        import('./commands/keyonline.js'),
      ]);
      addKeyGenerate(key, output);
      addKeyOnline(key, output);
    },
  },
  {
    names: ['receipt'],
    async register(program, output) {
      const receipt = program.command('receipt').description('MARKUP .mu receipts (offline)');
      (await import('./commands/receipt.js')).addReceiptCommands(receipt, output);
    },
  },
  {
    names: ['verify'],
    register: async (p, o) => (await import('./commands/verify.js')).addVerifyCommand(p, o),
  },
  {
    names: ['verifier-page'],
    register: async (p, o) => (await import('./commands/verifier-page.js')).addVerifierPage(p, o),
  },
  // Online commands: through the gateway's HTTP API.
  { names: ['serve'], register: async (p, o) => (await import('./commands/serve.js')).addServe(p, o) },
  { names: ['relay'], register: async (p, o) => (await import('./commands/relay.js')).addRelay(p, o) },
  { names: ['append'], register: async (p, o) => (await import('./commands/append.js')).addAppend(p, o) },
  { names: ['get'], register: async (p, o) => (await import('./commands/get.js')).addGet(p, o) },
  { names: ['query'], register: async (p, o) => (await import('./commands/query.js')).addQuery(p, o) },
  {
    names: ['token'],
    register: async (p, o) => {
      (await import('./commands/token.js')).addToken(p, o);
    },
  },
  { names: ['audit'], register: async (p, o) => (await import('./commands/audit.js')).addAudit(p, o) },
  {
    names: ['export', 'checkpoint'],
    register: async (p, o) => (await import('./commands/export.js')).addExport(p, o),
  },
  { names: ['ledger'], register: async (p, o) => (await import('./commands/ledger.js')).addLedger(p, o) },
  { names: ['tls'], register: async (p, o) => (await import('./commands/tls.js')).addTls(p, o) },
];

/**
 * A fresh command tree. With `argv`, when its first argument names a command, only that command is
 * registered (and its module loaded); otherwise (no command, `--help`, `help X`, `--version`, a typo that
 * commander answers with the full list) every command is.
 */
export async function createProgram(
  output: Output = processOutput,
  argv?: readonly string[],
): Promise<Command> {
  const program = new Command('torgo')
    .description('TORGO Ledger: post-quantum signed audit receipts')
    .version('0.1.0')
    .showHelpAfterError()
    .configureOutput({ writeOut: output.out, writeErr: output.err })
    .exitOverride();
  const named = argv?.[2];
  const only = COMMANDS.find((c) => named !== undefined && c.names.includes(named));
  for (const c of only ? [only] : COMMANDS) await c.register(program, output);
  const everyCommand = (c: Command): Command[] => [c, ...c.commands.flatMap(everyCommand)];
  for (const c of everyCommand(program))
    c.exitOverride().configureOutput({ writeOut: output.out, writeErr: output.err });
  return program;
}

/** Runs the CLI; resolves to the exit status (never calls process.exit, so servers can drain). */
export async function main(argv: readonly string[], output: Output = processOutput): Promise<number> {
  const program = await createProgram(output, argv);
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
