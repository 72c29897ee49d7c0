/**
 * The gateway's own log destination (server.ts): pino to stdout, buffered (docs/operations.md §Logs).
 */
import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

/** How often buffered log lines are written at the latest (config `log.bufferBytes`). */
export const LOG_FLUSH_MS = 1000;

export interface GatewayLog {
  readonly logger: Logger;
  /** Writes what is buffered, synchronously. */
  flush(): void;
  /** Final flush; stops the flush timer and the exit hook. */
  close(): void;
}

/**
 * The gateway's own structured log: pino, JSON lines when stdout is not a terminal (for collectors),
 * pino-pretty's readable lines when it is. Authorization headers and cookies are redacted.
 *
 * JSON lines are gathered up to `bufferBytes` and written in one synchronous `write` (sonic-boom's
 * `minLength`), at least every LOG_FLUSH_MS, after the listening line, at shutdown and on exit: at
 * one access line per request that is one `write` per ~10 requests instead of one per request
 * (docs/performance.md §10). A process killed with SIGKILL loses what was buffered: at most
 * `bufferBytes` of lines from the last second (docs/operations.md §Logs). 0: every line at once.
 */
export function createGatewayLog(
  level: string,
  format: 'json' | 'pretty',
  bufferBytes: number,
  where: { readonly fd?: number; readonly flushMs?: number } = {},
): GatewayLog {
  const { fd = 1, flushMs = LOG_FLUSH_MS } = where;
  const options = {
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
  };
  if (format === 'pretty') {
    // Colours where the terminal supports them (NO_COLOR and FORCE_COLOR are honoured).
    const logger = pino(
      options,
      pretty({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true }),
    );
    return { logger, flush: () => {}, close: () => {} };
  }
  const destination = pino.destination({ dest: fd, sync: true, minLength: bufferBytes });
  // flush(), not flushSync(): in sync mode it writes at once too, and flushSync also fsyncs the file.
  const flush = (): void => {
    if (bufferBytes > 0) destination.flush();
  };
  const timer = bufferBytes > 0 ? setInterval(flush, flushMs).unref() : undefined;
  process.on('exit', flush);
  return {
    logger: pino(options, destination),
    flush,
    close: () => {
      clearInterval(timer);
      process.off('exit', flush);
      flush();
    },
  };
}
