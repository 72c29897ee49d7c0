// Entry point for `node --test dist/test/engine/`: Node 24 takes a directory argument as a module path
// (this file), not as a folder to search, so this imports the folder's test files. `npm test` globs
// `*.test.js` files and runs them directly; it never loads this one.
import './crash.test.js';
import './ledger.test.js';
import './stub.test.js';
import './validator.test.js';
