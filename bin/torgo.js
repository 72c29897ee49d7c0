#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript under dist/ (npm run build). `npx torgo` and npm
// scripts run it on the project's pinned Node 24 (the `node` devDependency); a bare `node` may be older.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `torgo: E_NODE_VERSION: Node ${process.version} is too old (needs ≥ 22.12): run \`npx torgo\`, ` +
      "which uses the project's pinned Node 24\n",
  );
  process.exit(2);
}
// `torgo serve`'s V8 start flags, applied before the CLI loads when only defaults and the environment
// speak (cli/young-generation.ts): a restart after loading it would pay for loading it twice.
if (typeof process.execve === 'function') {
  const { earlyRelaunch } = await import('../dist/cli/young-generation.js');
  const start = {
    execPath: process.execPath,
    execArgv: process.execArgv,
    argv: process.argv,
    nodeOptions: process.env.NODE_OPTIONS,
  };
  const again = earlyRelaunch(start, process.env);
  if (again) process.execve(process.execPath, again.args, { ...process.env, ...again.env });
}
const { main } = await import('../dist/cli/main.js');

process.exitCode = await main(process.argv);
