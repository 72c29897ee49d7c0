/**
 * V8 settings `torgo serve` needs from its start (`node.maxSemiSpaceMiB`, `node.singleThreadedGc`,
 * docs/operations.md): V8 reads them when the process starts, from the command line and
 * NODE_OPTIONS; `v8.setFlagsFromString` afterwards does not resize the semi-spaces (measured: the
 * new space still grows to Node's default) nor stop the GC's helper threads (measured: they still
 * ran). So a serve process that was started without them replaces itself, before it opens or
 * writes anything, with the same program run with them — `process.execve`, which keeps the process
 * id, so a service manager, `kill` and /proc see the same process. Whichever way it is started
 * (`bin/torgo.js`, `npm start`, a unit file) gets the settings; a flag given explicitly on the
 * command line or in NODE_OPTIONS (`--no-single-threaded-gc` too) is left as it is.
 */

export const SEMI_SPACE_FLAG = '--max-semi-space-size';
export const SINGLE_THREADED_GC_FLAG = '--single-threaded-gc';
/** `node.singleThreadedGc`'s default. */
export const SINGLE_THREADED_GC_DEFAULT = true;
/**
 * `node.maxSemiSpaceMiB`'s default, MiB.
 * With single-threaded GC the main thread scavenges alone, and a scavenge of Node's 2 × 64 MiB young
 * generation held query pages up for 6–8 ms (p50); with 8 MiB, 1.8–2 ms (docs/performance.md §11,
 * "Queries, eleventh pass").
 */
export const SEMI_SPACE_DEFAULT_MIB = 8;
/** The largest `node.maxSemiSpaceMiB` the configuration accepts. */
export const SEMI_SPACE_MAX_MIB = 1024;

/** The settings (the config's `node` section). */
export interface StartSettings {
  /** V8's semi-space, MiB; 0 leaves Node's default. */
  readonly maxSemiSpaceMiB: number;
  /** V8 collects garbage on the thread that made it, with no helper threads. */
  readonly singleThreadedGc: boolean;
}

/** The `node` section's defaults (gateway/config.ts takes them from here, as bin/torgo.js does). */
export const DEFAULT_START_SETTINGS: StartSettings = {
  maxSemiSpaceMiB: SEMI_SPACE_DEFAULT_MIB,
  singleThreadedGc: SINGLE_THREADED_GC_DEFAULT,
};

/** What the decision reads of the running process. */
export interface ProcessStart {
  readonly execPath: string;
  readonly execArgv: readonly string[];
  /** `process.argv`: the node binary, the script, then the script's arguments. */
  readonly argv: readonly string[];
  readonly nodeOptions: string | undefined;
}

/** True if the process was started with `flag` (or `--no-` it), on the command line or in NODE_OPTIONS. */
function hasFlag(flag: string, start: Pick<ProcessStart, 'execArgv' | 'nodeOptions'>): boolean {
  const negated = `--no-${flag.slice(2)}`;
  const given = (arg: string) =>
    arg === flag || arg.startsWith(`${flag}=`) || arg === negated || arg.startsWith(`${negated}=`);
  return start.execArgv.some(given) || (start.nodeOptions ?? '').split(/\s+/).some(given);
}

/** True if the process was started with `--max-semi-space-size` (command line or NODE_OPTIONS). */
export function hasSemiSpaceFlag(start: Pick<ProcessStart, 'execArgv' | 'nodeOptions'>): boolean {
  return hasFlag(SEMI_SPACE_FLAG, start);
}

/** The flags the settings ask for that the process was not started with (explicit ones are kept). */
export function missingFlags(settings: StartSettings, start: ProcessStart): string[] {
  const flags: string[] = [];
  if (settings.maxSemiSpaceMiB !== 0 && !hasFlag(SEMI_SPACE_FLAG, start))
    flags.push(`${SEMI_SPACE_FLAG}=${settings.maxSemiSpaceMiB}`);
  if (settings.singleThreadedGc && !hasFlag(SINGLE_THREADED_GC_FLAG, start))
    flags.push(SINGLE_THREADED_GC_FLAG);
  return flags;
}

/**
 * The argument vector (argv[0] first) to run this process again with the settings, or undefined when
 * it should go on as it is: nothing asked, or every flag asked already given.
 */
export function relaunchArgs(settings: StartSettings, start: ProcessStart): string[] | undefined {
  const flags = missingFlags(settings, start);
  if (flags.length === 0) return undefined;
  return [start.execPath, ...flags, ...start.execArgv, ...start.argv.slice(1)];
}

/**
 * Replaces this process with itself run with the settings (see above) through `replace` (the CLI's
 * `Output.replaceProcess`), or returns if none is needed. Without `replace` (no `process.execve`, or
 * a command run in-process by a test) the process goes on with Node's defaults, and `notice` says so
 * when a change was asked.
 */
export function ensureStartSettings(
  settings: StartSettings,
  replace: ((args: readonly string[]) => void) | undefined,
  notice: (line: string) => void,
): void {
  const start = {
    execPath: process.execPath,
    execArgv: process.execArgv,
    argv: process.argv,
    nodeOptions: process.env['NODE_OPTIONS'],
  };
  const args = relaunchArgs(settings, start);
  if (!args) return;
  if (!replace) {
    notice(
      `node settings not applied (this process cannot restart itself): start Node with ${missingFlags(settings, start).join(' ')}`,
    );
    return;
  }
  replace(args);
}

/**
 * The same decision made early, by bin/torgo.js before the CLI loads: loading it takes ~0.6 s, which a
 * restart after it paid twice (to a listening gateway 2.25 s against 1.63 s with the flag given, docs/
 * performance.md §12). Only where nothing but the defaults and the environment speak: `torgo serve`
 * as the first argument, no configuration file (`--config`, TORGO_CONFIG), and
 * TORGO_NODE_SINGLE_THREADED_GC and TORGO_NODE_MAX_SEMI_SPACE_MIB unset or read exactly as the
 * configuration reads them. Otherwise undefined, and `torgo serve` decides once it has read its
 * configuration (`ensureStartSettings`, which also reports a value it refuses): a restart there, as before.
 */
export function earlyRelaunchArgs(
  start: ProcessStart,
  env: Readonly<Record<string, string | undefined>>,
): string[] | undefined {
  const args = start.argv.slice(2);
  if (args[0] !== 'serve') return undefined;
  if (env['TORGO_CONFIG'] || args.some((a) => a === '--config' || a.startsWith('--config=')))
    return undefined;
  const settings = settingsFromEnv(env);
  return settings && relaunchArgs(settings, start);
}

/** The `node` settings the environment gives over the defaults, or undefined for anything unplain. */
function settingsFromEnv(env: Readonly<Record<string, string | undefined>>): StartSettings | undefined {
  const gc = env['TORGO_NODE_SINGLE_THREADED_GC'];
  const semi = env['TORGO_NODE_MAX_SEMI_SPACE_MIB'];
  if (gc !== undefined && gc !== 'true' && gc !== 'false') return undefined;
  if (semi !== undefined && !(/^(0|[1-9]\d{0,3})$/.test(semi) && Number(semi) <= SEMI_SPACE_MAX_MIB))
    return undefined;
  return {
    singleThreadedGc: gc === undefined ? DEFAULT_START_SETTINGS.singleThreadedGc : gc === 'true',
    maxSemiSpaceMiB: semi === undefined ? DEFAULT_START_SETTINGS.maxSemiSpaceMiB : Number(semi),
  };
}

/** The Node options `torgo serve` runs with by default (what the query benchmark runs with too). */
export function defaultStartFlags(): string[] {
  return missingFlags(DEFAULT_START_SETTINGS, {
    execPath: '',
    execArgv: [],
    argv: [],
    nodeOptions: undefined,
  });
}
