/** The browser tests' guard: a missing Chromium is a loud skip on a developer machine, a failure in CI. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHROMIUM, chromiumMissing, inCI } from './browser.js';

const MISSING = '/nonexistent/chromium';

test('CI is recognised as CI systems set it', () => {
  assert.equal(inCI({ CI: 'true' }), true);
  assert.equal(inCI({ CI: '1' }), true);
  assert.equal(inCI({}), false);
  assert.equal(inCI({ CI: '' }), false);
  assert.equal(inCI({ CI: 'false' }), false);
  assert.equal(inCI({ CI: '0' }), false);
});

test('a missing Chromium outside CI: skipped, and said so on stderr', () => {
  const said: string[] = [];
  const reason = chromiumMissing(MISSING, {}, (text) => said.push(text));
  assert.match(reason ?? '', /SKIPPED/);
  assert.equal(said.length, 1);
  assert.match(said[0]!, new RegExp(`!!! no ${MISSING}: browser tests SKIPPED`));
});

test('a missing Chromium in CI: the browser tests fail', () => {
  const said: string[] = [];
  assert.throws(
    () => chromiumMissing(MISSING, { CI: 'true' }, (text) => said.push(text)),
    /missing and CI is set/,
  );
  assert.deepEqual(said, []);
});

test('CI has the Chromium the browser tests drive', { skip: !inCI() && 'CI is not set' }, () => {
  assert.equal(
    chromiumMissing(CHROMIUM, process.env, () => {}),
    undefined,
  );
});
