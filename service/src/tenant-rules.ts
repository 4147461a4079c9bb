import type { Alert } from './context.js';
import type { TenantRuleSetting } from './store.js';

/**
 * Per-tenant rule settings applied to the engine's alerts: a disabled rule's alerts are dropped, a
 * severity override replaces the alert's severity (and card indicator). The rules themselves, and
 * whether they fire, stay in the library; this is the hospital's switchboard on top.
 */
export function applyTenantRules<
  T extends Pick<Alert, 'ruleId' | 'severity'> & { indicator?: Alert['indicator'] },
>(alerts: T[], settings: Map<string, TenantRuleSetting>): T[] {
  if (settings.size === 0) return alerts;
  const out: T[] = [];
  for (const a of alerts) {
    const s = settings.get(a.ruleId);
    if (!s) {
      out.push(a);
      continue;
    }
    if (!s.enabled) continue;
    out.push(
      s.severity
        ? { ...a, severity: s.severity, ...(a.indicator !== undefined ? { indicator: s.severity } : {}) }
        : a,
    );
  }
  return out;
}
