/**
 * Serves the auditor console (console/, built by `npm run build:console` into dist/web/console/)
 * at /console/. The files are read once at start and served from memory; only those files exist,
 * so no request path ever reaches the file system. The pages are public — the console asks for
 * an auditor token and sends it on each API call — and are sent with a CSP that allows nothing
 * but this origin, so no CDN and no third party is ever contacted.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { GatewayError } from '../errors.js';

export const CONSOLE_PREFIX = '/console/';
/** dist/gateway/http/ → dist/web/console/ */
export const CONSOLE_ROOT = fileURLToPath(new URL('../../web/console/', import.meta.url));

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
  /** Vite puts content-hashed names under assets/: those never change. */
  readonly immutable: boolean;
}

async function loadFiles(root: string): Promise<Map<string, StaticFile>> {
  const files = new Map<string, StaticFile>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const rel = path.relative(root, full).split(path.sep).join('/');
        const body = await readFile(full);
        files.set(rel, {
          body,
          type: TYPES[path.extname(entry.name)] ?? 'application/octet-stream',
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
          immutable: rel.startsWith('assets/'),
        });
      }
    }
  };
  await walk(root);
  return files;
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cross-origin-resource-policy', 'same-origin');
}

/** GET /console and /console/* (a plugin: register it before the app listens). */
export const consoleRoutes: FastifyPluginAsyncTypebox<{ root?: string }> = async (app, options) => {
  const root = options.root ?? CONSOLE_ROOT;
  const files = await loadFiles(root).catch(() => new Map<string, StaticFile>());
  const config = { public: true, rateLimit: false };

  app.get('/console', { config, schema: { hide: true } }, async (_request, reply) =>
    reply.redirect(CONSOLE_PREFIX, 308),
  );
  const params = Type.Object({ '*': Type.String() });
  app.get(`${CONSOLE_PREFIX}*`, { config, schema: { hide: true, params } }, async (request, reply) => {
    const wanted = request.params['*'] || 'index.html';
    const file = files.get(wanted);
    if (!file) {
      if (!files.has('index.html')) {
        return secure(reply)
          .code(503)
          .type('text/plain; charset=utf-8')
          .send(
            'The auditor console is not built: run `npm run build:console` (npm run build does it too).\n',
          );
      }
      throw new GatewayError('E_ROUTE_NOT_FOUND', `no console file ${CONSOLE_PREFIX}${wanted}`);
    }
    secure(reply)
      .type(file.type)
      .header('etag', file.etag)
      .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    return reply.send(file.body);
  });
};
