/** `torgo serve`: run the gateway in the foreground until SIGTERM/SIGINT (docs/operations.md). */
import type { Command } from 'commander';
import { CliError, EXIT_USAGE } from '../errors.js';
import type { Output } from '../output.js';
import { ensureStartSettings } from '../young-generation.js';

interface ServeFlags {
  config?: string;
  data?: string;
  host?: string;
  port?: string;
  ledger?: string;
  logLevel?: string;
  adminTokenFile?: string;
  bootstrapAdmin?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsGroups?: string;
  requirePostQuantum?: boolean;
  tlsClientCa?: string;
  tlsClientAuth?: string;
  logOperatorTokenFile?: string;
}

export function addServe(program: Command, output: Output): void {
  program
    .command('serve')
    .description('run the HTTP gateway (embedded ledger in ./data on 127.0.0.1:8080 by default)')
    .option('--config <file>', 'JSON config file (env TORGO_CONFIG)')
    .option('--data <dir>', 'data directory (env TORGO_DATA, default ./data)')
    .option('--host <host>', 'listen address (env TORGO_HOST, default 127.0.0.1)')
    .option('--port <port>', 'listen port, 0 for any free port (env TORGO_PORT, default 8080)')
    .option('--ledger <driver>', 'embedded or fabric (env TORGO_LEDGER)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (env TORGO_LOG_LEVEL)')
    .option(
      '--admin-token-file <file>',
      'write a bootstrap admin token to this new file (0600) instead of printing it',
    )
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate chain (env TORGO_TLS_CERT)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert (env TORGO_TLS_KEY)')
    .option(
      '--tls-groups <list>',
      'key-exchange groups, OpenSSL syntax (env TORGO_TLS_GROUPS, default "X25519MLKEM768:SecP256r1MLKEM768 / X25519:P-256:P-384")',
    )
    .option(
      '--require-post-quantum',
      'refuse TLS clients that offer no post-quantum key exchange (env TORGO_TLS_REQUIRE_POST_QUANTUM)',
    )
    .option('--tls-client-ca <file>', 'PEM CA of client certificates, mutual TLS (env TORGO_TLS_CLIENT_CA)')
    .option('--tls-client-auth <mode>', 'off, optional or required (env TORGO_TLS_CLIENT_AUTH)')
    .option(
      '--bootstrap-admin',
      'rotate the bootstrap admin token even though tokens exist (lost admin token; the old one is revoked)',
    )
    .option(
      '--log-operator-token-file <file>',
      "mint (or rotate) the log operator identity's token into this new file (0600): the only way to one",
    )
    .action(async (flags: ServeFlags) => {
      if (flags.port !== undefined && !/^\d{1,5}$/.test(flags.port))
        throw new CliError('--port must be a number', EXIT_USAGE);
      const { ConfigError, loadConfig } = await import('../../gateway/config.js');
      let config: ReturnType<typeof loadConfig>;
      try {
        config = loadConfig({
          file: flags.config,
          env: process.env,
          overrides: {
            dataDir: flags.data,
            host: flags.host,
            port: flags.port === undefined ? undefined : Number(flags.port),
            ledger: flags.ledger,
            'log.level': flags.logLevel,
            'tls.cert': flags.tlsCert,
            'tls.key': flags.tlsKey,
            'tls.groups': flags.tlsGroups,
            'tls.requirePostQuantum': flags.requirePostQuantum,
            'tls.clientCa': flags.tlsClientCa,
            'tls.clientAuth': flags.tlsClientAuth,
          },
        });
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError(e.message, EXIT_USAGE, e.code);
        throw e;
      }
      // Before anything is opened or written: the process may replace itself here.
      ensureStartSettings(config.node, output.replaceProcess, (line) => output.err(`torgo: ${line}\n`));
      const { startGateway } = await import('../../gateway/server.js');
      let gateway: Awaited<ReturnType<typeof startGateway>>;
      try {
        gateway = await startGateway(config, {
          notice: output.err,
          adminTokenFile: flags.adminTokenFile,
          bootstrapAdmin: flags.bootstrapAdmin,
          logOperatorTokenFile: flags.logOperatorTokenFile,
          handleSignals: true,
        });
      } catch (e) {
        // Settings that can only be checked by reading files (TLS certificates) fail here.
        if (e instanceof ConfigError) throw new CliError(e.message, EXIT_USAGE, e.code);
        throw e;
      }
      await gateway.closed;
      // Shut down cleanly; if a client library still holds a handle (fabric-network 2.2's gRPC
      // channels can outlive Gateway.disconnect()), it must not keep the stopped process alive.
      setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
    });
}
