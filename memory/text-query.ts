/**
 * A person's question as full-text search terms: words (letters and digits, any script),
 * lower-cased, without stopwords, each quoted so nothing in it is read as FTS5 syntax (`-`, `:`,
 * `*`, `AND`, `NEAR`…). The same terms feed Qdrant's sparse vectors.
 */
const STOPWORDS = new Set(
  (
    'a about after again all am an and any are as at be been before being but by can could did do does ' +
    'doing done for from had has have having he her hers him his how i if in into is it its just me ' +
    'might must my myself no nor not now of off on once only or our ours out over own same shall she ' +
    'should so some such than that the their theirs them then there these they this those through to ' +
    'too under until up us very was we were what when where which while who whom why will with would ' +
    'you your yours yourself im ive dont didnt doesnt isnt arent wasnt tell know remember please'
  ).split(' '),
);

/** At most this many terms reach the index (a pasted page becomes its first distinct words). */
export const MAX_TERMS = 24;

export function textTerms(query: string): string[] {
  const words =
    query
      .toLowerCase()
      .normalize('NFKC')
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  const terms: string[] = [];
  for (const word of words) {
    if (STOPWORDS.has(word) || terms.includes(word)) continue;
    if (word.length === 1 && !/\p{N}/u.test(word)) continue;
    terms.push(word);
    if (terms.length === MAX_TERMS) break;
  }
  return terms;
}

/** An FTS5 MATCH expression: every term quoted, joined by AND or OR. */
export function ftsMatch(terms: readonly string[], op: 'AND' | 'OR'): string {
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(` ${op} `);
}

/** Each term of a chunk's text (stopwords left out) with how often it occurs, for sparse vectors. */
export function termCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of text
    .toLowerCase()
    .normalize('NFKC')
    .match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (STOPWORDS.has(word) || (word.length === 1 && !/\p{N}/u.test(word))) continue;
    counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}
