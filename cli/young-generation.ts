/**
 * `torgo serve`'s young generation (`node.maxSemiSpaceMiB`, docs/operations.md): V8 sizes its
 * semi-spaces when the process starts, from the command line and NODE_OPTIONS, and
 * `v8.setFlagsFromString` afterwards does not resize them (measured: the new space still grows to
 * Node's default). So a serve process that was started without the flag replaces itself, before
 * it opens or writes anything, with the same program run with it — `process.execve`, which keeps
 * the process id, so a service manager, `kill` and /proc see the same process. Whichever way it is
 * started (`bin/torgo.js`, `npm start`, a unit file) gets the setting; a flag given explicitly on
 * the command line or in NODE_OPTIONS is left as it is.
 */

export const SEMI_SPACE_FLAG = '--max-semi-space-size';

/** What the decision reads of the running process. */
export interface ProcessStart {
  readonly execPath: string;
  readonly execArgv: readonly string[];
  /** `process.argv`: the node binary, the script, then the script's arguments. */
  readonly argv: readonly string[];
  readonly nodeOptions: string | undefined;
}

/** True if the process was started with `--max-semi-space-size` (command line or NODE_OPTIONS). */
export function hasSemiSpaceFlag(start: Pick<ProcessStart, 'execArgv' | 'nodeOptions'>): boolean {
  const given = (arg: string) => arg === SEMI_SPACE_FLAG || arg.startsWith(`${SEMI_SPACE_FLAG}=`);
  return start.execArgv.some(given) || (start.nodeOptions ?? '').split(/\s+/).some(given);
}

/**
 * The argument vector (argv[0] first) to run this process again with a `semiSpaceMiB` semi-space, or
 * undefined when it should go on as it is: 0 asked (Node's default), or the flag already given.
 */
export function relaunchArgs(semiSpaceMiB: number, start: ProcessStart): string[] | undefined {
  if (semiSpaceMiB === 0 || hasSemiSpaceFlag(start)) return undefined;
  return [start.execPath, `${SEMI_SPACE_FLAG}=${semiSpaceMiB}`, ...start.execArgv, ...start.argv.slice(1)];
}

/**
 * Replaces this process with itself run with the young generation asked (see above) through
 * `replace` (the CLI's `Output.replaceProcess`), or returns if none is needed. Without `replace` (no
 * `process.execve`, or a command run in-process by a test) the process goes on with Node's default,
 * and `notice` says so when a change was asked.
 */
export function ensureYoungGeneration(
  semiSpaceMiB: number,
  replace: ((args: readonly string[]) => void) | undefined,
  notice: (line: string) => void,
): void {
  const args = relaunchArgs(semiSpaceMiB, {
    execPath: process.execPath,
    execArgv: process.execArgv,
    argv: process.argv,
    nodeOptions: process.env['NODE_OPTIONS'],
  });
  if (!args) return;
  if (!replace) {
    notice(
      `node.maxSemiSpaceMiB ${semiSpaceMiB} not applied (this process cannot restart itself): start Node with ${SEMI_SPACE_FLAG}=${semiSpaceMiB}`,
    );
    return;
  }
  replace(args);
}
