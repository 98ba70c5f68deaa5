// A multiset of small integers with its minimum and maximum: counts per value
// over a range that grows as values arrive. Adding and removing are O(1); the
// extremes are recomputed by a scan only after the last copy of one leaves.
// The incremental engine keeps its NormalizeScore extremes in these (values:
// per-node taint counts, preferred-affinity sums, pod counts, affinity sums).
export class Histogram {
  private counts = new Int32Array(16);
  /** The value counts[0] stands for. */
  private lo = 0;
  private minV = Infinity;
  private maxV = -Infinity;
  private stale = false;
  size = 0;

  add(v: number): void {
    if (v < this.lo || v >= this.lo + this.counts.length) this.grow(v);
    const i = v - this.lo;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.size++;
    if (v < this.minV) this.minV = v;
    if (v > this.maxV) this.maxV = v;
  }

  /** Removes one copy of v, which must be present. */
  remove(v: number): void {
    const i = v - this.lo;
    const left = (this.counts[i] as number) - 1;
    this.counts[i] = left;
    this.size--;
    if (left === 0 && (v === this.minV || v === this.maxV)) this.stale = true;
  }

  clear(): void {
    this.counts.fill(0);
    this.size = 0;
    this.minV = Infinity;
    this.maxV = -Infinity;
    this.stale = false;
  }

  /** The smallest value present; +∞ when empty. */
  min(): number {
    if (this.stale) this.refresh();
    return this.minV;
  }

  /** The largest value present; -∞ when empty. */
  max(): number {
    if (this.stale) this.refresh();
    return this.maxV;
  }

  private refresh(): void {
    this.stale = false;
    this.minV = Infinity;
    this.maxV = -Infinity;
    if (this.size === 0) return;
    const { counts } = this;
    let i = 0;
    while (counts[i] === 0) i++;
    this.minV = this.lo + i;
    let j = counts.length - 1;
    while (counts[j] === 0) j--;
    this.maxV = this.lo + j;
  }

  private grow(v: number): void {
    const old = this.counts;
    const oldLo = this.lo;
    const lo = Math.min(oldLo, v);
    const hi = Math.max(oldLo + old.length, v + 1);
    let len = old.length;
    while (len < hi - lo) len *= 2;
    // Leave room on the side that grew, so a slowly moving extreme does not reallocate every time.
    const newLo = v < oldLo ? hi - len : lo;
    this.counts = new Int32Array(len);
    this.counts.set(old, oldLo - newLo);
    this.lo = newLo;
  }
}
