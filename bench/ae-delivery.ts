/**
 * The delivery headline number (issue 9): 1,000 adverse events through the durable outbox and the
 * DingTalk dispatcher to the loopback DingTalk-compatible server, with 30% of requests failing at
 * random (500, 503, errcode -1, connection reset, stall past the client timeout) and the dispatcher
 * process SIGKILLed 3 times in the middle of a delivery. The clock is compressed (default 10×), so
 * the ~50 virtual minutes of a 20-messages-per-minute robot take about two real minutes.
 *
 *   pnpm bench:ae [-- --events 1000 --failure 0.3 --kills 3 --speed 30 --seed 1]
 */
import { runDeliveryScenario } from '@yijian/dingtalk';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const options = {
  events: arg('events', 1000),
  failureRate: arg('failure', 0.3),
  kills: arg('kills', 3),
  speed: arg('speed', 10),
  seed: arg('seed', 1),
  timeoutMs: arg('timeout', 600_000),
};
console.log(`ae-delivery: ${JSON.stringify(options)}`);
const r = await runDeliveryScenario(options);
const lines = [
  `events enqueued:                 ${r.events}`,
  `delivered (distinct 编号):        ${r.delivered}/${r.events}${r.missing.length ? `  MISSING ${r.missing.slice(0, 5).join(',')}` : ''}`,
  `dead-lettered:                   ${r.dead}`,
  `SIGKILLs mid-delivery:           ${r.kills}`,
  `jobs recovered mid-send:         ${r.inFlightRecovered}`,
  `duplicates delivered:            ${r.duplicates.length} (all after a crash between send and acknowledgement: ${r.unexplainedDuplicates.length === 0 ? 'yes' : `NO: ${r.unexplainedDuplicates.join(',')}`})`,
  `requests received by server:     ${r.requests}`,
  `failures injected:               ${r.injectedFailures} (${((100 * r.injectedFailures) / Math.max(1, r.requests)).toFixed(1)}% of requests)`,
  `messages accepted:               ${r.messagesAccepted} (${r.mergedMessages} sends carried merged events)`,
  `max requests in any 60 s window: ${r.maxPerMinute} at the server, ${r.clientMaxPerMinute} by send time (limit 20; server-side violations: ${r.limitViolations})`,
  `virtual time:                    ${r.virtualMinutes.toFixed(1)} min at ${options.speed}× = ${(r.wallMs / 1000).toFixed(1)} s wall`,
];
console.log(lines.join('\n'));
const ok =
  r.missing.length === 0 &&
  r.unexplainedDuplicates.length === 0 &&
  r.maxPerMinute <= 20 &&
  r.limitViolations === 0;
console.log(ok ? 'RESULT: PASS' : 'RESULT: FAIL');
process.exitCode = ok ? 0 : 1;
