// Reading the Prometheus text served at /metrics.

export async function fetchMetrics(httpPort: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`/metrics: HTTP ${res.status}`);
  return res.text();
}

/** Sum of all samples of `name` (every label set). 0 when the metric has no sample. */
export function metricSum(text: string, name: string, labelFilter?: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (labelFilter) {
      const labels = m[2] ?? '';
      if (!Object.entries(labelFilter).every(([k, v]) => labels.includes(`${k}="${v}"`))) continue;
    }
    const v = Number(m[3]);
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

/** True when the exposition declares the metric family (`# TYPE name ...`) or has a sample of it. */
export function hasMetric(text: string, name: string): boolean {
  return text.split('\n').some((l) => l.startsWith(`# TYPE ${name} `) || new RegExp(`^${name}(\\{|\\s|_)`).test(l));
}
