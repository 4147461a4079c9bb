import { getJson, qs } from './api.js';
import { clear, h } from './dom.js';
import { ACTION_LABELS, formatTime, label, ROLE_LABELS } from './labels.js';
import type { AppContext } from './main.js';
import { recordHref, statusBadge } from './queue.js';
import type { AuditEntry, Facets } from './types.js';

export async function renderAudit(ctx: AppContext, params: URLSearchParams): Promise<void> {
  const recordId = params.get('recordId') ?? '';
  const before = params.get('before') ?? '';
  const [{ entries }, facets] = await Promise.all([
    getJson<{ entries: AuditEntry[] }>(`/audit${qs({ recordId, before, limit: 100 })}`),
    getJson<Facets>('/facets'),
  ]);
  const multiTenant = facets.tenants.length > 1 || new Set(entries.map((a) => a.tenant)).size > 1;
  const form = h(
    'form',
    { class: 'filters card' },
    h(
      'label',
      { class: 'field' },
      h('span', null, '病历号'),
      h('input', { name: 'recordId', value: recordId, placeholder: '全部病历' }),
    ),
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, '查询')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/audit${qs({ recordId: String(new FormData(form).get('recordId') ?? '').trim() })}`;
  });
  const last = entries[entries.length - 1];
  clear(ctx.main);
  ctx.main.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, '审计日志'),
      h('p', { class: 'muted' }, '每一次导入和审核操作都按时间记录，只能追加，不能修改或删除。'),
    ),
    form,
    h(
      'div',
      { class: 'card table-card' },
      h(
        'table',
        { class: 'queue', id: 'audit-table' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            [
              '时间',
              '用户',
              '角色',
              '操作',
              ...(multiTenant ? ['租户'] : []),
              '病历号',
              '状态变化',
              '原因/意见',
            ].map((t) => h('th', null, t)),
          ),
        ),
        h(
          'tbody',
          null,
          entries.map((a) =>
            h(
              'tr',
              null,
              h('td', { class: 'mono small' }, formatTime(a.at)),
              h('td', null, a.userName),
              h('td', { class: 'small' }, label(ROLE_LABELS, a.role)),
              h('td', null, label(ACTION_LABELS, a.action)),
              multiTenant ? h('td', { class: 'mono small tenant' }, a.tenant) : null,
              h(
                'td',
                { class: 'mono' },
                h(
                  'a',
                  {
                    href: recordHref(a.recordId, a.tenant, a.findingKey),
                  },
                  a.recordId,
                ),
              ),
              h(
                'td',
                null,
                a.fromStatus ? statusBadge(a.fromStatus) : null,
                a.toStatus ? [' → ', statusBadge(a.toStatus)] : null,
              ),
              h('td', { class: 'small wrap' }, a.note ?? ''),
            ),
          ),
        ),
      ),
      h(
        'div',
        { class: 'pager' },
        h(
          'button',
          {
            class: 'btn',
            type: 'button',
            disabled: entries.length < 100 || !last,
            onclick: () => (location.hash = `#/audit${qs({ recordId, before: last?.seq })}`),
          },
          '更早的记录',
        ),
      ),
    ),
  );
}
