/**
 * Where commands write, and what they may do to the process they run in: injectable so tests capture
 * output, and run commands in-process without the process being replaced under them.
 */
export interface Output {
  out(text: string): void;
  err(text: string): void;
  /**
   * Replaces the running process with the argument vector given (argv[0] first; `process.execve`,
   * same process id), its environment with `env` added. Only the real process's output has it;
   * `torgo serve` uses it to start again with its start settings (cli/young-generation.ts).
   */
  readonly replaceProcess?:
    | ((args: readonly string[], env?: Readonly<Record<string, string>>) => void)
    | undefined;
}

const execve = process.execve;

export const processOutput: Output = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  // Absent where Node has no process.execve (Windows).
  replaceProcess:
    typeof execve === 'function'
      ? (args, env = {}) => execve(process.execPath, [...args], { ...process.env, ...env })
      : undefined,
};
