/**
 * HTML to text a model can read, with maintained libraries: an article page (a story, a blog
 * post: what Mozilla's Readability recognises, over a linkedom DOM) is cut down to its article,
 * headed by its headline and byline; any other page (docs, tables, a parish notice board) is
 * read whole, minus navigation, scripts and hidden parts. Either way html-to-text writes the
 * text: headings as `#` lines, paragraphs and list items on their own lines, links as
 * "text (url)" with URLs made absolute, data tables one row per line with cells joined by " | ".
 */
import { createRequire } from 'node:module';
import { compile, type DomNode, type FormatCallback, type SelectorDefinition } from 'html-to-text';

// linkedom and Readability (some 180 modules) load with the first page read, not with every
// worker (issue 13); both ship CommonJS, so they load synchronously here.
const require = createRequire(import.meta.url);
let dom: { parseHTML: typeof import('linkedom').parseHTML } | undefined;
let reader: typeof import('@mozilla/readability') | undefined;
const parseHTML = (html: string) => {
  dom ??= require('linkedom') as { parseHTML: typeof import('linkedom').parseHTML };
  return dom.parseHTML(html);
};
const readability = () => {
  reader ??= require('@mozilla/readability') as typeof import('@mozilla/readability');
  return reader;
};

export interface HtmlText {
  title?: string;
  text: string;
}

/** Elements never shown as text: code, styling, chrome, controls, hidden parts. */
const SKIP = [
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'iframe',
  'object',
  'embed',
  'canvas',
  'select',
  'button',
  'nav',
  '[role=navigation]',
  '[hidden]',
  '[aria-hidden=true]',
];

/** Bounds that keep a hostile page (deep nesting, huge child lists) from costing more than a normal one. */
const LIMITS = { maxDepth: 200, maxChildNodes: 20_000, maxInputLength: 16 * 1024 * 1024, ellipsis: '…' };

export function htmlToText(html: string, baseUrl?: string): HtmlText {
  // htmlparser2 (under linkedom and html-to-text) pays the depth of the open elements for each
  // tag: fine for pages, quadratic for a hostile one. Such a page is read as bare text.
  const tags = scanTags(html);
  if (tags.tooDeep) return { text: converter(baseUrl)(bareText(html)) };
  // Readability is for articles; a page of tens of thousands of elements is read whole.
  if (tags.count > MAX_ARTICLE_TAGS) return { ...titleOf(html), text: converter(baseUrl)(html) };
  const { document } = parseHTML(html);
  const title = pageTitle(document);
  const baseHref = document.querySelector('base[href]')?.getAttribute('href');
  const base = (baseHref && resolve(baseHref, baseUrl)) || baseUrl;
  const article = readArticle(document);
  if (article) {
    const head = [
      article.title ? `# ${collapse(article.title)}` : '',
      article.byline ? collapse(article.byline) : '',
    ].filter(Boolean);
    const body = converter(base)(article.content);
    return { ...(title ? { title } : {}), text: [...head, body].filter(Boolean).join('\n\n') };
  }
  return { ...(title ? { title } : {}), text: converter(base)(html) };
}

/** Elements whose end tag is implied by the next sibling: unclosed ones do not nest. */
const IMPLIED_END = new Set(['p', 'li', 'dt', 'dd', 'tr', 'td', 'th', 'option', 'optgroup', 'rt', 'rp']);
const VOID = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'param',
  'source',
  'track',
  'wbr',
]);
const MAX_NESTING = 512;
const MAX_ARTICLE_TAGS = 30_000;
const TAG_NAME = /(\/?)([a-zA-Z][a-zA-Z0-9:-]*)/y;

/** One pass over the tags (each `<` looked at once, no regex backtracking): how many, and is the nesting absurdly deep? */
function scanTags(html: string): { count: number; tooDeep: boolean } {
  let depth = 0;
  let count = 0;
  for (let at = html.indexOf('<'); at !== -1; at = html.indexOf('<', at + 1)) {
    TAG_NAME.lastIndex = at + 1;
    const tag = TAG_NAME.exec(html);
    if (!tag) continue;
    count++;
    const name = tag[2]!.toLowerCase();
    if (VOID.has(name) || IMPLIED_END.has(name)) continue;
    if (tag[1]) depth = Math.max(0, depth - 1);
    else if (++depth > MAX_NESTING) return { count, tooDeep: true };
  }
  return { count, tooDeep: false };
}

/** The `<title>` of a page too large for a DOM: the first one, read from the text. */
function titleOf(html: string): { title?: string } {
  const lower = html.toLowerCase();
  const start = lower.indexOf('<title');
  const open = start === -1 ? -1 : lower.indexOf('>', start);
  const end = open === -1 ? -1 : lower.indexOf('</title', open);
  if (end === -1) return {};
  const title = collapse(converter(undefined)(html.slice(open + 1, end)));
  return title ? { title } : {};
}

/** The text of a page whose structure is not worth parsing: comments, code and tags out, in one pass. */
function bareText(html: string): string {
  const lower = html.toLowerCase();
  const parts: string[] = [];
  let at = 0;
  while (at < html.length) {
    const open = html.indexOf('<', at);
    if (open === -1) {
      parts.push(html.slice(at));
      break;
    }
    parts.push(html.slice(at, open), ' ');
    let end: number;
    if (html.startsWith('<!--', open)) end = lower.indexOf('-->', open + 4) + 2;
    else {
      TAG_NAME.lastIndex = open + 1;
      const name = TAG_NAME.exec(html)?.[2]?.toLowerCase();
      const close = html.indexOf('>', open);
      end = close;
      if (close !== -1 && name && ['script', 'style', 'noscript', 'template'].includes(name)) {
        const endTag = lower.indexOf(`</${name}`, close);
        end = endTag === -1 ? -1 : lower.indexOf('>', endTag);
      }
    }
    if (end < 0) break; // an unclosed tag or comment runs to the end
    at = end + 1;
  }
  return parts.join('');
}

/** The page's `<title>` (the first one outside an inline SVG), whitespace collapsed. */
function pageTitle(document: Document): string | undefined {
  const element = [...document.querySelectorAll('title')].find((t) => !t.closest('svg'));
  return collapse(element?.textContent ?? '') || undefined;
}

/** The article of a page that reads like one; undefined for anything else (or when Readability gives up). */
function readArticle(document: Document): { title?: string; byline?: string; content: string } | undefined {
  try {
    const { isProbablyReaderable, Readability } = readability();
    if (!isProbablyReaderable(document)) return undefined;
    const article = new Readability(document, { charThreshold: 500 }).parse();
    if (!article?.content || !article.textContent?.trim()) return undefined;
    return {
      content: article.content,
      ...(article.title ? { title: article.title } : {}),
      ...(article.byline ? { byline: article.byline } : {}),
    };
  } catch {
    return undefined; // a page Readability cannot take is read whole
  }
}

const converters = new Map<string, (html: string) => string>();

/** html-to-text compiled once per base URL (links are made absolute against it). */
function converter(base: string | undefined): (html: string) => string {
  const key = base ?? '';
  let convert = converters.get(key);
  if (!convert) {
    const compiled = compile({
      wordwrap: false,
      whitespaceCharacters: ' \t\r\n\f\u200b\u00a0',
      limits: LIMITS,
      formatters: { markdownHeading, pipeTable, imageAlt, numberedList },
      selectors: [
        ...SKIP.map((selector): SelectorDefinition => ({ selector, format: 'skip' })),
        ...[1, 2, 3, 4, 5, 6].map(
          (level): SelectorDefinition => ({
            selector: `h${level}`,
            format: 'markdownHeading',
            options: { leadingLineBreaks: 2, trailingLineBreaks: 2, prefix: `${'#'.repeat(level)} ` },
          }),
        ),
        {
          selector: 'a',
          options: {
            linkBrackets: ['(', ')'],
            hideLinkHrefIfSameAsText: true,
            pathRewrite: (href: string) => linkTarget(href, base),
          },
        },
        { selector: 'img', format: 'imageAlt' },
        { selector: 'ul', options: { itemPrefix: '- ' } },
        { selector: 'ol', format: 'numberedList', options: { leadingLineBreaks: 2, trailingLineBreaks: 2 } },
        { selector: 'hr', options: { length: 3 } },
        { selector: 'table', format: 'pipeTable', options: { leadingLineBreaks: 2, trailingLineBreaks: 2 } },
      ],
    });
    convert = (html: string) => tidy(compiled(html));
    if (converters.size > 100) converters.clear();
    converters.set(key, convert);
  }
  return convert;
}

/**
 * An absolute URL for a link; '' (the link text alone) for script links. html-to-text has taken
 * `mailto:` off already: an e-mail address stays as it is (and is not repeated after its text).
 */
function linkTarget(href: string, base: string | undefined): string {
  const trimmed = href.trim();
  if (/^javascript:/i.test(trimmed)) return '';
  if (/^[^/:?#\s]+@[^/\s]+$/.test(trimmed)) return trimmed;
  return resolve(trimmed, base) ?? trimmed;
}

/** `## Heading` on a line of its own. */
const markdownHeading: FormatCallback = (elem, walk, builder, options) => {
  builder.openBlock({ leadingLineBreaks: options.leadingLineBreaks ?? 2 });
  builder.addInline(String((options as { prefix?: string }).prefix ?? ''), { noWordTransform: true });
  walk(elem.children, builder);
  builder.closeBlock({ trailingLineBreaks: options.trailingLineBreaks ?? 2 });
};

/** `1. item` (html-to-text's own ordered list puts a space before the number). */
const numberedList: FormatCallback = (elem, walk, builder, options) => {
  const nested = elem.parent?.name === 'li';
  const start = Number(elem.attribs?.start ?? '1');
  const items = childTags(elem).filter((child) => child.name === 'li');
  if (items.length === 0) return;
  const prefixes = items.map((_, i) => `${(Number.isFinite(start) ? start : 1) + i}. `);
  builder.openList({
    interRowLineBreaks: 1,
    leadingLineBreaks: nested ? 1 : (options.leadingLineBreaks ?? 2),
    maxPrefixLength: Math.max(...prefixes.map((p) => p.length)),
    prefixAlign: 'left',
  });
  items.forEach((item, i) => {
    builder.openListItem({ prefix: prefixes[i] });
    walk(item.children, builder);
    builder.closeListItem();
  });
  builder.closeList({ trailingLineBreaks: nested ? 1 : (options.trailingLineBreaks ?? 2) });
};

/** An image shows as its alt text: inside a link, just the words; elsewhere `[image: …]`. */
const imageAlt: FormatCallback = (elem, _walk, builder) => {
  const alt = elem.attribs?.alt?.trim();
  if (!alt) return;
  builder.addInline(insideLink(elem) ? alt : `[image: ${alt}]`);
};

function insideLink(elem: DomNode): boolean {
  for (let node = elem.parent; node; node = node.parent) if (node.name === 'a') return true;
  return false;
}

/**
 * A data table as one line per row, cells joined by " | ", its caption above; a layout table
 * (one row or column, nested tables, `role=presentation`) as the blocks it holds.
 */
const pipeTable: FormatCallback = (elem, walk, builder, options) => {
  const rows = rowsOf(elem);
  if (!isDataTable(elem, rows)) {
    builder.openBlock({ leadingLineBreaks: 1 });
    walk(elem.children, builder);
    builder.closeBlock({ trailingLineBreaks: 1 });
    return;
  }
  const caption = childTags(elem).find((child) => child.name === 'caption');
  if (caption) {
    builder.openBlock({ leadingLineBreaks: options.leadingLineBreaks ?? 2 });
    walk(caption.children, builder);
    builder.closeBlock({ trailingLineBreaks: 1 });
  }
  builder.openTable();
  for (const row of rows) {
    builder.openTableRow();
    for (const cell of childTags(row).filter((c) => c.name === 'td' || c.name === 'th')) {
      builder.openTableCell();
      walk(cell.children, builder);
      builder.closeTableCell();
    }
    builder.closeTableRow();
  }
  builder.closeTable({
    tableToString: (cells) =>
      cells.map((row) => row.map((cell) => collapse(cell.text)).join(' | ')).join('\n'),
    leadingLineBreaks: caption ? 1 : (options.leadingLineBreaks ?? 2),
    trailingLineBreaks: options.trailingLineBreaks ?? 2,
  });
};

function childTags(elem: DomNode): DomNode[] {
  return (elem.children ?? []).filter((child) => child.type === 'tag');
}

/** The table's own rows (not those of tables nested in it). */
function rowsOf(table: DomNode): DomNode[] {
  return childTags(table).flatMap((child) =>
    child.name === 'tr'
      ? [child]
      : ['thead', 'tbody', 'tfoot'].includes(child.name ?? '')
        ? childTags(child).filter((row) => row.name === 'tr')
        : [],
  );
}

/** Readability's test, shortened: what marks a table as data rather than page layout. */
function isDataTable(table: DomNode, rows: DomNode[]): boolean {
  if (table.attribs?.role === 'presentation') return false;
  if (hasDescendant(table, (node) => node.name === 'table')) return false;
  const cells = rows.map((row) => childTags(row).filter((c) => c.name === 'td' || c.name === 'th'));
  if (
    table.attribs?.summary ||
    childTags(table).some((c) => ['caption', 'thead', 'tfoot'].includes(c.name ?? ''))
  ) {
    return true;
  }
  if (cells.some((row) => row.some((c) => c.name === 'th'))) return true;
  const columns = Math.max(0, ...cells.map((row) => row.length));
  if (rows.length <= 1 || columns <= 1) return false;
  return rows.length * columns > 10 || rows.length >= 10 || columns > 4;
}

function hasDescendant(elem: DomNode, test: (node: DomNode) => boolean): boolean {
  const todo = [...(elem.children ?? [])];
  while (todo.length > 0) {
    const node = todo.pop()!;
    if (node.type === 'tag' && test(node)) return true;
    todo.push(...(node.children ?? []));
  }
  return false;
}

function resolve(href: string, base: string | undefined): string | undefined {
  try {
    return new URL(href, base).href;
  } catch {
    return undefined;
  }
}

function collapse(text: string): string {
  return text.replace(/[\s\u00a0]+/g, ' ').trim();
}

/** Trailing spaces off every line, at most one blank line in a row. */
function tidy(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
