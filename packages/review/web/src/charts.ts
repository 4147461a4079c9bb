import { h, svg } from './dom.js';

/** Colour-blind-friendly palette (Okabe–Ito, adjusted for white backgrounds). */
export const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#8C6D31',
  '#666666',
];

export interface Series {
  name: string;
  values: (number | null)[];
}

function pct(v: number): string {
  return `${Math.round(v * 1000) / 10}%`;
}

function title(text: string): SVGElement {
  return svg('title', {}, text);
}

/** Multi-series line chart of rates (0..1) over categories (months). */
export function lineChart(categories: string[], series: Series[], options: { label: string }): HTMLElement {
  const W = 560;
  const H = 260;
  const pad = { l: 48, r: 16, t: 16, b: 36 };
  const max = Math.max(0.05, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const top = Math.min(1, Math.ceil(max * 10) / 10);
  const x = (i: number) =>
    pad.l +
    (categories.length <= 1 ? (W - pad.l - pad.r) / 2 : (i * (W - pad.l - pad.r)) / (categories.length - 1));
  const y = (v: number) => H - pad.b - (v / top) * (H - pad.t - pad.b);
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'chart',
    role: 'img',
    'aria-label': options.label,
  });
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    root.append(
      svg('line', { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: pad.l - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, pct(v)),
    );
  }
  const step = Math.max(1, Math.ceil(categories.length / 8));
  categories.forEach((c, i) => {
    if (i % step === 0)
      root.append(svg('text', { x: x(i), y: H - pad.b + 18, class: 'axis', 'text-anchor': 'middle' }, c));
  });
  series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length]!;
    const pts = s.values.map((v, i) => (v === null ? null : ([x(i), y(v)] as const)));
    const d = pts
      .map((p, i) => (p ? `${i === 0 || !pts[i - 1] ? 'M' : 'L'}${p[0].toFixed(1)},${p[1].toFixed(1)}` : ''))
      .join('');
    if (d) root.append(svg('path', { d, fill: 'none', stroke: color, 'stroke-width': 2.2, class: 'line' }));
    pts.forEach((p, i) => {
      if (!p) return;
      root.append(
        svg(
          'circle',
          { cx: p[0], cy: p[1], r: 3.5, fill: color },
          title(`${s.name} ${categories[i]}：${pct(s.values[i]!)}`),
        ),
      );
    });
  });
  return h(
    'figure',
    { class: 'chart-box' },
    root,
    h(
      'figcaption',
      { class: 'chart-legend' },
      series.map((s, i) =>
        h('span', { class: 'legend-item', 'data-color': PALETTE[i % PALETTE.length] }, swatch(i), s.name),
      ),
    ),
  );
}

function swatch(i: number): SVGElement {
  return svg(
    'svg',
    { width: 12, height: 12, class: 'swatch' },
    svg('rect', { width: 12, height: 12, rx: 2, fill: PALETTE[i % PALETTE.length] }),
  );
}

/** Horizontal bars with an optional second, stacked part (e.g. dismissed as false positive). */
export function barChart(
  rows: { label: string; value: number; extra?: number; hint?: string }[],
  options: {
    label: string;
    valueLabel: string;
    extraLabel?: string;
    colors?: string[];
    format?: (v: number) => string;
  },
): HTMLElement {
  const W = 560;
  const rowH = 28;
  const labelW = 200;
  const H = Math.max(60, rows.length * rowH + 24);
  const max = Math.max(1, ...rows.map((r) => r.value + (r.extra ?? 0)));
  const scale = (v: number) => (v / max) * (W - labelW - 60);
  const fmt = options.format ?? String;
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'chart',
    role: 'img',
    'aria-label': options.label,
  });
  rows.forEach((r, i) => {
    const yy = 8 + i * rowH;
    const color = options.colors?.[i] ?? PALETTE[0]!;
    const text = r.label.length > 24 ? `${r.label.slice(0, 23)}…` : r.label;
    root.append(
      svg(
        'text',
        { x: labelW - 8, y: yy + 15, class: 'axis bar-label', 'text-anchor': 'end' },
        text,
        title(r.hint ?? r.label),
      ),
      svg(
        'rect',
        { x: labelW, y: yy + 2, width: Math.max(1, scale(r.value)), height: rowH - 10, rx: 3, fill: color },
        title(`${r.label}：${options.valueLabel} ${fmt(r.value)}`),
      ),
    );
    if (r.extra)
      root.append(
        svg(
          'rect',
          {
            x: labelW + scale(r.value),
            y: yy + 2,
            width: scale(r.extra),
            height: rowH - 10,
            rx: 3,
            fill: '#c9ced6',
          },
          title(`${r.label}：${options.extraLabel ?? ''} ${r.extra}`),
        ),
      );
    root.append(
      svg(
        'text',
        { x: labelW + scale(r.value + (r.extra ?? 0)) + 6, y: yy + 15, class: 'axis value' },
        fmt(r.value + (r.extra ?? 0)),
      ),
    );
  });
  const legend = options.extraLabel
    ? h(
        'figcaption',
        { class: 'chart-legend' },
        h('span', { class: 'legend-item' }, swatch(0), options.valueLabel),
        h(
          'span',
          { class: 'legend-item' },
          svg(
            'svg',
            { width: 12, height: 12, class: 'swatch' },
            svg('rect', { width: 12, height: 12, rx: 2, fill: '#c9ced6' }),
          ),
          options.extraLabel,
        ),
      )
    : null;
  return h('figure', { class: 'chart-box' }, root, legend);
}

/** Vertical bars (adverse events by grade). */
export function columnChart(
  rows: { label: string; value: number; color: string }[],
  options: { label: string; empty?: string },
): HTMLElement {
  if (options.empty && rows.every((r) => r.value === 0))
    return h('p', { class: 'empty chart-empty' }, options.empty);
  const W = 560;
  const H = 240;
  const pad = { l: 36, r: 16, t: 20, b: 40 };
  const max = Math.max(1, ...rows.map((r) => r.value));
  const bw = (W - pad.l - pad.r) / Math.max(1, rows.length);
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'chart',
    role: 'img',
    'aria-label': options.label,
  });
  root.append(svg('line', { x1: pad.l, x2: W - pad.r, y1: H - pad.b, y2: H - pad.b, class: 'grid' }));
  rows.forEach((r, i) => {
    const hh = (r.value / max) * (H - pad.t - pad.b);
    const xx = pad.l + i * bw + bw * 0.2;
    root.append(
      svg(
        'rect',
        {
          x: xx,
          y: H - pad.b - hh,
          width: bw * 0.6,
          height: Math.max(hh, r.value ? 2 : 0),
          rx: 4,
          fill: r.color,
        },
        title(`${r.label}：${r.value}`),
      ),
      svg(
        'text',
        { x: xx + bw * 0.3, y: H - pad.b - hh - 6, class: 'axis value', 'text-anchor': 'middle' },
        String(r.value),
      ),
      svg('text', { x: xx + bw * 0.3, y: H - pad.b + 18, class: 'axis', 'text-anchor': 'middle' }, r.label),
    );
  });
  return h('figure', { class: 'chart-box' }, root);
}
