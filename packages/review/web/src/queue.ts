import { download, getJson, qs } from './api.js';
import { clear, h } from './dom.js';
import {
  CATEGORY_LABELS,
  formatTime,
  label,
  SEVERITY_LABELS,
  SOURCE_LABELS,
  STATUS_LABELS,
} from './labels.js';
import type { AppContext } from './main.js';
import type { Facets, QueuePage } from './types.js';

const FILTER_KEYS = [
  'tenant',
  'department',
  'doctor',
  'ruleId',
  'category',
  'severity',
  'status',
  'source',
  'from',
  'to',
  'recordId',
] as const;
/** Hash of a record page: the tenant goes along so that the same record id of two tenants stays apart. */
export function recordHref(recordId: string, tenant: string, findingKey?: string | null): string {
  return `#/record/${encodeURIComponent(recordId)}${qs({ tenant, finding: findingKey })}`;
}

const TENANT_COLUMN: { key: string; label: string; sort?: string } = { key: 'tenant', label: '租户' };
const COLUMNS: { key: string; label: string; sort?: string }[] = [
  { key: 'severity', label: '级别', sort: 'severity' },
  { key: 'recordId', label: '病历号' },
  { key: 'department', label: '科室', sort: 'department' },
  { key: 'doctor', label: '医生', sort: 'doctor' },
  { key: 'dischargeDate', label: '出院日期', sort: 'dischargeDate' },
  { key: 'source', label: '来源' },
  { key: 'ruleId', label: '规则', sort: 'ruleId' },
  { key: 'summary', label: '问题摘要' },
  { key: 'status', label: '状态', sort: 'status' },
  { key: 'updatedAt', label: '更新', sort: 'updatedAt' },
];

/** Cursor stack per filter, so that 上一页 works with keyset pagination. */
const cursorStacks = new Map<string, string[]>();

export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `badge status-${status}`, 'data-status': status }, label(STATUS_LABELS, status));
}
export function severityBadge(severity: string): HTMLElement {
  return h('span', { class: `badge sev-${severity}` }, label(SEVERITY_LABELS, severity));
}

function select(name: string, title: string, options: [string, string][], value: string | null): HTMLElement {
  return h(
    'label',
    { class: 'field' },
    h('span', null, title),
    h(
      'select',
      { name, id: `f-${name}` },
      h('option', { value: '' }, '全部'),
      options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)),
    ),
  );
}

export async function renderQueue(ctx: AppContext, params: URLSearchParams): Promise<void> {
  const filter: Record<string, string> = {};
  for (const k of FILTER_KEYS) {
    const v = params.get(k);
    if (v) filter[k] = v;
  }
  if (!params.has('status') && !params.has('all')) filter.status = 'open';
  const sort = params.get('sort') ?? 'dischargeDate';
  const order = params.get('order') ?? 'desc';
  const cursor = params.get('cursor') ?? '';
  const stackKey = JSON.stringify({ filter, sort, order });
  const stack = cursorStacks.get(stackKey) ?? [];
  const pageIndex = cursor ? Math.max(stack.indexOf(cursor), 0) + 1 : 0;

  const [facets, page] = await Promise.all([
    getJson<Facets>('/facets'),
    getJson<QueuePage>(`/queue${qs({ ...filter, sort, order, limit: 50, cursor })}`),
  ]);

  // The tenant column and filter appear only for users who see more than one tenant.
  const multiTenant = facets.tenants.length > 1;
  const columns = multiTenant ? [COLUMNS[0]!, TENANT_COLUMN, ...COLUMNS.slice(1)] : COLUMNS;

  const go = (next: Record<string, string | undefined>) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v) p.set(k, v);
    if (!next.status) p.set('all', '1');
    location.hash = `#/queue?${p.toString()}`;
  };

  const form = h(
    'form',
    { class: 'filters card', id: 'queue-filters' },
    h(
      'label',
      { class: 'field' },
      h('span', null, '病历号'),
      h('input', {
        type: 'search',
        name: 'recordId',
        id: 'f-recordId',
        value: filter.recordId ?? '',
        placeholder: '精确匹配',
      }),
    ),
    multiTenant
      ? select(
          'tenant',
          '租户',
          facets.tenants.map((t) => [t, t]),
          filter.tenant ?? null,
        )
      : null,
    select(
      'department',
      '科室',
      facets.departments.map((d) => [d, d]),
      filter.department ?? null,
    ),
    select(
      'doctor',
      '医生',
      facets.doctors.map((d) => [d, d]),
      filter.doctor ?? null,
    ),
    select(
      'ruleId',
      '规则',
      facets.rules.map((r) => [r.ruleId, r.ruleId]),
      filter.ruleId ?? null,
    ),
    select(
      'category',
      '类别',
      facets.categories.map((c) => [c, label(CATEGORY_LABELS, c)]),
      filter.category ?? null,
    ),
    select('severity', '级别', Object.entries(SEVERITY_LABELS), filter.severity ?? null),
    select('status', '状态', Object.entries(STATUS_LABELS), filter.status ?? null),
    select('source', '来源', Object.entries(SOURCE_LABELS), filter.source ?? null),
    h(
      'label',
      { class: 'field' },
      h('span', null, '出院日期起'),
      h('input', { type: 'date', name: 'from', id: 'f-from', value: filter.from ?? '' }),
    ),
    h(
      'label',
      { class: 'field' },
      h('span', null, '出院日期止'),
      h('input', { type: 'date', name: 'to', id: 'f-to', value: filter.to ?? '' }),
    ),
    h(
      'div',
      { class: 'filter-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'apply-filters' }, '查询'),
      h('button', { type: 'button', class: 'btn', onclick: () => (location.hash = '#/queue') }, '重置'),
      h(
        'button',
        {
          type: 'button',
          class: 'btn',
          id: 'export-csv',
          onclick: () =>
            void download(`/export.csv${qs({ ...filter, sort, order })}`, 'review.csv')
              .then(() => ctx.toast('已导出当前筛选结果'))
              .catch((e: Error) => ctx.toast(e.message, 'error')),
        },
        '导出 CSV',
      ),
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const next: Record<string, string | undefined> = { sort, order };
    for (const k of FILTER_KEYS) next[k] = String(data.get(k) ?? '') || undefined;
    go(next);
  });

  const headRow = h(
    'tr',
    null,
    columns.map((c) => {
      if (!c.sort) return h('th', null, c.label);
      const active = sort === c.sort;
      const nextOrder = active && order === 'desc' ? 'asc' : 'desc';
      return h(
        'th',
        {
          class: `sortable${active ? ' sorted' : ''}`,
          'aria-sort': active ? (order === 'asc' ? 'ascending' : 'descending') : undefined,
        },
        h(
          'button',
          {
            type: 'button',
            class: 'th-btn',
            'data-sort': c.sort,
            onclick: () => go({ ...filter, sort: c.sort, order: nextOrder }),
          },
          c.label,
          h('span', { class: 'sort-mark' }, active ? (order === 'asc' ? '▲' : '▼') : '↕'),
        ),
      );
    }),
  );

  const rows = page.items.map((i) => {
    const href = recordHref(i.recordId, i.tenant, i.key);
    return h(
      'tr',
      {
        class: 'queue-row',
        'data-key': i.key,
        tabindex: 0,
        onclick: () => (location.hash = href),
        onkeydown: (e: KeyboardEvent) => {
          if (e.key === 'Enter') location.hash = href;
        },
      },
      h('td', null, severityBadge(i.severity)),
      multiTenant ? h('td', { class: 'mono small tenant' }, i.tenant) : null,
      h('td', { class: 'mono' }, h('a', { href }, i.recordId)),
      h('td', null, i.department),
      h('td', null, i.doctor),
      h('td', { class: 'mono' }, i.dischargeDate),
      h('td', null, h('span', { class: `src src-${i.source}` }, label(SOURCE_LABELS, i.source))),
      h('td', { class: 'mono small' }, i.ruleId),
      h(
        'td',
        { class: 'summary' },
        i.summary,
        i.grade ? h('span', { class: 'grade' }, ` ${i.grade}级`) : null,
      ),
      h('td', null, statusBadge(i.status)),
      h(
        'td',
        { class: 'small muted' },
        i.updatedBy ? `${i.updatedBy} · ${formatTime(i.updatedAt).slice(0, 16)}` : '—',
      ),
    );
  });

  const prevCursor = pageIndex > 1 ? stack[pageIndex - 2] : undefined;
  const pager = h(
    'div',
    { class: 'pager' },
    h(
      'span',
      { class: 'muted', id: 'queue-total' },
      `共 ${page.total} 条 · 第 ${pageIndex + 1} 页 / 共 ${Math.max(1, Math.ceil(page.total / 50))} 页`,
    ),
    h(
      'button',
      {
        class: 'btn',
        type: 'button',
        id: 'prev-page',
        disabled: pageIndex === 0,
        onclick: () => go({ ...filter, sort, order, cursor: prevCursor }),
      },
      '上一页',
    ),
    h(
      'button',
      {
        class: 'btn',
        type: 'button',
        id: 'next-page',
        disabled: !page.nextCursor,
        onclick: () => {
          if (!page.nextCursor) return;
          const s = stack.slice(0, pageIndex);
          s.push(page.nextCursor);
          cursorStacks.set(stackKey, s);
          go({ ...filter, sort, order, cursor: page.nextCursor });
        },
      },
      '下一页',
    ),
  );

  clear(ctx.main);
  ctx.main.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, '审核队列'),
      h('p', { class: 'muted' }, '病历质控、临床决策支持与不良事件检测发现的问题。点击一行查看病历与证据。'),
    ),
    form,
    h(
      'div',
      { class: 'card table-card' },
      page.items.length
        ? h('table', { class: 'queue', id: 'queue-table' }, h('thead', null, headRow), h('tbody', null, rows))
        : h('p', { class: 'empty', id: 'queue-empty' }, '没有符合条件的问题。'),
      pager,
    ),
  );
}
