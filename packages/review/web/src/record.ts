import { ApiError, getJson, postJson, qs } from './api.js';
import { clear, h } from './dom.js';
import {
  ACTION_LABELS,
  ASSERTION_LABELS,
  CATEGORY_LABELS,
  ENTITY_LABELS,
  formatTime,
  GRADE_LABELS,
  label,
  SOURCE_LABELS,
} from './labels.js';
import type { AppContext } from './main.js';
import { recordHref, severityBadge, statusBadge } from './queue.js';
import type { Mention, RecordDetail, StoredFinding } from './types.js';

const ACTIONS_FROM: Record<string, string[]> = {
  confirm: ['open', 'returned'],
  dismiss: ['open', 'confirmed', 'returned'],
  resolve: ['open', 'confirmed', 'returned'],
  return: ['open', 'confirmed'],
  reopen: ['confirmed', 'dismissed', 'resolved', 'returned'],
};
const DISMISS_REASONS = [
  '病历中已有该内容，规则误判',
  '该规则不适用于本病例',
  '文本识别（NLP）错误',
  '源数据错误，已另行更正',
];

interface Piece {
  start: number;
  end: number;
  mention?: Mention;
  findings: string[];
}

/** Split a text at every mention and evidence boundary; each piece knows its mention and the findings citing it. */
function pieces(
  text: string,
  mentions: Mention[],
  evidence: { key: string; start: number; end: number }[],
): Piece[] {
  const cuts = new Set<number>([0, text.length]);
  // Overlapping mentions: keep the longer one (ties: the earlier).
  const chosen: Mention[] = [];
  for (const m of [...mentions].sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start)) {
    if (m.start < 0 || m.end > text.length || m.end <= m.start) continue;
    if (chosen.some((c) => c.start < m.end && m.start < c.end)) continue;
    chosen.push(m);
  }
  for (const m of chosen) cuts.add(m.start).add(m.end);
  const spans = evidence.filter((e) => e.start >= 0 && e.end <= text.length && e.end > e.start);
  for (const e of spans) cuts.add(e.start).add(e.end);
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: Piece[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const start = sorted[i]!;
    const end = sorted[i + 1]!;
    const mention = chosen.find((m) => m.start <= start && end <= m.end);
    out.push({
      start,
      end,
      ...(mention ? { mention } : {}),
      findings: spans.filter((e) => e.start <= start && end <= e.end).map((e) => e.key),
    });
  }
  return out;
}

function mentionTitle(m: Mention): string {
  const parts = [`${label(ENTITY_LABELS, m.type)} · ${label(ASSERTION_LABELS, m.assertion)}`];
  if (m.trigger) parts.push(`触发词「${m.trigger}」`);
  if (m.concept) parts.push(`知识图谱：${m.concept}`);
  return parts.join(' · ');
}

function renderText(
  text: string,
  mentions: Mention[],
  evidence: { key: string; start: number; end: number }[],
): HTMLElement {
  const pre = h('div', { class: 'doc-text' });
  for (const p of pieces(text, mentions, evidence)) {
    const chunk = text.slice(p.start, p.end);
    let node: Node = document.createTextNode(chunk);
    if (p.mention) {
      const m = p.mention;
      node = h(
        'span',
        {
          class: `ent ent-${m.type} assert-${m.assertion}`,
          title: mentionTitle(m),
          'data-type': m.type,
          'data-assertion': m.assertion,
        },
        chunk,
      );
    }
    if (p.findings.length) {
      const mark = h('mark', { class: 'ev', 'data-findings': p.findings.join(' ') });
      mark.appendChild(node);
      node = mark;
    }
    pre.appendChild(node);
  }
  return pre;
}

function legend(): HTMLElement {
  return h(
    'div',
    { class: 'legend', id: 'entity-legend' },
    Object.entries(ENTITY_LABELS).map(([type, text]) => h('span', { class: `ent ent-${type}` }, text)),
    h('span', { class: 'ent ent-disease assert-negated' }, '否定'),
    h('span', { class: 'ent ent-disease assert-possible' }, '可能/既往/家族/假设'),
    h('mark', { class: 'ev ev-active' }, '问题证据'),
  );
}

function openNoteDialog(title: string, hint: string, presets: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    const area = h('textarea', {
      id: 'action-note',
      rows: 4,
      'aria-required': 'true',
      placeholder: hint,
      maxlength: 2000,
    });
    const error = h('p', { class: 'form-error' });
    const dialog = h(
      'dialog',
      { class: 'note-dialog', id: 'note-dialog' },
      h(
        'form',
        { method: 'dialog' },
        h('h3', null, title),
        presets.length
          ? h(
              'div',
              { class: 'chips' },
              presets.map((p) =>
                h('button', { type: 'button', class: 'chip', onclick: () => (area.value = p) }, p),
              ),
            )
          : null,
        area,
        error,
        h(
          'div',
          { class: 'dialog-actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'btn',
              value: 'cancel',
              id: 'note-cancel',
              onclick: () => dialog.close('cancel'),
            },
            '取消',
          ),
          h('button', { type: 'submit', class: 'btn btn-primary', value: 'ok', id: 'note-submit' }, '提交'),
        ),
      ),
    );
    dialog.querySelector('form')!.addEventListener('submit', (event) => {
      if (!area.value.trim()) {
        event.preventDefault();
        error.textContent = '必须填写';
        area.focus();
      }
    });
    dialog.addEventListener('close', () => {
      const value = dialog.returnValue === 'ok' ? area.value.trim() : null;
      dialog.remove();
      resolve(value || null);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    area.focus();
  });
}

export async function renderRecord(
  ctx: AppContext,
  recordId: string,
  params: URLSearchParams,
): Promise<void> {
  const detail = await getJson<RecordDetail>(
    `/records/${encodeURIComponent(recordId)}${qs({ tenant: params.get('tenant') })}`,
  );
  const tenant = detail.tenant;
  let activeKey = params.get('finding');

  const evidenceByDoc = new Map<string, { key: string; start: number; end: number }[]>();
  for (const f of detail.findings)
    for (const e of f.finding.evidence)
      if (e.documentId && e.span) {
        const list = evidenceByDoc.get(e.documentId) ?? [];
        list.push({ key: f.key, start: e.span.start, end: e.span.end });
        evidenceByDoc.set(e.documentId, list);
      }
  const mentionsByDoc = new Map<string, Mention[]>();
  for (const m of detail.mentions)
    mentionsByDoc.set(m.documentId, [...(mentionsByDoc.get(m.documentId) ?? []), m]);

  const docs = h(
    'section',
    { class: 'card docs', id: 'documents' },
    h('div', { class: 'card-head' }, h('h2', null, '病历文书'), legend()),
    detail.documents.length
      ? detail.documents.map((d) =>
          h(
            'article',
            { class: 'doc', id: `doc-${d.id}`, 'data-doc': d.id },
            h(
              'header',
              null,
              h('h3', null, d.type),
              h('span', { class: 'muted small' }, `${d.createdTime}${d.author ? ` · ${d.author}` : ''}`),
            ),
            renderText(d.text, mentionsByDoc.get(d.id) ?? [], evidenceByDoc.get(d.id) ?? []),
          ),
        )
      : h('p', { class: 'empty' }, '仅导入了批量质控结果，未保存病历原文。'),
  );

  const findingRefs = (keys: string[]) =>
    keys.map((k) => detail.findings.find((f) => f.key === k)).filter(Boolean) as StoredFinding[];

  const frontPage = h(
    'section',
    { class: 'card', id: 'front-page' },
    h('h2', null, '病案首页'),
    detail.frontPage.length
      ? h(
          'table',
          { class: 'fp-table' },
          h(
            'thead',
            null,
            h('tr', null, h('th', null, '代码'), h('th', null, '项目'), h('th', null, '填写内容')),
          ),
          h(
            'tbody',
            null,
            [...detail.frontPage]
              .sort((a, b) => Number(b.findingKeys.length > 0) - Number(a.findingKeys.length > 0))
              .map((row) =>
                h(
                  'tr',
                  {
                    class: row.findingKeys.length ? 'fp-defect' : '',
                    'data-path': row.path,
                    'data-findings': row.findingKeys.join(' '),
                    title:
                      findingRefs(row.findingKeys)
                        .map((f) => f.summary)
                        .join('\n') || undefined,
                  },
                  h('td', { class: 'mono small' }, row.code),
                  h(
                    'td',
                    null,
                    row.label,
                    row.findingKeys.length
                      ? h('span', { class: 'defect-mark', 'aria-label': '缺陷' }, '缺陷')
                      : null,
                  ),
                  h('td', null, row.value || h('span', { class: 'muted' }, '（未填写）')),
                ),
              ),
          ),
        )
      : h('p', { class: 'empty' }, '无病案首页数据。'),
  );

  const meds = detail.medications.length
    ? h(
        'section',
        { class: 'card', id: 'medications' },
        h('h2', null, '医嘱'),
        h(
          'table',
          { class: 'fp-table' },
          h(
            'thead',
            null,
            h('tr', null, h('th', null, '药品'), h('th', null, '用法'), h('th', null, '起止')),
          ),
          h(
            'tbody',
            null,
            detail.medications.map((m) =>
              h(
                'tr',
                { 'data-ref': m.id },
                h(
                  'td',
                  null,
                  m.name,
                  h('span', { class: 'muted small' }, m.kind === 'once' ? ' 临时' : ' 长期'),
                ),
                h(
                  'td',
                  { class: 'small' },
                  [m.dose !== null ? `${m.dose}${m.doseUnit ?? ''}` : '', m.route, m.frequency]
                    .filter(Boolean)
                    .join(' '),
                ),
                h('td', { class: 'small mono' }, `${m.startTime ?? ''} → ${m.stopTime ?? '至今'}`),
              ),
            ),
          ),
        ),
      )
    : null;

  const audit = h(
    'section',
    { class: 'card', id: 'record-audit' },
    h('h2', null, '审计记录'),
    h(
      'ol',
      { class: 'timeline' },
      detail.audit.map((a) =>
        h(
          'li',
          null,
          h('span', { class: 'mono small muted' }, formatTime(a.at)),
          ' ',
          h('strong', null, a.userName),
          ` ${label(ACTION_LABELS, a.action)}`,
          a.toStatus ? h('span', null, ' → ', statusBadge(a.toStatus)) : null,
          a.note ? h('div', { class: 'note' }, a.note) : null,
        ),
      ),
    ),
  );

  async function act(f: StoredFinding, action: string): Promise<void> {
    let note: string | null | undefined;
    if (action === 'dismiss') {
      note = await openNoteDialog('排除误报：请填写原因', '为什么这是误报？', DISMISS_REASONS);
      if (!note) return;
    } else if (action === 'return') {
      note = await openNoteDialog('退回医生：请填写修改意见', '请写明需要医生修改或补充的内容', []);
      if (!note) return;
    }
    try {
      await postJson(`/findings/${encodeURIComponent(f.key)}/actions${qs({ tenant })}`, {
        action,
        expectedStatus: f.status,
        ...(note ? { note } : {}),
      });
      ctx.toast(`已${label(ACTION_LABELS, action)}`);
      await renderRecord(ctx, recordId, new URLSearchParams({ tenant, finding: f.key }));
    } catch (error) {
      ctx.toast(error instanceof ApiError ? error.message : String(error), 'error');
    }
  }

  const findingCards = detail.findings.map((f) => {
    const actions = Object.entries(ACTIONS_FROM)
      .filter(([a, from]) => from.includes(f.status) && (a !== 'reopen' || ctx.user.role === 'admin'))
      .map(([a]) =>
        h(
          'button',
          {
            type: 'button',
            class: `btn btn-small action-${a}${a === 'confirm' ? ' btn-primary' : ''}`,
            'data-action': a,
            onclick: (event: Event) => {
              event.stopPropagation();
              void act(f, a);
            },
          },
          label(ACTION_LABELS, a),
        ),
      );
    return h(
      'li',
      {
        class: `finding sev-border-${f.severity}`,
        'data-key': f.key,
        tabindex: 0,
        onclick: () => activate(f.key, true),
      },
      h(
        'div',
        { class: 'finding-head' },
        severityBadge(f.severity),
        h('span', { class: `src src-${f.source}` }, label(SOURCE_LABELS, f.source)),
        f.grade ? h('span', { class: 'badge grade-badge' }, label(GRADE_LABELS, f.grade)) : null,
        statusBadge(f.status),
      ),
      h('p', { class: 'finding-summary' }, f.summary),
      h(
        'p',
        { class: 'small muted' },
        `${f.ruleId} v${f.ruleVersion} · ${label(CATEGORY_LABELS, f.category)}`,
        f.finding.deduction ? ` · 扣 ${f.finding.deduction} 分` : '',
      ),
      h(
        'details',
        { class: 'finding-detail' },
        h('summary', null, '依据与证据'),
        h('div', { class: 'detail-text' }, f.finding.detail.replace(/\*\*/g, '')),
        h(
          'ul',
          { class: 'evidence' },
          f.finding.evidence.map((e) => h('li', null, h('span', { class: 'ev-kind' }, e.kind), ' ', e.text)),
        ),
        f.finding.suggestions.length
          ? h(
              'ul',
              { class: 'suggestions' },
              f.finding.suggestions.map((s) => h('li', null, s.label)),
            )
          : null,
        h('p', { class: 'small muted' }, `来源：${f.finding.source.label}`),
      ),
      f.statusNote
        ? h('p', { class: 'status-note' }, `处理意见：${f.statusNote}（${f.updatedBy ?? ''}）`)
        : null,
      h('div', { class: 'finding-actions' }, actions),
    );
  });

  function activate(key: string, scroll: boolean): void {
    activeKey = key;
    history.replaceState(null, '', recordHref(recordId, tenant, key));
    for (const el of document.querySelectorAll('.finding.active, .ev-active, .doc-active, .row-active'))
      el.classList.remove('active', 'ev-active', 'doc-active', 'row-active');
    document.querySelector(`.finding[data-key="${CSS.escape(key)}"]`)?.classList.add('active');
    const targets: Element[] = [];
    for (const m of document.querySelectorAll<HTMLElement>('mark.ev'))
      if ((m.dataset.findings ?? '').split(' ').includes(key)) {
        m.classList.add('ev-active');
        targets.push(m);
      }
    for (const row of document.querySelectorAll<HTMLElement>('tr[data-findings]'))
      if ((row.dataset.findings ?? '').split(' ').includes(key)) {
        row.classList.add('row-active');
        targets.push(row);
      }
    const f = detail.findings.find((x) => x.key === key);
    for (const e of f?.finding.evidence ?? []) {
      if (e.documentId && !e.span) {
        const doc = document.getElementById(`doc-${e.documentId}`);
        if (doc) {
          doc.classList.add('doc-active');
          targets.push(doc);
        }
      }
      if (e.ref) {
        const row = document.querySelector(`#medications tr[data-ref="${CSS.escape(e.ref)}"]`);
        if (row) {
          row.classList.add('row-active');
          targets.push(row);
        }
      }
    }
    if (scroll) targets[0]?.scrollIntoView({ block: 'center', behavior: 'instant' as ScrollBehavior });
  }

  const m = detail.meta;
  const p = detail.patient;
  clear(ctx.main);
  ctx.main.append(
    h(
      'div',
      { class: 'page-head record-head' },
      h('a', { href: '#/queue', class: 'back' }, '← 返回队列'),
      h('h1', null, `病历 ${m.id}`),
      h(
        'dl',
        { class: 'meta' },
        // The tenant is shown to users who see several (a single-hospital install has only `default`).
        (ctx.user.tenants ? ctx.user.tenants.length > 1 : tenant !== 'default')
          ? [h('dt', null, '租户'), h('dd', { id: 'record-tenant' }, tenant)]
          : null,
        h('dt', null, '科室'),
        h('dd', null, m.department),
        h('dt', null, '医生'),
        h('dd', null, m.doctor),
        h('dt', null, '出院日期'),
        h('dd', null, m.dischargeDate),
        p
          ? [
              h('dt', null, '患者'),
              h(
                'dd',
                null,
                `${p.name ?? ''} ${p.sex === 'male' ? '男' : p.sex === 'female' ? '女' : ''} ${p.birthDate ?? ''}`,
              ),
            ]
          : null,
        h('dt', null, '问题'),
        h(
          'dd',
          null,
          `${detail.findings.length} 条（待审核 ${detail.findings.filter((f) => f.status === 'open').length}）`,
        ),
      ),
    ),
    h(
      'div',
      { class: 'record-layout' },
      h('div', { class: 'record-main' }, docs, meds, frontPage),
      h(
        'aside',
        { class: 'record-side' },
        h(
          'section',
          { class: 'card', id: 'findings' },
          h('h2', null, `发现的问题（${detail.findings.length}）`),
          h('ul', { class: 'findings' }, findingCards),
        ),
        audit,
      ),
    ),
  );
  if (activeKey && detail.findings.some((f) => f.key === activeKey)) activate(activeKey, true);
}
