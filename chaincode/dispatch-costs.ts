/**
 * Two per-transaction costs of fabric-shim 2.5.8's dispatcher that buy nothing in one long-lived
 * process, removed without changing what the dispatcher does or what anyone sees (measured in
 * docs/performance.md). Applied where the contract runs: the embedded engine (engine/shim.ts) and a
 * Fabric peer's contract process (index.ts), where the shim also logs every message it exchanges
 * with the peer — several per state read or write.
 *
 * 1. Every invoke builds a ClientIdentity, which parses the creator's certificate with @fidm/x509 —
 *    the same few certificates over and over. The parse is memoised by the exact PEM text; the parsed
 *    Certificate is only read (subject, issuer, extensions), so sharing it changes nothing.
 * 2. winston runs every message through its formatters (timestamp, metadata, colours, printf) before
 *    its transports drop those below the level, and the shim logs debug messages for every message to
 *    and from the peer. A message is now dropped before formatting when `isLevelEnabled` — the same
 *    level test the transports apply — says no transport would write it.
 */
import { createRequire } from 'node:module';

const CERTIFICATE_MEMO_LIMIT = 1024;
let trimmed = false;

/** `require` as the shim itself resolves: the chaincode bundle is CommonJS, tsc's output ES modules. */
function shimRequire(): NodeJS.Require {
  const own = typeof require === 'function' ? require : createRequire(import.meta.url);
  return createRequire(own.resolve('fabric-shim'));
}

export function trimDispatchCosts(): void {
  if (trimmed) return;
  trimmed = true;
  const requireFromShim = shimRequire();

  type Parse = (pem: string | Buffer) => unknown;
  const { Certificate } = requireFromShim('@fidm/x509') as { Certificate: { fromPEM: Parse } };
  const parse = Certificate.fromPEM.bind(Certificate);
  const parsed = new Map<string, unknown>();
  Certificate.fromPEM = (pem) => {
    const key = typeof pem === 'string' ? pem : pem.toString('latin1');
    let certificate = parsed.get(key);
    if (certificate === undefined) {
      certificate = parse(pem);
      if (parsed.size >= CERTIFICATE_MEMO_LIMIT) parsed.clear();
      parsed.set(key, certificate);
    }
    return certificate;
  };

  const LEVEL = Symbol.for('level'); // triple-beam's LEVEL, which winston and its transports read
  type WinstonLogger = {
    write(info: unknown, ...rest: unknown[]): boolean;
    isLevelEnabled(level: string): boolean;
  };
  const winston = requireFromShim('winston') as { Logger: { prototype: WinstonLogger } };
  const proto = winston.Logger.prototype;
  const write = proto.write;
  proto.write = function (this: WinstonLogger, info: unknown, ...rest: unknown[]): boolean {
    const level = (info as Record<symbol, unknown> | null)?.[LEVEL];
    if (typeof level === 'string' && !this.isLevelEnabled(level)) return true;
    return write.call(this, info, ...rest);
  };
}
