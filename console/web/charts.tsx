// The overview's live charts (uPlot: small, fast, made for time series, draws on a canvas): rates
// (queries by transport, cache answers, upstream and ENS errors), the mean upstream latency and the
// overrides in force, from the counter samples of GET /admin/v1/samples (the last 15 minutes),
// polled every sample interval. Each chart has its latest figures in text beside it.
import 'uplot/dist/uPlot.min.css';
import uPlot from 'uplot';
import { useEffect, useRef, useState } from 'preact/hooks';
import { admin } from './api.js';

interface Sample {
  at: string;
  queries: Record<string, number>;
  cacheHits: number;
  cacheMisses: number;
  staleServed: number;
  overrides: number;
  upstreamErrors: number;
  ensErrors: number;
  upstreamLatencySum: number;
  upstreamLatencyCount: number;
}

interface Series {
  label: string;
  color: string;
  values: Array<number | null>;
}

/** Fixed colours per series (the test finds a series' line by its colour). */
export const COLORS: Readonly<Record<string, string>> = {
  udp: '#1a73e8',
  tcp: '#188038',
  doh: '#e37400',
  api: '#a142f4',
  hits: '#1a73e8',
  misses: '#d93025',
  stale: '#e37400',
  overrides: '#188038',
  upstream: '#d93025',
  ens: '#a142f4',
  latency: '#e37400',
};
const OTHER = ['#12b5cb', '#f538a0', '#9aa0a6'];

/** Per-second rates of a cumulative counter between samples (null for the first, or after a restart). */
function rates(samples: readonly Sample[], pick: (s: Sample) => number): Array<number | null> {
  return samples.map((s, i) => {
    const prev = samples[i - 1];
    if (!prev) return null;
    const seconds = (Date.parse(s.at) - Date.parse(prev.at)) / 1000;
    const delta = pick(s) - pick(prev);
    return seconds > 0 && delta >= 0 ? Math.round((delta / seconds) * 100) / 100 : null;
  });
}

function Chart({ title, unit, times, series }: { title: string; unit: string; times: number[]; series: Series[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => s.label).join();
  useEffect(() => {
    if (!box.current) return;
    plot.current?.destroy();
    plot.current = new uPlot(
      {
        width: Math.min(560, box.current.clientWidth || 560),
        height: 220,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: true, points: { show: times.length < 3 } }))],
        axes: [{}, { label: unit, size: 60 }],
        scales: { y: { range: (_u: uPlot, min: number, max: number): uPlot.Range.MinMax => [0, Math.max(1, max, min)] } },
      },
      [times, ...series.map((s) => s.values)] as uPlot.AlignedData,
      box.current,
    );
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);
  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [times, series]);
  const latest = series.map((s) => `${s.label} ${s.values.at(-1) ?? '–'}`).join(', ');
  return (
    <figure class="chart" aria-label={title}>
      <figcaption>{title}</figcaption>
      <div ref={box} data-testid={`chart-${title}`} />
      <p class="latest" data-testid={`latest-${title}`}>
        Latest: {latest}
      </p>
    </figure>
  );
}

export function LiveCharts() {
  const [samples, setSamples] = useState<Sample[]>([]);
  const [interval, setIntervalSeconds] = useState(5);
  useEffect(() => {
    let live = true;
    const poll = async () => {
      const a = await admin<{ intervalSeconds: number | null; samples: Sample[] }>('GET', '/admin/v1/samples');
      if (!live || a.status !== 200) return;
      setSamples(a.body.samples);
      if (a.body.intervalSeconds) setIntervalSeconds(a.body.intervalSeconds);
    };
    void poll();
    const timer = setInterval(() => void poll(), interval * 1000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [interval]);
  const times = samples.map((s) => Date.parse(s.at) / 1000);
  const transports = [...new Set(samples.flatMap((s) => Object.keys(s.queries)))].sort();
  const queries: Series[] = transports.map((t, i) => ({ label: t, color: COLORS[t] ?? OTHER[i % OTHER.length]!, values: rates(samples, (s) => s.queries[t] ?? 0) }));
  const cache: Series[] = [
    { label: 'hits', color: COLORS.hits!, values: rates(samples, (s) => s.cacheHits) },
    { label: 'misses', color: COLORS.misses!, values: rates(samples, (s) => s.cacheMisses) },
    { label: 'stale', color: COLORS.stale!, values: rates(samples, (s) => s.staleServed) },
  ];
  const overrides: Series[] = [{ label: 'overrides', color: COLORS.overrides!, values: samples.map((s) => s.overrides) }];
  const errors: Series[] = [
    { label: 'upstream', color: COLORS.upstream!, values: rates(samples, (s) => s.upstreamErrors) },
    { label: 'ens', color: COLORS.ens!, values: rates(samples, (s) => s.ensErrors) },
  ];
  // The mean upstream latency between two samples: Δsum / Δcount, in milliseconds.
  const latency: Series[] = [
    {
      label: 'latency',
      color: COLORS.latency!,
      values: samples.map((s, i) => {
        const prev = samples[i - 1];
        const count = prev ? s.upstreamLatencyCount - prev.upstreamLatencyCount : 0;
        return prev && count > 0 ? Math.round(((s.upstreamLatencySum - prev.upstreamLatencySum) / count) * 100_000) / 100 : null;
      }),
    },
  ];
  if (samples.length === 0) return <p>No samples yet: the first comes within {interval} s.</p>;
  return (
    <section aria-labelledby="charts-title">
      <h3 id="charts-title">Last 15 minutes (a sample every {interval} s)</h3>
      <div class="charts">
        <Chart title="Queries per second by transport" unit="queries/s" times={times} series={queries} />
        <Chart title="Cache answers per second" unit="answers/s" times={times} series={cache} />
        <Chart title="Upstream mean latency" unit="ms" times={times} series={latency} />
        <Chart title="Upstream and ENS errors per second" unit="errors/s" times={times} series={errors} />
        <Chart title="Overrides in force" unit="overrides" times={times} series={overrides} />
      </div>
    </section>
  );
}
