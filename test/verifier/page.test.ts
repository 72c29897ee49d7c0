/**
 * The offline verifier page in headless Chromium, opened from file:// with every request
 * blocked: it must never try one, and must give the same report as `torgo verify` for valid,
 * tampered and unusable bundles.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { publicKey, publicKeyToPem } from '../../core/index.js';
import { torgo } from '../cli/run.js';
import { launchBrowser, screenshot, watchErrors } from '../console/browser.js';
import { tempDir } from '../gateway/helpers.js';
import { bundleText, buildLog, operatorKey } from '../gateway/logbuilder/fixture.js';

test('verifier page: offline, no request at all, the same report and reasons as torgo verify', async (t) => {
  const browser = await launchBrowser(t);
  if (!browser) return;
  const dir = await tempDir(t, 'torgo-verifier-page-');
  const p = (n: string) => path.join(dir, n);
  const log = await buildLog();
  t.after(() => log.close());
  const text = await bundleText(log);
  const lines = text.split('\n');
  const cases: Record<string, string> = {
    'valid.jsonl': text,
    // One letter of a receipt's mirrored text.
    'tampered-receipt.jsonl': text.replace('hctab', 'hctaB'),
    // The first hash of a receipt's inclusion proof.
    'tampered-proof.jsonl': lines
      .map((l) =>
        l.includes('"type":"receipt"') && !l.includes('hctaX')
          ? l.replace(/"proof":\["[A-Za-z0-9+/]/, '"proof":["A')
          : l,
      )
      .join('\n'),
    // The last receipt dropped: the manifest no longer adds up.
    'dropped-receipt.jsonl': [...lines.slice(0, -3), ...lines.slice(-2)].join('\n'),
    'not-a-bundle.jsonl': 'hello\n',
  };
  for (const [name, body] of Object.entries(cases)) await writeFile(p(name), body);
  await writeFile(p('operator.pub.pem'), publicKeyToPem(publicKey(operatorKey.alg, operatorKey.publicKey)));
  await writeFile(p('relay.pub.pem'), publicKeyToPem(log.relay));

  // The CLI writes the page; it must be one file that references nothing outside itself.
  const page = p('verify.html');
  const written = await torgo('verifier-page', '-o', page);
  assert.equal(written.code, 0, written.stderr);
  const html = await readFile(page, 'utf8');
  assert.match(
    html,
    /<meta http-equiv="Content-Security-Policy" content="default-src 'none';[^"]*connect-src 'none'/,
  );
  assert.doesNotMatch(html, /<(?:script|img|link|iframe)[^>]+(?:src|href)=/i);
  assert.equal((await torgo('verifier-page', '-o', page)).code, 2, 'no silent overwrite');

  const url = pathToFileURL(page).href;
  const context = await browser.newContext({ acceptDownloads: false });
  const tab = await context.newPage();
  tab.setDefaultTimeout(15_000);
  const errors = watchErrors(tab);
  const requests: string[] = [];
  tab.on('request', (r) => requests.push(r.url()));
  // Every request is blocked but the page's own file.
  await tab.route('**/*', (r) => (r.request().url() === url ? r.continue() : r.abort()));
  await tab.goto(url);
  assert.equal(await tab.title(), 'TORGO offline bundle verifier');

  const verify = async (bundle: string, keys: string[]): Promise<{ verdict: string; report: string }> => {
    await tab.setInputFiles('#bundle-file', p(bundle));
    if (keys.length) await tab.setInputFiles('#key-files', keys.map(p));
    await tab.click('#verify');
    // Locators, not waitForFunction: the page's CSP forbids the eval that one needs.
    await tab.locator('#verdict', { hasText: /exit \d/ }).waitFor();
    await tab.locator('#verify:not([disabled])').waitFor();
    return {
      verdict: (await tab.textContent('#verdict')) ?? '',
      report: (await tab.textContent('#report')) ?? '',
    };
  };

  // Valid: the CLI's exact report.
  let r = await verify('valid.jsonl', ['operator.pub.pem']);
  let cli = await torgo('verify', p('valid.jsonl'), '--trust', p('operator.pub.pem'), '--workers', '0');
  assert.equal(cli.code, 0);
  assert.match(r.verdict, /^VALID — torgo verify would exit 0/);
  assert.equal(r.report, cli.stdout);
  assert.match((await tab.textContent('#progress-text')) ?? '', /4 receipts in/);
  await screenshot(tab, dir, 'verifier-valid');

  // Each tampering: rejected with the CLI's codes and reasons, word for word.
  for (const name of ['tampered-receipt.jsonl', 'tampered-proof.jsonl', 'dropped-receipt.jsonl']) {
    r = await verify(name, []);
    cli = await torgo('verify', p(name), '--trust', p('operator.pub.pem'), '--workers', '0');
    assert.equal(cli.code, 1, name);
    assert.match(r.verdict, /^INVALID — torgo verify would exit 1/, name);
    assert.equal(r.report, cli.stdout, name);
    if (name === 'tampered-receipt.jsonl') {
      assert.match(
        r.report,
        /E_BUNDLE_DIGEST_MISMATCH: receipt 01JDQ3J7E5V2W8X9Y0Z1A2B001: its text does not hash/,
      );
      await screenshot(tab, dir, 'verifier-tampered');
    }
    if (name === 'tampered-proof.jsonl') assert.match(r.report, /E_PROOF_INVALID/);
  }

  // The wrong trusted key: the checkpoint signature is refused, as by the CLI.
  while ((await tab.locator('#key-list button').count()) > 0)
    await tab.locator('#key-list button').first().click();
  r = await verify('valid.jsonl', ['relay.pub.pem']);
  cli = await torgo('verify', p('valid.jsonl'), '--trust', p('relay.pub.pem'), '--workers', '0');
  assert.equal(cli.code, 1);
  assert.equal(r.report, cli.stdout);
  assert.match(r.report, /E_CHECKPOINT_SIGNATURE/);

  // Not a bundle at all: unusable input (exit 2), same code.
  r = await verify('not-a-bundle.jsonl', []);
  cli = await torgo('verify', p('not-a-bundle.jsonl'), '--trust', p('operator.pub.pem'));
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /E_BUNDLE_SYNTAX: .* is not a TORGO bundle \(no header line\)/);
  assert.match(r.verdict, /would exit 2/);
  assert.match(
    r.report,
    /^torgo: E_BUNDLE_SYNTAX: not-a-bundle\.jsonl is not a TORGO bundle \(no header line\)/,
  );

  assert.deepEqual(requests, [url], 'the page made no request but loading itself');
  assert.deepEqual(errors, []);
  await context.close();
});
