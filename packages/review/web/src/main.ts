import { ApiError, getJson, setToken, token } from './api.js';
import { renderAudit } from './audit.js';
import { renderDashboard } from './dashboard.js';
import { clear, h } from './dom.js';
import { label, ROLE_LABELS } from './labels.js';
import { renderQueue } from './queue.js';
import { renderRecord } from './record.js';
import type { User } from './types.js';

export interface AppContext {
  user: User;
  main: HTMLElement;
  toast(message: string, kind?: 'ok' | 'error'): void;
}

const main = document.getElementById('main')!;
const userBox = document.getElementById('user')!;
const toastBox = document.getElementById('toast')!;
let current: User | null = null;

function toast(message: string, kind: 'ok' | 'error' = 'ok'): void {
  const el = h('div', { class: `toast toast-${kind}`, role: 'status' }, message);
  toastBox.appendChild(el);
  setTimeout(() => el.remove(), 4000);
}

function showLogin(message?: string): void {
  current = null;
  clear(userBox);
  clear(main);
  const input = h('input', {
    id: 'login-token',
    type: 'password',
    autocomplete: 'current-password',
    placeholder: '请输入访问令牌',
    required: true,
  });
  const error = h('p', { class: 'form-error', id: 'login-error' }, message ?? '');
  const form = h(
    'form',
    { class: 'login card', id: 'login-form' },
    h('h2', null, '登录病历质控审核平台'),
    h(
      'p',
      { class: 'muted' },
      '使用管理员分配的个人访问令牌登录。每一次审核操作都将以您的身份记入审计日志。',
    ),
    h('label', { for: 'login-token' }, '访问令牌'),
    input,
    error,
    h('button', { type: 'submit', class: 'btn btn-primary' }, '登录'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    void start();
  });
  main.appendChild(form);
  input.focus();
}

async function start(): Promise<void> {
  if (!token()) return showLogin();
  try {
    current = await getJson<User>('/me');
  } catch (error) {
    setToken(null);
    return showLogin(error instanceof ApiError ? error.message : '无法连接服务器');
  }
  clear(userBox);
  userBox.append(
    h('span', { class: 'user-name', id: 'user-name' }, current.name),
    h('span', { class: `role role-${current.role}` }, label(ROLE_LABELS, current.role)),
    h(
      'button',
      {
        class: 'btn btn-link',
        type: 'button',
        onclick: () => {
          setToken(null);
          showLogin();
        },
      },
      '退出',
    ),
  );
  await route();
}

async function route(): Promise<void> {
  if (!current) return;
  const hash = location.hash.replace(/^#/, '') || '/queue';
  const [path = '/queue', query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a'))
    a.classList.toggle('active', path.startsWith(a.dataset.route ?? '~'));
  const ctx: AppContext = { user: current, main, toast };
  clear(main);
  main.appendChild(h('div', { class: 'loading' }, '加载中…'));
  try {
    if (path.startsWith('/record/')) await renderRecord(ctx, decodeURIComponent(path.slice(8)), params);
    else if (path === '/dashboard') await renderDashboard(ctx, params);
    else if (path === '/audit') await renderAudit(ctx, params);
    else await renderQueue(ctx, params);
  } catch (error) {
    clear(main);
    main.appendChild(
      h(
        'div',
        { class: 'card error-card' },
        h('h2', null, '加载失败'),
        h('p', null, (error as Error).message),
      ),
    );
  }
}

window.addEventListener('hashchange', () => void route());
window.addEventListener('review:unauthorized', () => {
  setToken(null);
  showLogin('登录已失效，请重新登录');
});
void start();
