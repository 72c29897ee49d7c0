/** File access for CLI commands: bounded reads, 0600 secrets, no silent overwrites of keys. */
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import { CliError, EXIT_USAGE } from './errors.js';

/** Reads a file no larger than `limit` bytes (checked before reading, so a huge file is refused cheaply). */
export async function readBounded(path: string, limit: number, what: string): Promise<Uint8Array> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new CliError(`cannot read ${what} ${path}: ${(e as Error).message}`, EXIT_USAGE, 'E_IO');
  }
  if (size > limit)
    throw new CliError(`${what} ${path} is ${size} bytes; the limit is ${limit}`, EXIT_USAGE, 'E_IO');
  return new Uint8Array(await readFile(path));
}

export async function readText(path: string, limit: number, what: string): Promise<string> {
  return new TextDecoder().decode(await readBounded(path, limit, what));
}

/** Writes a secret with mode 0600, refusing to replace an existing file unless `force`. */
export async function writeSecret(path: string, data: string, force = false): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, force ? 'w' : 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError(`${path} exists; refusing to overwrite a key (use --force)`, EXIT_USAGE, 'E_EXISTS');
    }
    throw e;
  }
  try {
    await handle.chmod(0o600); // the mode of an existing file is not changed by open()
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writePublic(path: string, data: string | Uint8Array): Promise<void> {
  await writeFile(path, data, { mode: 0o644 });
}
