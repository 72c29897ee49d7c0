/** Markdown trees (markdown.ts) as DOM nodes: text only, links shown but never followed. */
import { h } from './dom.js';
import type { Block, Inline } from './markdown.js';

function inline(nodes: readonly Inline[]): Node[] {
  return nodes.map(inlineNode);
}

function inlineNode(n: Inline): Node {
  switch (n.type) {
    case 'text':
      return document.createTextNode(n.text);
    case 'code':
      return h('code', null, n.text);
    case 'strong':
      return h('strong', null, ...inline(n.children));
    case 'em':
      return h('em', null, ...inline(n.children));
    case 'link':
      // Evidence is read, not browsed: the target is shown, not made clickable.
      return h(
        'span',
        { class: 'md-link', title: n.href },
        ...inline(n.children),
        h('span', { class: 'muted' }, ` ⟨${n.href}⟩`),
      );
  }
}

function blockNode(b: Block): Node {
  switch (b.type) {
    case 'heading': {
      const tag = (['h3', 'h4', 'h5', 'h6'] as const)[Math.min(Math.max(b.level, 3), 6) - 3]!;
      return h(tag, null, ...inline(b.content));
    }
    case 'paragraph':
      return h('p', null, ...inline(b.content));
    case 'quote':
      return h('blockquote', null, ...inline(b.content));
    case 'code':
      return h('pre', { class: 'code', 'data-info': b.info || undefined }, h('code', null, b.text));
    case 'list': {
      const items = b.items.map((it) => h('li', null, ...inline(it.content), ...renderBlocks(it.children)));
      return b.ordered
        ? h('ol', { start: b.start === 1 ? undefined : b.start }, ...items)
        : h('ul', null, ...items);
    }
  }
}

export function renderBlocks(blocks: readonly Block[]): Node[] {
  return blocks.map(blockNode);
}
