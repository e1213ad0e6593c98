import type { Registry } from 'prom-client';

/**
 * Hot-path metrics. prom-client hashes and validates the label set on every observe, even
 * through a bound child (~10 µs a request here); these keep one plain record per label
 * value, bound once, and render through prom-client's registry only when scraped.
 */

interface ValuePair {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface Collectable {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram' | 'counter';
  readonly aggregator: 'sum';
  get(): { name: string; help: string; type: string; aggregator: string; values: ValuePair[] };
  reset(): void;
}

/** One label set's buckets: cumulative only when rendered. */
export class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

export class FastHistogram implements Collectable {
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  readonly #cells = new Map<string, HistogramCell>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
    /** The label the cells are keyed by, or null for a histogram without labels. */
    readonly labelName: string | null,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The cell for one label value; keep it, observing through it costs a loop and two adds. */
  cell(labelValue = ''): HistogramCell {
    let c = this.#cells.get(labelValue);
    if (!c) {
      c = new HistogramCell(this.bounds);
      this.#cells.set(labelValue, c);
    }
    return c;
  }

  observe(value: number, labelValue = ''): void {
    this.cell(labelValue).observe(value);
  }

  get(): ReturnType<Collectable['get']> {
    const values: ValuePair[] = [];
    for (const [labelValue, c] of this.#cells) {
      const base: Record<string, string> = this.labelName ? { [this.labelName]: labelValue } : {};
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += c.counts[i]!;
        values.push({ labels: { le: this.bounds[i]!, ...base }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { le: '+Inf', ...base }, value: c.count, metricName: `${this.name}_bucket` });
      values.push({ labels: base, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: base, value: c.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#cells.clear();
  }
}

/** A counter keyed by a fixed list of label names; the hot path passes the values joined by `|`. */
export class FastCounter implements Collectable {
  readonly type = 'counter' as const;
  readonly aggregator = 'sum' as const;
  readonly #values = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  inc(...labelValues: string[]): void {
    const key = labelValues.join('|');
    this.#values.set(key, (this.#values.get(key) ?? 0) + 1);
  }

  get(): ReturnType<Collectable['get']> {
    const values: ValuePair[] = [];
    for (const [key, value] of this.#values) {
      const parts = key.split('|');
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = parts[i] ?? ''));
      values.push({ labels, value });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#values.clear();
  }
}
