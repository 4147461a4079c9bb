import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of one app instance (its own registry, so several apps can live in one process). */
export interface ServiceMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  alerts: Counter<'rule_id' | 'severity' | 'channel'>;
  feedback: Counter<'outcome'>;
  refused: Counter<'code'>;
  shed: Counter<'route'>;
  adverseEvents: Counter<'origin' | 'category'>;
  /** The Prometheus text /metrics serves: this registry, or every cluster worker's summed. */
  text(): Promise<string>;
}

export function createMetrics(
  options: { defaultMetrics?: boolean; text?: (registry: Registry) => () => Promise<string> } = {},
): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'yijian' });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'yijian_' });
  return {
    registry,
    text: options.text ? options.text(registry) : () => registry.metrics(),
    httpDuration: new Histogram({
      name: 'yijian_http_request_duration_seconds',
      help: 'HTTP request latency by route template',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    alerts: new Counter({
      name: 'yijian_alerts_total',
      help: 'Alerts returned to callers, by rule, severity and channel (rest, cds-hooks)',
      labelNames: ['rule_id', 'severity', 'channel'],
      registers: [registry],
    }),
    feedback: new Counter({
      name: 'yijian_cds_feedback_total',
      help: 'CDS Hooks card feedback by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    refused: new Counter({
      name: 'yijian_requests_refused_total',
      help: 'Requests answered with a 4xx error, by CDSS_ERR_* code',
      labelNames: ['code'],
      registers: [registry],
    }),
    shed: new Counter({
      name: 'yijian_requests_shed_total',
      help: 'CDS Hooks calls refused unprocessed (503 CDSS_ERR_OVERLOADED) because the event loop was too far behind',
      labelNames: ['route'],
      registers: [registry],
    }),
    adverseEvents: new Counter({
      name: 'yijian_adverse_events_total',
      help: 'Adverse events detected in analysed records or reported manually, by origin and category',
      labelNames: ['origin', 'category'],
      registers: [registry],
    }),
  };
}
