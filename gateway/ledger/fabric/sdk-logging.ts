/**
 * Quiets the Fabric 2.2 SDK (fabric-common, used by fabric-network and fabric-ca-client): by default
 * it prints winston lines to the console — endorsement failures with the peers' full answers among
 * them — beside the gateway's structured logs. Every failure it logs is also thrown to this
 * gateway, which maps and logs it itself. fabric-common takes a logger from `global.hfc.logger` when
 * it creates its module loggers, at import time: import this module before any of those packages.
 */
type Log = (...args: unknown[]) => void;
const quiet: Log = () => {};
const holder = globalThis as { hfc?: { logger?: Record<'debug' | 'info' | 'warn' | 'error', Log> } };
holder.hfc ??= {};
holder.hfc.logger ??= { debug: quiet, info: quiet, warn: quiet, error: quiet };
