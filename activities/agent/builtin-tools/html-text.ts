/**
 * HTML to text a model can read: headings as `#` lines, paragraphs and list items on their own
 * lines, links as "text (url)", table cells joined by " | "; scripts, styles, navigation and
 * hidden elements dropped. A forgiving tokenizer, not a full HTML5 parser: unclosed and
 * misnested tags are tolerated (an end tag closes everything opened after its start tag).
 */
import { decodeEntities } from './html-entities.js';

export interface HtmlText {
  title?: string;
  text: string;
}

/** Content never shown: code, styling, chrome. (`head` needs no entry: its elements show nothing.) */
// biome-ignore format: a word list reads better packed
const SKIP = new Set([
  'script', 'style', 'noscript', 'template', 'svg', 'nav', 'iframe', 'object', 'embed', 'canvas', 'select', 'button',
]);
/** Their content runs to the matching end tag without markup inside. */
// biome-ignore format: a word list reads better packed
const RAW_TEXT = new Set([
  'script', 'style', 'title', 'textarea', 'xmp', 'iframe', 'noembed', 'noframes',
]);
// biome-ignore format: a word list reads better packed
const VOID = new Set([
  'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source',
  'track', 'wbr',
]);
// biome-ignore format: a word list reads better packed
const PARAGRAPH = new Set([
  'p', 'blockquote', 'pre', 'table', 'figure', 'dl', 'details',
]);
// biome-ignore format: a word list reads better packed
const BLOCK = new Set([
  'html', 'body', 'div', 'section', 'article', 'main', 'header', 'footer', 'aside', 'address', 'figcaption', 'summary',
  'dt', 'dd', 'tr', 'thead', 'tbody', 'tfoot', 'caption', 'form', 'fieldset', 'legend', 'center', 'li',
  'option',
]);

// Written so that no input makes them backtrack more than linearly (the name cannot overlap the rest).
const START_TAG = /<([a-zA-Z][^\s/>]*)((?:[\s/](?:[^>"']|"[^"]*"|'[^']*')*)?)>/y;
const END_TAG = /<\/([a-zA-Z][^\s/>]*)(?:[\s/][^>]*)?>/y;
/** Deeper nesting is not tracked (keeps a hostile page from making each tag cost the depth). */
const MAX_DEPTH = 1000;
const ATTRIBUTE = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;

interface Open {
  name: string;
  /** Output mark when a link opened, to find its text. */
  linkMark?: number;
  href?: string;
  /** Items so far, for ordered lists; cells so far, for table rows. */
  count?: number;
}

export function htmlToText(html: string, baseUrl?: string): HtmlText {
  const out = new TextOut();
  const stack: Open[] = [];
  let skipUntil = -1; // stack depth of the element whose content is dropped; -1 = none
  let title: string | undefined;
  let base = baseUrl;
  let i = 0;
  const lower = html.toLowerCase();
  // How many of each element are open: a stray end tag costs nothing, not a search of the stack.
  const opened = new Map<string, number>();
  const push = (el: Open) => {
    stack.push(el);
    opened.set(el.name, (opened.get(el.name) ?? 0) + 1);
  };

  const close = (index: number) => {
    while (stack.length > index) {
      const el = stack.pop()!;
      opened.set(el.name, opened.get(el.name)! - 1);
      if (skipUntil === -1) onEnd(el);
      else if (skipUntil === stack.length) skipUntil = -1;
    }
  };
  const onEnd = (el: Open) => {
    if (el.name === 'a' && el.href !== undefined) {
      const label = out.textSince(el.linkMark!).trim();
      if (label && label !== el.href) out.text(` (${el.href})`);
    } else if (/^h[1-6]$/.test(el.name) || PARAGRAPH.has(el.name)) out.block(2);
    else if (BLOCK.has(el.name)) out.block(1);
    if (el.name === 'pre') out.pre--;
    if (el.name === 'ul' || el.name === 'ol') {
      out.depth--;
      out.block(out.depth === 0 ? 2 : 1);
    }
  };

  while (i < html.length) {
    if (html[i] !== '<') {
      const next = html.indexOf('<', i);
      const end = next === -1 ? html.length : next;
      if (skipUntil === -1) out.text(decodeEntities(html.slice(i, end)));
      i = end;
      continue;
    }
    if (html.startsWith('<!--', i)) {
      const end = html.indexOf('-->', i + 4);
      i = end === -1 ? html.length : end + 3;
      continue;
    }
    if (html[i + 1] === '!' || html[i + 1] === '?') {
      const end = html.indexOf('>', i);
      i = end === -1 ? html.length : end + 1;
      continue;
    }
    END_TAG.lastIndex = i;
    const endTag = END_TAG.exec(html);
    // A tag that never ends swallows the rest of the page, as in browsers.
    if (!endTag && html[i + 1] === '/' && /[a-zA-Z]/.test(html[i + 2] ?? '')) break;
    if (endTag) {
      i = END_TAG.lastIndex;
      const name = endTag[1]!.toLowerCase();
      const at = opened.get(name) ? stack.findLastIndex((el) => el.name === name) : -1;
      if (at !== -1) close(at);
      else if (name === 'br' || name === 'p') out.block(name === 'p' ? 2 : 1); // `</br>`, stray `</p>`
      continue;
    }
    START_TAG.lastIndex = i;
    const startTag = START_TAG.exec(html);
    if (!startTag) {
      if (/[a-zA-Z]/.test(html[i + 1] ?? '')) break;
      if (skipUntil === -1) out.text('<');
      i++;
      continue;
    }
    i = START_TAG.lastIndex;
    const name = startTag[1]!.toLowerCase();
    const attrs = attributes(startTag[2]!);
    const selfClosing = startTag[2]!.trimEnd().endsWith('/');

    if (RAW_TEXT.has(name) && !selfClosing) {
      const closeAt = lower.indexOf(`</${name}`, i);
      const content = html.slice(i, closeAt === -1 ? html.length : closeAt);
      const after = closeAt === -1 ? -1 : html.indexOf('>', closeAt);
      i = after === -1 ? html.length : after + 1;
      if (name === 'title' && title === undefined && !opened.get('svg')) {
        title = collapse(decodeEntities(content)).trim() || undefined;
      } else if (name === 'textarea' && skipUntil === -1) out.text(decodeEntities(content));
      continue;
    }
    if (name === 'base' && attrs.href) base = resolve(attrs.href, base) ?? base;
    if (skipUntil !== -1) {
      if (!VOID.has(name) && !selfClosing && stack.length < MAX_DEPTH) push({ name });
      continue;
    }
    // Implied end tags: a new item closes the previous one.
    if (name === 'li' || name === 'dt' || name === 'dd' || name === 'tr' || name === 'td' || name === 'th') {
      const scope =
        name === 'li' ? ['ul', 'ol'] : name === 'tr' ? ['table'] : name.startsWith('d') ? ['dl'] : ['tr'];
      const siblings =
        name === 'li' ? ['li'] : name === 'tr' ? ['tr'] : name.startsWith('d') ? ['dt', 'dd'] : ['td', 'th'];
      for (let k = stack.length - 1; k >= 0 && !scope.includes(stack[k]!.name); k--) {
        if (siblings.includes(stack[k]!.name)) {
          close(k);
          break;
        }
      }
    } else if (name === 'p' && stack.at(-1)?.name === 'p') close(stack.length - 1);

    if (VOID.has(name) || selfClosing) {
      if (name === 'br') out.lineBreak();
      else if (name === 'hr') {
        out.block(2);
        out.text('---');
        out.block(2);
      } else if (name === 'img' && attrs.alt?.trim()) {
        const inLink = Boolean(opened.get('a'));
        out.text(inLink ? ` ${attrs.alt} ` : ` [image: ${attrs.alt.trim()}] `);
      }
      continue;
    }
    const el: Open = { name };
    if (stack.length >= MAX_DEPTH) continue;
    push(el);
    if (SKIP.has(name) || 'hidden' in attrs || attrs['aria-hidden'] === 'true') {
      skipUntil = stack.length - 1;
      continue;
    }
    const heading = /^h([1-6])$/.exec(name);
    if (heading) {
      out.block(2);
      out.marker(`${'#'.repeat(Number(heading[1]))} `);
    } else if (PARAGRAPH.has(name)) out.block(2);
    else if (BLOCK.has(name)) out.block(1);

    if (name === 'ul' || name === 'ol') {
      // A list nested in an item continues it; a top-level list is a paragraph of its own.
      out.block(out.depth === 0 ? 2 : 1);
      out.depth++;
      el.count = 0;
    } else if (name === 'li') {
      const list = stack.findLast((e) => e.name === 'ul' || e.name === 'ol');
      if (list) list.count = (list.count ?? 0) + 1;
      const n = list?.count ?? 1;
      out.marker(list?.name === 'ol' ? `${n}. ` : '- ');
    } else if (name === 'tr') el.count = 0;
    else if (name === 'td' || name === 'th') {
      const row = stack.findLast((e) => e.name === 'tr');
      if (row) row.count = (row.count ?? 0) + 1;
      if ((row?.count ?? 0) > 1) out.text(' | ');
    } else if (name === 'pre') out.pre++;
    else if (name === 'a') {
      const href = attrs.href?.trim();
      if (href && !href.startsWith('#') && !/^javascript:/i.test(href)) {
        el.href = resolve(href, base) ?? href;
        el.linkMark = out.mark();
      }
    }
  }
  close(0);
  return { ...(title ? { title } : {}), text: out.finish() };
}

function attributes(source: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of source.matchAll(ATTRIBUTE)) {
    const name = m[1]!.toLowerCase();
    if (!(name in attrs)) attrs[name] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attrs;
}

function resolve(href: string, base: string | undefined): string | undefined {
  try {
    return new URL(href, base).href;
  } catch {
    return undefined;
  }
}

function collapse(text: string): string {
  return text.replace(/[\s\u00a0]+/g, ' ');
}

/** Accumulates text: inline whitespace collapsed, block breaks merged, list markers and indents. */
class TextOut {
  private parts: string[] = [];
  private length = 0;
  private breaks = 0;
  private space = false;
  private lineStart = true;
  private pendingMarker: string | undefined;
  depth = 0;
  pre = 0;

  text(raw: string) {
    if (this.pre > 0) return this.preText(raw);
    const text = collapse(raw);
    if (text.startsWith(' ')) this.space = true;
    const trimmed = text.trim();
    if (!trimmed) return;
    this.openLine();
    if (!this.lineStart && this.space) this.push(' ');
    if (this.lineStart) this.push(this.indent());
    this.push(trimmed);
    this.lineStart = false;
    this.space = text.endsWith(' ');
  }

  private preText(raw: string) {
    // The newline right after <pre> is not content.
    const text = this.lineStart && this.breaks > 0 ? raw.replace(/^\r?\n/, '') : raw;
    if (!text) return;
    this.openLine();
    if (this.lineStart) this.push(this.indent());
    this.push(text);
    this.lineStart = text.endsWith('\n');
    this.space = false;
  }

  /** At least `n` line breaks before the next text (1 = new line, 2 = blank line). */
  block(n: number) {
    this.breaks = Math.max(this.breaks, n);
    this.space = false;
  }

  lineBreak() {
    if (this.length > 0) this.breaks++;
    this.space = false;
  }

  /** Printed before the next text of this line: a list bullet or heading hashes. */
  marker(text: string) {
    this.block(1);
    this.pendingMarker = text;
  }

  mark() {
    return this.parts.length;
  }

  textSince(mark: number) {
    return this.parts.slice(mark).join('');
  }

  finish(): string {
    return this.parts
      .join('')
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  }

  private openLine() {
    if (this.breaks > 0 && this.length > 0) {
      this.push('\n'.repeat(this.breaks));
      this.lineStart = true;
    }
    this.breaks = 0;
  }

  private indent() {
    const marker = this.pendingMarker;
    this.pendingMarker = undefined;
    const pad = '  '.repeat(Math.max(0, this.depth - 1));
    return marker ? pad + marker : this.depth > 0 ? `${pad}  ` : '';
  }

  private push(s: string) {
    this.parts.push(s);
    this.length += s.length;
  }
}
