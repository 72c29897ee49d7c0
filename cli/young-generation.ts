/**
 * Settings `torgo serve` needs from its start (`node.maxSemiSpaceMiB`, `node.singleThreadedGc`,
 * `node.mallocArenaMax`, docs/operations.md). glibc reads its malloc arena cap from the environment
 * when the process starts (MALLOC_ARENA_MAX); V8 reads its flags then too, from the command line and
 * NODE_OPTIONS; `v8.setFlagsFromString` afterwards does not resize the semi-spaces (measured: the
 * new space still grows to Node's default) nor stop the GC's helper threads (measured: they still
 * ran). So a serve process that was started without them replaces itself, before it opens or
 * writes anything, with the same program run with them — `process.execve`, which keeps the process
 * id, so a service manager, `kill` and /proc see the same process. Whichever way it is started
 * (`bin/torgo.js`, `npm start`, a unit file) gets the settings; a flag given explicitly on the
 * command line or in NODE_OPTIONS (`--no-single-threaded-gc` too), and an arena cap the environment
 * sets already (MALLOC_ARENA_MAX, or GLIBC_TUNABLES' glibc.malloc.arena_max), are left as they are.
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
/** Where glibc reads its cap on malloc arenas from, once, when the process starts. */
export const MALLOC_ARENA_ENV = 'MALLOC_ARENA_MAX';
/**
 * `node.mallocArenaMax`'s default. glibc gives threads that allocate at the same time arenas of their
 * own, up to 8 per core, and keeps what each arena once held: the export thread's first export grew
 * the gateway's RSS by 58 MiB beyond the thread's own start, 19–27 MiB with 2 arenas or 1
 * (docs/performance.md §12). Each thread's cache of small blocks (glibc's tcache) spares most
 * allocations the arena's lock.
 */
export const MALLOC_ARENA_DEFAULT = 2;
/** The largest `node.mallocArenaMax` the configuration accepts. */
export const MALLOC_ARENA_MAX_LIMIT = 64;

/** The settings (the config's `node` section). */
export interface StartSettings {
  /** V8's semi-space, MiB; 0 leaves Node's default. */
  readonly maxSemiSpaceMiB: number;
  /** V8 collects garbage on the thread that made it, with no helper threads. */
  readonly singleThreadedGc: boolean;
  /** glibc's malloc arenas at most; 0 leaves glibc's own cap. */
  readonly mallocArenaMax: number;
}

/** The `node` section's defaults (gateway/config.ts takes them from here, as bin/torgo.js does). */
export const DEFAULT_START_SETTINGS: StartSettings = {
  maxSemiSpaceMiB: SEMI_SPACE_DEFAULT_MIB,
  singleThreadedGc: SINGLE_THREADED_GC_DEFAULT,
  mallocArenaMax: MALLOC_ARENA_DEFAULT,
};

/** What the decision reads of the running process. */
export interface ProcessStart {
  readonly execPath: string;
  readonly execArgv: readonly string[];
  /** `process.argv`: the node binary, the script, then the script's arguments. */
  readonly argv: readonly string[];
  readonly nodeOptions: string | undefined;
  /** Its environment (the arena cap): none given reads as an empty one. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Whether its C library is glibc; found out (process.report) when not given. */
  readonly glibc?: boolean;
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
 * The environment the settings ask for that the process was not started with: the arena cap, unless
 * its environment sets one already or its C library is not glibc (which would not read it).
 */
export function missingEnv(
  settings: StartSettings,
  start: Pick<ProcessStart, 'env' | 'glibc'>,
): Record<string, string> {
  if (settings.mallocArenaMax === 0) return {};
  const env = start.env ?? {};
  if (env[MALLOC_ARENA_ENV] !== undefined || /glibc\.malloc\.arena_max=/.test(env['GLIBC_TUNABLES'] ?? ''))
    return {};
  if (!(start.glibc ?? runsOnGlibc())) return {};
  return { [MALLOC_ARENA_ENV]: String(settings.mallocArenaMax) };
}

/** True where the process's C library is glibc (what `process.report` says of it). */
function runsOnGlibc(): boolean {
  if (process.platform !== 'linux') return false;
  // Without the network interfaces (Node ≥ 22.11; not in @types/node): ~4 ms rather than ~17.
  const report = process.report as typeof process.report & { excludeNetwork?: boolean };
  const excluded = report.excludeNetwork;
  report.excludeNetwork = true;
  try {
    const header = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
    return typeof header?.glibcVersionRuntime === 'string';
  } finally {
    report.excludeNetwork = excluded;
  }
}

/** How to run this process again with the settings: its argument vector (argv[0] first) and what to add to its environment. */
export interface Relaunch {
  readonly args: string[];
  readonly env: Record<string, string>;
}

/**
 * This process run again with the settings, or undefined when it should go on as it is: nothing
 * asked, or every flag and variable asked already given.
 */
export function relaunch(settings: StartSettings, start: ProcessStart): Relaunch | undefined {
  const flags = missingFlags(settings, start);
  const env = missingEnv(settings, start);
  if (flags.length === 0 && Object.keys(env).length === 0) return undefined;
  return { args: [start.execPath, ...flags, ...start.execArgv, ...start.argv.slice(1)], env };
}

/**
 * Replaces this process with itself run with the settings (see above) through `replace` (the CLI's
 * `Output.replaceProcess`), or returns if none is needed. Without `replace` (no `process.execve`, or
 * a command run in-process by a test) the process goes on with Node's defaults, and `notice` says so
 * when a change was asked.
 */
export function ensureStartSettings(
  settings: StartSettings,
  replace: ((args: readonly string[], env: Readonly<Record<string, string>>) => void) | undefined,
  notice: (line: string) => void,
): void {
  const start = {
    execPath: process.execPath,
    execArgv: process.execArgv,
    argv: process.argv,
    nodeOptions: process.env['NODE_OPTIONS'],
    env: process.env,
  };
  const again = relaunch(settings, start);
  if (!again) return;
  if (!replace) {
    const asked = [
      ...Object.entries(again.env).map(([k, v]) => `${k}=${v}`),
      'node',
      ...missingFlags(settings, start),
    ];
    notice(`node settings not applied (this process cannot restart itself): start it as ${asked.join(' ')}`);
    return;
  }
  replace(again.args, again.env);
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
export function earlyRelaunch(
  start: ProcessStart,
  env: Readonly<Record<string, string | undefined>>,
): Relaunch | undefined {
  const args = start.argv.slice(2);
  if (args[0] !== 'serve') return undefined;
  if (env['TORGO_CONFIG'] || args.some((a) => a === '--config' || a.startsWith('--config=')))
    return undefined;
  const settings = settingsFromEnv(env);
  return settings && relaunch(settings, { ...start, env });
}

/** The `node` settings the environment gives over the defaults, or undefined for anything unplain. */
function settingsFromEnv(env: Readonly<Record<string, string | undefined>>): StartSettings | undefined {
  const gc = env['TORGO_NODE_SINGLE_THREADED_GC'];
  const semi = env['TORGO_NODE_MAX_SEMI_SPACE_MIB'];
  const arenas = env['TORGO_NODE_MALLOC_ARENA_MAX'];
  if (gc !== undefined && gc !== 'true' && gc !== 'false') return undefined;
  const plain = (v: string | undefined, max: number) =>
    v === undefined || (/^(0|[1-9]\d{0,3})$/.test(v) && Number(v) <= max);
  if (!plain(semi, SEMI_SPACE_MAX_MIB) || !plain(arenas, MALLOC_ARENA_MAX_LIMIT)) return undefined;
  return {
    singleThreadedGc: gc === undefined ? DEFAULT_START_SETTINGS.singleThreadedGc : gc === 'true',
    maxSemiSpaceMiB: semi === undefined ? DEFAULT_START_SETTINGS.maxSemiSpaceMiB : Number(semi),
    mallocArenaMax: arenas === undefined ? DEFAULT_START_SETTINGS.mallocArenaMax : Number(arenas),
  };
}

/** The environment `torgo serve` adds to this process's by default (what the steady benchmark's floor runs with too). */
export function defaultStartEnv(): Record<string, string> {
  return missingEnv(DEFAULT_START_SETTINGS, { env: process.env });
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
