/** Generators shared by the tests that hold byte-wise JSON and UTF-8 fast paths to their definitions. */
import fc from 'fast-check';

/**
 * Strings dense in what JSON escaping and UTF-8 treat specially: quotes, backslashes, every kind of
 * control character, U+2028/2029, non-ASCII, astral characters, lone surrogates and U+FFFD (what
 * UTF-8 encoding writes for a lone surrogate).
 */
export const trickyString = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '\n',
        '"',
        '\\',
        '\t',
        '\r',
        '\b',
        '\f',
        '\u0000',
        '\u001f',
        '\u007f',
        '\u2028',
        '\u2029',
      ),
      fc.constantFrom('é', '—', '\u{1f600}', '\ud800', '\udfff', '\ufffd', '/', 'a', ' ', '\u0080', '\u00ff'),
      fc.string({ unit: 'binary', maxLength: 6 }),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));
