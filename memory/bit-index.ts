/**
 * An in-memory coarse index for large stores: one bit per dimension (the sign of the vector
 * minus the mean vector, so the bits split the data evenly; MiniLM's vectors share a large common
 * component that makes raw signs nearly constant), compared by Hamming distance, plus an int8
 * copy of each vector (scaled per vector) to re-rank the Hamming candidates closely. It only picks
 * candidates: the backend scores the best of them exactly from their float32 vectors. 100,000
 * chunks of 384 dimensions take 4.8 MB of bits and 38 MB of int8 here.
 */
export class BitIndex {
  private readonly words: number;
  private ids = new Float64Array(1024);
  private codes: Uint32Array;
  private slots = new Map<number, number>();
  private used = 0;
  private removed = 0;
  private mean: Float32Array;
  private bytes: Int8Array;
  private scales = new Float32Array(1024);

  constructor(readonly dims: number) {
    this.words = Math.ceil(dims / 32);
    this.codes = new Uint32Array(1024 * this.words);
    this.bytes = new Int8Array(1024 * dims);
    this.mean = new Float32Array(dims);
  }

  get size(): number {
    return this.used - this.removed;
  }

  /** True when enough has changed since the mean was taken that a rebuild pays. */
  get worn(): boolean {
    return this.removed > this.used / 4;
  }

  /** Rebuilds from every vector (the mean is taken over them first). */
  build(rows: Array<{ id: number; vector: Float32Array }>): void {
    this.mean = new Float32Array(this.dims);
    for (const { vector } of rows) for (let d = 0; d < this.dims; d++) this.mean[d]! += vector[d]!;
    for (let d = 0; d < this.dims; d++) this.mean[d]! /= Math.max(1, rows.length);
    this.ids = new Float64Array(Math.max(1024, rows.length));
    this.codes = new Uint32Array(this.ids.length * this.words);
    this.bytes = new Int8Array(this.ids.length * this.dims);
    this.scales = new Float32Array(this.ids.length);
    this.slots.clear();
    this.used = 0;
    this.removed = 0;
    for (const row of rows) this.add(row.id, row.vector);
  }

  add(id: number, vector: Float32Array): void {
    this.remove(id);
    if (this.used === this.ids.length) {
      const ids = new Float64Array(this.ids.length * 2);
      ids.set(this.ids);
      const codes = new Uint32Array(ids.length * this.words);
      codes.set(this.codes);
      const bytes = new Int8Array(ids.length * this.dims);
      bytes.set(this.bytes);
      const scales = new Float32Array(ids.length);
      scales.set(this.scales);
      this.ids = ids;
      this.codes = codes;
      this.bytes = bytes;
      this.scales = scales;
    }
    const slot = this.used++;
    this.ids[slot] = id;
    this.encode(vector, this.codes, slot * this.words);
    let max = 0;
    for (let d = 0; d < this.dims; d++) max = Math.max(max, Math.abs(vector[d]!));
    const scale = max > 0 ? 127 / max : 1;
    const base = slot * this.dims;
    let norm = 0;
    for (let d = 0; d < this.dims; d++) {
      const q = Math.round(vector[d]! * scale);
      this.bytes[base + d] = q;
      norm += q * q;
    }
    // Dividing by the quantised vector's own length makes the int8 dot product a cosine.
    this.scales[slot] = 1 / (Math.sqrt(norm) || 1);
    this.slots.set(id, slot);
  }

  remove(id: number): void {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    this.ids[slot] = -1;
    this.slots.delete(id);
    this.removed++;
  }

  /**
   * The ids of the `keep` vectors nearest to `query`: the `n` nearest by Hamming distance,
   * re-ranked by the cosine of their int8 copies.
   */
  nearest(query: Float32Array, n: number, keep: number): number[] {
    const slots = this.candidateSlots(query, n);
    let qn = 0;
    for (let d = 0; d < this.dims; d++) qn += query[d]! * query[d]!;
    const scored = slots.map((slot) => {
      const base = slot * this.dims;
      let dot = 0;
      for (let d = 0; d < this.dims; d++) dot += query[d]! * this.bytes[base + d]!;
      return { id: this.ids[slot]!, score: (dot * this.scales[slot]!) / (Math.sqrt(qn) || 1) };
    });
    return scored
      .sort((a, b) => b.score - a.score)
      .slice(0, keep)
      .map((s) => s.id);
  }

  /** The ids of the `n` vectors nearest to `query` by Hamming distance (ties: any). */
  candidates(query: Float32Array, n: number): number[] {
    return this.candidateSlots(query, n).map((slot) => this.ids[slot]!);
  }

  private candidateSlots(query: Float32Array, n: number): number[] {
    const q = new Uint32Array(this.words);
    this.encode(query, q, 0);
    const distances = new Uint16Array(this.used);
    const histogram = new Uint32Array(this.words * 32 + 1);
    for (let slot = 0; slot < this.used; slot++) {
      if (this.ids[slot] === -1) continue;
      let h = 0;
      const base = slot * this.words;
      for (let w = 0; w < this.words; w++) h += popcount(this.codes[base + w]! ^ q[w]!);
      distances[slot] = h;
      histogram[h]!++;
    }
    // The distance below which `n` vectors lie; then one pass collects them.
    let limit = 0;
    let below = 0;
    while (limit < histogram.length && below + histogram[limit]! < n) below += histogram[limit++]!;
    let atLimit = n - below;
    const out: number[] = [];
    for (let slot = 0; slot < this.used; slot++) {
      if (this.ids[slot] === -1) continue;
      const d = distances[slot]!;
      if (d < limit || (d === limit && atLimit-- > 0)) out.push(slot);
    }
    return out;
  }

  private encode(vector: Float32Array, out: Uint32Array, offset: number): void {
    for (let w = 0; w < this.words; w++) {
      let bits = 0;
      for (let b = 0; b < 32; b++) {
        const d = w * 32 + b;
        if (d < this.dims && vector[d]! > this.mean[d]!) bits |= 1 << b;
      }
      out[offset + w] = bits >>> 0;
    }
  }
}

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
