// Builds the auditor console into dist/web/console/, served by the gateway at /console/
// (gateway/http/console.ts). Everything is bundled: no CDN, no request leaves the gateway's origin.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/web/console', import.meta.url)),
    emptyOutDir: true,
    target: ['chrome109', 'firefox115', 'safari16'],
    // One script and one stylesheet: no inline code, so the gateway's CSP can say script-src 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
});
