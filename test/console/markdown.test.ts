/** The console's receipt Markdown reader: a tree of text, never markup. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInline, parseMarkdown } from '../../console/src/markdown.js';

test('inline: code, strong, emphasis, links; unmatched markers and snake_case stay text', () => {
  assert.deepEqual(parseInline('a `b*c*` **d _e_** [f](https://x.example/y) g_h_i * j'), [
    { type: 'text', text: 'a ' },
    { type: 'code', text: 'b*c*' },
    { type: 'text', text: ' ' },
    {
      type: 'strong',
      children: [
        { type: 'text', text: 'd ' },
        { type: 'em', children: [{ type: 'text', text: 'e' }] },
      ],
    },
    { type: 'text', text: ' ' },
    { type: 'link', children: [{ type: 'text', text: 'f' }], href: 'https://x.example/y' },
    { type: 'text', text: ' g_h_i * j' },
  ]);
  assert.deepEqual(parseInline('\\*not em\\*'), [{ type: 'text', text: '*not em*' }]);
});

test('HTML is text: nothing in a receipt becomes markup', () => {
  const blocks = parseMarkdown(['<script>alert(1)</script>', '<img src=x onerror=alert(1)>']);
  assert.deepEqual(blocks, [
    {
      type: 'paragraph',
      content: [{ type: 'text', text: '<script>alert(1)</script> <img src=x onerror=alert(1)>' }],
    },
  ]);
});

test('blocks: headings, paragraphs, quotes, nested lists, numbered lists, fenced code', () => {
  const blocks = parseMarkdown([
    '### Step',
    'one line',
    'and the next',
    '',
    '- a',
    '  - a.1',
    '- b',
    '> quoted',
    '3. third',
    '4. fourth',
    '~~~ text',
    '## not a heading inside code',
    '~~~',
  ]);
  assert.deepEqual(
    blocks.map((b) => b.type),
    ['heading', 'paragraph', 'list', 'quote', 'list', 'code'],
  );
  const [heading, para, bullets, , numbers, code] = blocks;
  assert.deepEqual(heading, { type: 'heading', level: 3, content: [{ type: 'text', text: 'Step' }] });
  assert.deepEqual(para, { type: 'paragraph', content: [{ type: 'text', text: 'one line and the next' }] });
  assert.ok(bullets?.type === 'list' && !bullets.ordered && bullets.items.length === 2);
  assert.deepEqual(bullets.items[0]!.children, [
    {
      type: 'list',
      ordered: false,
      start: 1,
      items: [{ content: [{ type: 'text', text: 'a.1' }], children: [] }],
    },
  ]);
  assert.ok(numbers?.type === 'list' && numbers.ordered && numbers.start === 3 && numbers.items.length === 2);
  assert.deepEqual(code, { type: 'code', info: 'text', text: '## not a heading inside code' });
});
