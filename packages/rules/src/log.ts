import type { Alert, Severity } from './types.js';
import { SEVERITY_RANK } from './types.js';

/** What a clinician did with an alert (CDS Hooks feedback). */
export interface AlertFeedback {
  alertId: string;
  ruleId: string;
  encounterId: string;
  outcome: 'accepted' | 'overridden';
  /** One of the alert's overrideReasons codes, when overridden. */
  reasonCode?: string;
  comment?: string;
  /** UTC ISO 8601. */
  at: string;
}

/**
 * Alert-fatigue memory for one process: which alerts an encounter has already shown (duplicate
 * suppression per encounter; a higher severity shows again), and the feedback clinicians gave.
 * The service persists the same records in its store; this in-memory log is the library default.
 */
export interface AlertLog {
  /** Keep the alerts not yet shown for this encounter at this or a higher severity, and remember them. */
  filter(encounterId: string, alerts: Alert[]): Alert[];
  /** Forget what an encounter has seen (e.g. at discharge). */
  reset(encounterId: string): void;
  recordFeedback(feedback: AlertFeedback): void;
  feedback(filter?: { ruleId?: string; encounterId?: string }): AlertFeedback[];
  /** Share of feedback that overrode the rule's alerts (0..1), or undefined with no feedback. */
  overrideRate(ruleId: string): number | undefined;
}

export function createAlertLog(): AlertLog {
  const shown = new Map<string, Map<string, Severity>>();
  const feedback: AlertFeedback[] = [];
  return {
    filter(encounterId, alerts) {
      let seen = shown.get(encounterId);
      if (!seen) {
        seen = new Map();
        shown.set(encounterId, seen);
      }
      const out: Alert[] = [];
      for (const a of alerts) {
        const prev = seen.get(a.suppressionKey);
        if (prev !== undefined && SEVERITY_RANK[prev] >= SEVERITY_RANK[a.severity]) continue;
        seen.set(a.suppressionKey, a.severity);
        out.push(a);
      }
      return out;
    },
    reset(encounterId) {
      shown.delete(encounterId);
    },
    recordFeedback(f) {
      // Repeated feedback for the same alert replaces the earlier one (CDS Hooks: tolerate repeats).
      const i = feedback.findIndex((x) => x.alertId === f.alertId && x.encounterId === f.encounterId);
      if (i >= 0) feedback[i] = { ...f };
      else feedback.push({ ...f });
    },
    feedback(filter = {}) {
      return feedback.filter(
        (f) =>
          (!filter.ruleId || f.ruleId === filter.ruleId) &&
          (!filter.encounterId || f.encounterId === filter.encounterId),
      );
    },
    overrideRate(ruleId) {
      const list = feedback.filter((f) => f.ruleId === ruleId);
      if (list.length === 0) return undefined;
      return list.filter((f) => f.outcome === 'overridden').length / list.length;
    },
  };
}
