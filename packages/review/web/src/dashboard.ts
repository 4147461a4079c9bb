import { getJson, qs } from './api.js';
import { barChart, columnChart, lineChart } from './charts.js';
import { clear, h } from './dom.js';
import { GRADE_LABELS, label, STATUS_LABELS } from './labels.js';
import type { AppContext } from './main.js';
import type { Dashboard, Facets } from './types.js';

const GRADE_COLORS: Record<string, string> = { I: '#B42318', II: '#D55E00', III: '#E69F00', IV: '#56B4E9' };
const STATUS_COLORS: Record<string, string> = {
  open: '#0072B2',
  confirmed: '#D55E00',
  returned: '#CC79A7',
  dismissed: '#8a94a6',
  resolved: '#009E73',
};

function kpi(title: string, value: string, hint?: string): HTMLElement {
  return h(
    'div',
    { class: 'kpi card' },
    h('div', { class: 'kpi-title' }, title),
    h('div', { class: 'kpi-value' }, value),
    hint ? h('div', { class: 'small muted' }, hint) : null,
  );
}

export async function renderDashboard(ctx: AppContext, params: URLSearchParams): Promise<void> {
  const query = {
    tenant: params.get('tenant') ?? '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    department: params.get('department') ?? '',
  };
  const [data, facets] = await Promise.all([
    getJson<Dashboard>(`/dashboard${qs(query)}`),
    getJson<Facets>('/facets'),
  ]);
  const rate = data.records ? data.recordsWithDefects / data.records : 0;
  const open = data.statusCounts.find((s) => s.status === 'open')?.count ?? 0;
  const dismissed = data.statusCounts.find((s) => s.status === 'dismissed')?.count ?? 0;
  const handled = data.statusCounts.reduce((n, s) => n + (s.status === 'open' ? 0 : s.count), 0);

  const form = h(
    'form',
    { class: 'filters card', id: 'dashboard-filters' },
    // A user who sees several tenants can narrow the figures to one of them.
    facets.tenants.length > 1
      ? h(
          'label',
          { class: 'field' },
          h('span', null, '租户'),
          h(
            'select',
            { name: 'tenant', id: 'd-tenant' },
            h('option', { value: '' }, '全部'),
            facets.tenants.map((t) => h('option', { value: t, selected: t === query.tenant }, t)),
          ),
        )
      : null,
    h(
      'label',
      { class: 'field' },
      h('span', null, '科室'),
      h(
        'select',
        { name: 'department' },
        h('option', { value: '' }, '全部'),
        facets.departments.map((d) => h('option', { value: d, selected: d === query.department }, d)),
      ),
    ),
    h(
      'label',
      { class: 'field' },
      h('span', null, '出院日期起'),
      h('input', { type: 'date', name: 'from', value: query.from }),
    ),
    h(
      'label',
      { class: 'field' },
      h('span', null, '出院日期止'),
      h('input', { type: 'date', name: 'to', value: query.to }),
    ),
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, '统计')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const d = new FormData(form);
    location.hash = `#/dashboard${qs({ tenant: String(d.get('tenant') ?? ''), department: String(d.get('department') ?? ''), from: String(d.get('from') ?? ''), to: String(d.get('to') ?? '') })}`;
  });

  const deptSeries = data.departmentRates.slice(0, 8).map((d) => ({
    name: d.department,
    values: data.months.map((m) => {
      const x = d.byMonth.find((b) => b.month === m);
      return x?.records ? x.defective / x.records : null;
    }),
  }));
  const ruleSeries = data.ruleRates.map((r) => ({
    name: r.ruleId,
    values: r.byMonth.map((b) => (b.records ? b.hits / b.records : null)),
  }));
  const panel = (id: string, t: string, sub: string, body: HTMLElement) =>
    h(
      'section',
      { class: 'card chart-card', id },
      h('h2', null, t),
      h('p', { class: 'small muted' }, sub),
      body,
    );

  clear(ctx.main);
  ctx.main.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, '统计看板'),
      h('p', { class: 'muted' }, '缺陷率按出院月份统计；被排除为误报的问题不计入缺陷。'),
    ),
    form,
    h(
      'div',
      { class: 'kpis' },
      kpi('出院病历', String(data.records)),
      kpi('有缺陷病历', String(data.recordsWithDefects), '含至少一条未排除的质控问题'),
      kpi('病历缺陷率', `${Math.round(rate * 1000) / 10}%`),
      kpi('待审核问题', String(open), `已处理 ${handled} 条，其中误报 ${dismissed} 条`),
    ),
    h(
      'div',
      { class: 'chart-grid' },
      panel(
        'chart-dept',
        '各科室病历缺陷率（按月）',
        '有缺陷病历 / 出院病历',
        lineChart(data.months, deptSeries, { label: '各科室病历缺陷率' }),
      ),
      panel(
        'chart-dept-total',
        '各科室病历缺陷率（所选期间）',
        '按缺陷率从高到低',
        barChart(
          data.departmentRates
            .map((d) => {
              const records = d.byMonth.reduce((n, b) => n + b.records, 0);
              const defective = d.byMonth.reduce((n, b) => n + b.defective, 0);
              return {
                label: d.department,
                value: records ? defective / records : 0,
                hint: `${defective} / ${records} 份病历`,
              };
            })
            .sort((a, b) => b.value - a.value),
          { label: '各科室病历缺陷率', valueLabel: '缺陷率', format: (v) => `${Math.round(v * 1000) / 10}%` },
        ),
      ),
      panel(
        'chart-rule-rate',
        '高频规则命中率（按月）',
        '命中该规则的病历 / 出院病历',
        lineChart(data.months, ruleSeries, { label: '高频规则命中率' }),
      ),
      panel(
        'chart-top-rules',
        '高频问题规则 Top 10',
        '蓝色为有效问题，灰色为被排除的误报',
        barChart(
          data.topRules.map((r) => ({
            label: r.ruleId,
            value: r.count,
            extra: r.dismissed,
            hint: r.summary,
          })),
          { label: '高频问题规则', valueLabel: '有效问题', extraLabel: '误报' },
        ),
      ),
      panel(
        'chart-ae',
        '不良事件分级',
        '医疗安全（不良）事件，按Ⅰ–Ⅳ级',
        columnChart(
          data.adverseEventsByGrade.map((g) => ({
            label: label(GRADE_LABELS, g.grade),
            value: g.count,
            color: GRADE_COLORS[g.grade] ?? '#666',
          })),
          { label: '不良事件分级', empty: '所选期间没有未排除的不良事件' },
        ),
      ),
      panel(
        'chart-status',
        '审核进度',
        '全部问题的处理状态',
        barChart(
          data.statusCounts.map((s) => ({ label: label(STATUS_LABELS, s.status), value: s.count })),
          {
            label: '审核进度',
            valueLabel: '问题数',
            colors: data.statusCounts.map((s) => STATUS_COLORS[s.status] ?? '#666'),
          },
        ),
      ),
    ),
  );
}
