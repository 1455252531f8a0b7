// Small SVG charts. Each is an image with a text alternative (role="img", a title and a
// description) and carries its figures as a table for screen readers and for copying.

import {useEffect, useId, useRef, useState} from 'react';

/** useWidth follows an element's width, so charts draw at their real size and text stays legible. */
function useWidth(initial = 560) {
  const ref = useRef<HTMLElement>(null);
  const [width, setWidth] = useState(initial);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver((entries) => {
      const w = Math.round(entries[0]?.contentRect.width ?? 0);
      if (w > 0) setWidth(w);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, Math.max(240, width)] as const;
}

export interface Series {
  name: string;
  color: string;
  values: number[];
}

const PALETTE = ['#2c6ecb', '#47c1bf', '#f49342', '#9c6ade', '#de3618', '#50b83c'];

export function color(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/** niceMax rounds the largest value up to a readable axis maximum (1, 2, 2.5 or 5 × 10^n). */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const exp = Math.pow(10, Math.floor(Math.log10(max)));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * exp >= max) return m * exp;
  }
  return 10 * exp;
}

function DataTableFallback({caption, labels, series, format}: {caption: string; labels: string[]; series: Series[]; format: (v: number) => string}) {
  return (
    <table className="regulars-visually-hidden">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Item</th>
          {series.map((s) => (
            <th key={s.name} scope="col">
              {s.name}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {labels.map((l, i) => (
          <tr key={l + i}>
            <th scope="row">{l}</th>
            {series.map((s) => (
              <td key={s.name}>{format(s.values[i] ?? 0)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Legend({series}: {series: Series[]}) {
  if (series.length < 2) return null;
  return (
    <div aria-hidden="true" style={{display: 'flex', gap: 12, flexWrap: 'wrap', fontSize: 12, marginTop: 4}}>
      {series.map((s) => (
        <span key={s.name} style={{display: 'inline-flex', alignItems: 'center', gap: 4}}>
          <span style={{width: 10, height: 10, background: s.color, display: 'inline-block', borderRadius: 2}} />
          {s.name}
        </span>
      ))}
    </div>
  );
}

/**
 * BarChart draws grouped (or stacked) horizontal bars, one group per label: offers compared on
 * one or more figures.
 */
export function BarChart({
  title,
  labels,
  series,
  format = (v) => v.toLocaleString(),
  stacked = false,
}: {
  title: string;
  labels: string[];
  series: Series[];
  format?: (v: number) => string;
  stacked?: boolean;
}) {
  const id = useId();
  const [ref, width] = useWidth();
  const barH = 14;
  const groupGap = 10;
  const labelW = Math.min(170, Math.round(width * 0.32));
  const valueW = 90;
  const plotW = width - labelW - valueW;
  const perGroup = stacked ? barH : barH * series.length;
  const height = Math.max(1, labels.length) * (perGroup + groupGap) + 8;
  const totals = labels.map((_, i) => series.reduce((t, s) => t + (s.values[i] ?? 0), 0));
  const max = niceMax(stacked ? Math.max(0, ...totals) : Math.max(0, ...series.flatMap((s) => s.values)));
  const scale = (v: number) => (Math.max(0, v) / max) * plotW;
  const desc = labels
    .map((l, i) => `${l}: ${series.map((s) => `${s.name} ${format(s.values[i] ?? 0)}`).join(', ')}`)
    .join('; ');
  const maxChars = Math.max(8, Math.floor(labelW / 6.5));
  return (
    <figure style={{margin: 0}} ref={ref}>
      <svg className="regulars-chart" role="img" aria-labelledby={`${id}-t ${id}-d`} viewBox={`0 0 ${width} ${height}`} width={width} height={height} style={{maxWidth: '100%', height: 'auto'}}>
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{desc || 'No data'}</desc>
        {labels.map((label, i) => {
          const y0 = i * (perGroup + groupGap) + 4;
          let x = labelW;
          return (
            <g key={label + i}>
              <text x={labelW - 8} y={y0 + perGroup / 2 + 4} textAnchor="end">
                {label.length > maxChars ? label.slice(0, maxChars - 1) + '…' : label}
              </text>
              {series.map((s, j) => {
                const v = s.values[i] ?? 0;
                const w = scale(v);
                const tip = <title>{`${label}: ${s.name} ${format(v)}`}</title>;
                const rect = stacked ? (
                  <rect key={s.name} x={x} y={y0} width={w} height={barH} fill={s.color} rx={2}>
                    {tip}
                  </rect>
                ) : (
                  <rect key={s.name} x={labelW} y={y0 + j * barH} width={w} height={barH - 2} fill={s.color} rx={2}>
                    {tip}
                  </rect>
                );
                if (stacked) x += w;
                return rect;
              })}
              <text x={labelW + (stacked ? scale(totals[i]) : scale(Math.max(...series.map((s) => s.values[i] ?? 0)))) + 6} y={y0 + perGroup / 2 + 4}>
                {stacked || series.length === 1 ? format(stacked ? totals[i] : series[0].values[i] ?? 0) : ''}
              </text>
            </g>
          );
        })}
      </svg>
      <Legend series={series} />
      <DataTableFallback caption={title} labels={labels} series={series} format={format} />
    </figure>
  );
}

/** LineChart draws daily series over shared dates. */
export function LineChart({
  title,
  labels,
  series,
  format = (v) => v.toLocaleString(),
}: {
  title: string;
  labels: string[];
  series: Series[];
  format?: (v: number) => string;
}) {
  const id = useId();
  const [ref, width] = useWidth();
  const height = 200;
  const left = 64;
  const bottom = 24;
  const top = 8;
  const right = 24;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const n = Math.max(1, labels.length - 1);
  const x = (i: number) => left + (labels.length <= 1 ? plotW / 2 : (i / n) * plotW);
  const y = (v: number) => top + plotH - (Math.max(0, v) / max) * plotH;
  const ticks = [0, max / 2, max];
  const every = Math.max(1, Math.ceil(labels.length / Math.max(2, Math.floor(plotW / 70))));
  const total = (s: Series) => s.values.reduce((a, b) => a + b, 0);
  const desc = series.map((s) => `${s.name}: ${format(total(s))} in total over ${labels.length} days`).join('; ');
  return (
    <figure style={{margin: 0}} ref={ref}>
      <svg className="regulars-chart" role="img" aria-labelledby={`${id}-t ${id}-d`} viewBox={`0 0 ${width} ${height}`} width={width} height={height} style={{maxWidth: '100%', height: 'auto'}}>
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{desc || 'No data'}</desc>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={left} x2={width - right} y1={y(t)} y2={y(t)} stroke="#e3e3e3" />
            <text x={left - 6} y={y(t) + 4} textAnchor="end">
              {format(t)}
            </text>
          </g>
        ))}
        {labels.map((l, i) =>
          i % every === 0 || i === labels.length - 1 ? (
            <text key={l} x={x(i)} y={height - 6} textAnchor={i === labels.length - 1 ? 'end' : i === 0 ? 'start' : 'middle'}>
              {l.slice(5)}
            </text>
          ) : null,
        )}
        {series.map((s) => (
          <g key={s.name}>
            <polyline
              fill="none"
              stroke={s.color}
              strokeWidth={2}
              points={s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}
            />
            {labels.length <= 31 &&
              s.values.map((v, i) => <circle key={i} cx={x(i)} cy={y(v)} r={2.5} fill={s.color} />)}
          </g>
        ))}
      </svg>
      <Legend series={series} />
      <DataTableFallback caption={title} labels={labels} series={series} format={format} />
    </figure>
  );
}
