/**
 * Hybrid ranking, the same for every backend: each candidate's score is
 * `vectorWeight × cosine similarity + textWeight × text score`, where the text score maps the
 * backend's keyword relevance s ≥ 0 (BM25) to s / (1 + s) in [0, 1). OpenClaw weighs 0.7 / 0.3.
 * A candidate found by one retriever only gets 0 from the other.
 */
export interface Candidate {
  id: string;
  path: string;
  startLine: number;
  endLine: number;
  text: string;
}

export interface VectorCandidate extends Candidate {
  /** Cosine similarity, -1…1. */
  similarity: number;
}

export interface TextCandidate extends Candidate {
  /** Keyword relevance ≥ 0, larger is better (−bm25 for FTS5, the sparse dot product for Qdrant). */
  relevance: number;
}

export interface Hit extends Omit<Candidate, 'id'> {
  score: number;
  vectorScore: number;
  textScore: number;
}

export interface HybridWeights {
  vectorWeight: number;
  textWeight: number;
}

export function textScore(relevance: number): number {
  const s = Math.max(0, relevance);
  return s / (1 + s);
}

export function fuse(
  vector: readonly VectorCandidate[],
  text: readonly TextCandidate[],
  weights: HybridWeights,
): Hit[] {
  const total = weights.vectorWeight + weights.textWeight || 1;
  const wv = weights.vectorWeight / total;
  const wt = weights.textWeight / total;
  const byId = new Map<string, Hit>();
  const entry = (c: Candidate) => {
    let hit = byId.get(c.id);
    if (!hit) {
      hit = {
        path: c.path,
        startLine: c.startLine,
        endLine: c.endLine,
        text: c.text,
        score: 0,
        vectorScore: 0,
        textScore: 0,
      };
      byId.set(c.id, hit);
    }
    return hit;
  };
  for (const c of vector) entry(c).vectorScore = Math.max(0, c.similarity);
  for (const c of text) entry(c).textScore = textScore(c.relevance);
  const hits = [...byId.values()];
  for (const hit of hits) hit.score = wv * hit.vectorScore + wt * hit.textScore;
  return hits.sort((a, b) => b.score - a.score || a.path.localeCompare(b.path) || a.startLine - b.startLine);
}
