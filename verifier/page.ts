/** The verifier page's UI: pick or drop a bundle and trusted keys, verify, show the CLI's report. */
import {
  type BundleReport,
  bundleLines,
  CoreError,
  formatReport,
  importPublicKey,
  inThreadChecker,
  isCoreError,
  MAX_BUNDLE_LINE_BYTES,
  type PublicKey,
  type ReceiptChecker,
  type TrustedKey,
  verifyBundleBytes,
} from '../core/index.js';
import { WebWorkerPool } from './pool.js';

/** The CLI's exit statuses, shown so a reader can compare with `torgo verify`. */
const EXIT_OK = 0;
const EXIT_INVALID = 1;
const EXIT_USAGE = 2;
/** The verdict's headline per outcome (the report below says the rest). */
const HEADLINES: Record<BundleReport['outcome'], string> = {
  valid: 'VALID',
  'valid-unsigned': 'VALID, BUT AN UNSIGNED EXPORT',
  'nothing-to-verify': 'NOTHING TO VERIFY',
  invalid: 'INVALID',
  unusable: 'NOT A BUNDLE',
};
/** `torgo verify` reads at most this much of a trusted key file. */
const MAX_KEY_BYTES = 64 * 1024;

interface KeyFile {
  readonly fileName: string;
  readonly pem: string;
  readonly key?: PublicKey;
  readonly error?: string;
  name: string;
}

class UsageError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; title?: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className) e.className = props.className;
  if (props.text !== undefined) e.textContent = props.text;
  if (props.title) e.title = props.title;
  e.append(...children);
  return e;
}

function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
}

/** A File's bytes as an async iterable of chunks (ReadableStream's own iterator is not everywhere). */
async function* chunksOf(blob: Blob): AsyncGenerator<Uint8Array> {
  const reader = blob.stream().getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** The header's origin, read from the first line only (as `torgo verify` does, to name `--trust` keys). */
async function bundleOrigin(file: File): Promise<string> {
  try {
    for await (const line of bundleLines(chunksOf(file.slice(0, MAX_BUNDLE_LINE_BYTES + 1)))) {
      const o = JSON.parse(line) as { type?: string; origin?: unknown };
      if (o.type === 'header' && typeof o.origin === 'string') return o.origin;
      break;
    }
  } catch {
    // reported below, as the CLI does
  }
  throw new UsageError('E_BUNDLE_SYNTAX', `${file.name} is not a TORGO bundle (no header line)`);
}

async function readKeyFile(file: File): Promise<KeyFile> {
  if (file.size > MAX_KEY_BYTES) {
    return { fileName: file.name, pem: '', name: '', error: `larger than ${MAX_KEY_BYTES} bytes` };
  }
  const pem = await file.text();
  try {
    return { fileName: file.name, pem, name: '', key: importPublicKey(pem) };
  } catch (e) {
    return { fileName: file.name, pem, name: '', error: (e as Error).message };
  }
}

/** Checks in this thread, yielding to the page between batches so progress stays visible. */
const yieldingChecker: ReceiptChecker = {
  async check(jobs, context) {
    await new Promise((r) => setTimeout(r, 0));
    return inThreadChecker().check(jobs, context);
  },
};

function makeChecker(): { checker: ReceiptChecker; threads: number } {
  const size = Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 8));
  try {
    const text = byId('torgo-verifier').textContent ?? '';
    const url = URL.createObjectURL(new Blob([text], { type: 'text/javascript' }));
    const pool = new WebWorkerPool(url, size);
    return {
      threads: size,
      checker: {
        check: (jobs, context) => pool.check(jobs, context),
        checkFrames: (batch, context) => pool.checkFrames(batch, context),
        close: async () => {
          await pool.close();
          URL.revokeObjectURL(url);
        },
      },
    };
  } catch {
    return { checker: yieldingChecker, threads: 0 };
  }
}

export function startPage(): void {
  let bundle: File | undefined;
  let keys: KeyFile[] = [];
  let running = false;
  let jsonUrl: string | undefined;

  const bundleInput = byId<HTMLInputElement>('bundle-file');
  const keysInput = byId<HTMLInputElement>('key-files');
  const drop = byId('drop');
  const bundleInfo = byId('bundle-info');
  const keyList = byId('key-list');
  const threshold = byId<HTMLInputElement>('threshold');
  const verifyButton = byId<HTMLButtonElement>('verify');
  const progress = byId<HTMLProgressElement>('progress');
  const progressText = byId('progress-text');
  const verdict = byId('verdict');
  const report = byId('report');
  const jsonLink = byId<HTMLAnchorElement>('report-json');

  const refresh = () => {
    bundleInfo.replaceChildren(
      bundle
        ? el('span', { text: `${bundle.name} — ${bundle.size.toLocaleString('en')} bytes` })
        : el('span', { className: 'muted', text: 'no bundle chosen' }),
    );
    keyList.replaceChildren(
      ...keys.map((k, i) => {
        const name = el('input');
        name.type = 'text';
        name.value = k.name;
        name.placeholder = "the bundle's origin";
        name.setAttribute('aria-label', `note name for ${k.fileName}`);
        name.addEventListener('input', () => {
          k.name = name.value.trim();
        });
        const remove = el('button', { text: 'remove', className: 'link' });
        remove.type = 'button';
        remove.addEventListener('click', () => {
          keys = keys.filter((_, j) => j !== i);
          refresh();
        });
        return el(
          'li',
          { className: k.error ? 'bad' : '' },
          el('strong', { text: k.fileName }),
          ' ',
          k.key
            ? el('code', { text: `${k.key.alg} ${k.key.keyId.slice(0, 16)}…`, title: k.key.keyId })
            : el('span', { text: `not a usable public key: ${k.error ?? ''}` }),
          ' ',
          el('label', {}, 'name ', name),
          ' ',
          remove,
        );
      }),
    );
    if (keys.length === 0)
      keyList.replaceChildren(el('li', { className: 'muted', text: 'no trusted key yet' }));
    verifyButton.disabled = running || !bundle || keys.length === 0;
  };

  const addFiles = async (files: readonly File[]) => {
    for (const file of files) {
      const head = await file.slice(0, 64).text();
      if (head.includes('-----BEGIN') || file.name.endsWith('.pem')) keys.push(await readKeyFile(file));
      else bundle = file;
    }
    refresh();
  };

  bundleInput.addEventListener('change', () => {
    bundle = bundleInput.files?.[0] ?? bundle;
    refresh();
  });
  keysInput.addEventListener('change', async () => {
    for (const f of keysInput.files ?? []) keys.push(await readKeyFile(f));
    keysInput.value = '';
    refresh();
  });
  for (const type of ['dragenter', 'dragover'] as const) {
    drop.addEventListener(type, (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
  }
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    void addFiles([...(e.dataTransfer?.files ?? [])]);
  });

  const show = (status: number, headline: string, text: string, data?: BundleReport) => {
    verdict.className = status === EXIT_OK ? 'verdict ok' : 'verdict bad';
    verdict.replaceChildren(
      el('strong', { text: headline }),
      el('span', { className: 'muted', text: ` — torgo verify would exit ${status}` }),
    );
    report.textContent = text;
    if (jsonUrl) URL.revokeObjectURL(jsonUrl);
    jsonUrl = undefined;
    jsonLink.hidden = !data;
    if (data) {
      jsonUrl = URL.createObjectURL(new Blob([`${JSON.stringify(data)}\n`], { type: 'application/json' }));
      jsonLink.href = jsonUrl;
    }
  };

  const verify = async (file: File) => {
    const n = Number(threshold.value);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new UsageError('E_USAGE', 'the threshold must be a positive integer');
    if (keys.length === 0) throw new UsageError('E_USAGE', 'give at least one trusted key');
    const origin = await bundleOrigin(file);
    const trusted: TrustedKey[] = keys.map((k) => {
      if (!k.key) throw new UsageError('E_KEY_INVALID', `${k.fileName}: ${k.error ?? 'not a public key'}`);
      return { name: k.name || origin, key: k.key };
    });
    const { checker, threads } = makeChecker();
    let bytes = 0;
    const started = performance.now();
    progress.hidden = false;
    progress.max = Math.max(file.size, 1);
    progress.value = 0;
    const report = await verifyBundleBytes(chunksOf(file), {
      trusted,
      onBytes: (b) => {
        bytes += b;
        progress.value = bytes;
      },
      threshold: n,
      checker,
      parallelism: Math.max(threads, 1) * 2,
      onProgress: (count) => {
        const pct = Math.min(100, Math.round((bytes / Math.max(file.size, 1)) * 100));
        const rate = Math.round(count / Math.max((performance.now() - started) / 1000, 0.001));
        progressText.textContent = `${pct}% — ${count.toLocaleString('en')} receipts, ${rate.toLocaleString('en')}/s`;
      },
    });
    progress.value = progress.max;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    progressText.textContent = `${report.counts.receipts.toLocaleString('en')} receipts in ${seconds} s on ${threads || 1} thread${threads === 1 ? '' : 's'}${threads ? '' : ' (no workers here)'}`;
    const status = report.valid ? EXIT_OK : report.unusable ? EXIT_USAGE : EXIT_INVALID;
    show(status, HEADLINES[report.outcome], formatReport(report), report);
  };

  verifyButton.addEventListener('click', async () => {
    if (!bundle || running) return;
    running = true;
    refresh();
    verdict.className = 'verdict';
    verdict.textContent = 'verifying…';
    report.textContent = '';
    jsonLink.hidden = true;
    try {
      await verify(bundle);
    } catch (e) {
      const code =
        e instanceof UsageError || isCoreError(e) ? (e as UsageError | CoreError).code : 'E_INTERNAL';
      show(EXIT_USAGE, 'UNUSABLE INPUT', `torgo: ${code}: ${(e as Error).message}\n`);
    } finally {
      running = false;
      refresh();
    }
  });
  refresh();
}
