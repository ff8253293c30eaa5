/**
 * The Prometheus alert rules and the Grafana dashboard: well-formed, every query valid PromQL
 * (Prometheus' own grammar), and every metric, label and label value one the services export.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { createRegistry, ingressMetrics, registerQueueMetrics, workerMetrics } from '@auphonic-bridge/metrics';
import { parse } from 'yaml';
import { CONTRACT, resolveContractMetric, TARGET_LABELS } from './metrics-contract.ts';
import { expandGrafanaVariables, parsePromQL } from './promql.ts';

const MONITORING = new URL('../monitoring/', import.meta.url);
/** Grafana replaces this with the chosen data source on import. */
const DS_INPUT = ['$', '{DS_PROMETHEUS}'].join('');

interface Rule {
  alert?: string;
  record?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RulesFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}
interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  __inputs: Array<{ name: string; type: string; pluginId: string }>;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string | { query?: string }; datasource?: { uid?: string } }> };
}

const rulesFile = parse(await readFile(new URL('prometheus-alerts.yaml', MONITORING), 'utf8')) as RulesFile;
const dashboard = JSON.parse(await readFile(new URL('grafana-dashboard.json', MONITORING), 'utf8')) as Dashboard;

// The metrics the services really register, beside prom-client's standard process metrics.
const registry = createRegistry('contract-check');
ingressMetrics(registry);
workerMetrics(registry, []);
registerQueueMetrics(registry, []);
const registered = new Map(registry.getMetricsAsArray().map((m) => [m.name, m as unknown as { type: string; labelNames?: string[] }]));
const processMetrics = [...registered.keys()].filter((name) => /^(process|nodejs)_/.test(name));

const rules = rulesFile.groups.flatMap((g) => g.rules);
const alerts = new Map(rules.map((r) => [r.alert ?? '', r]));

/** Every problem with the metrics, labels and label values one PromQL expression uses. */
function metricProblems(expr: string): string[] {
  const { errors, selectors } = parsePromQL(expr);
  const problems = [...errors];
  for (const s of selectors) {
    if (!s.metric) {
      problems.push('a selector without a metric name');
      continue;
    }
    const resolved = resolveContractMetric(s.metric);
    if (!resolved) {
      if (!processMetrics.includes(s.metric)) problems.push(`${s.metric}: not in the contract nor a standard process metric`);
      continue;
    }
    const labels = resolved.spec?.labels ?? {};
    for (const m of s.matchers) {
      const known = m.label in labels || resolved.extraLabels.includes(m.label) || TARGET_LABELS.includes(m.label);
      if (!known) problems.push(`${s.metric}: no label ${m.label}`);
      const values = labels[m.label];
      if (!values) continue;
      // Equality, or a regex that is a plain list of alternatives: each value must exist.
      const listed = m.op === '=' || m.op === '!=' ? [m.value] : /^[\w|]+$/.test(m.value) ? m.value.split('|') : [];
      for (const v of listed)
        if (!values.includes(v)) problems.push(`${s.metric}: ${m.label}="${v}" is never exported (${values.join(', ')})`);
    }
  }
  return problems;
}

describe('the metrics contract', () => {
  for (const [name, spec] of Object.entries(CONTRACT)) {
    it(`the services register ${name} (${spec.type}, labels ${Object.keys(spec.labels).join(', ') || 'none'})`, () => {
      const metric = registered.get(name);
      assert.ok(metric, `${name} is registered by @auphonic-bridge/metrics`);
      assert.equal(metric.type, spec.type);
      assert.deepEqual([...(metric.labelNames ?? [])].sort(), Object.keys(spec.labels).sort());
    });
  }

  it('finds problems where there are some (a check of the check)', () => {
    assert.deepEqual(metricProblems('rate(auphonic_bridge_jobs_processed_total{outcome="completed"}[5m])'), []);
    assert.equal(metricProblems('rate(auphonic_bridge_jobs_processed_total{outcome="done"}[5m])').length, 1);
    assert.equal(metricProblems('auphonic_bridge_queue_depth').length, 1);
    assert.equal(metricProblems('auphonic_bridge_queue_jobs{status="waiting"}').length, 1);
    assert.equal(metricProblems('sum(rate(auphonic_bridge_download_bytes_total[5m])').length, 1);
    assert.deepEqual(
      metricProblems('histogram_quantile(0.9, sum by (le) (rate(auphonic_bridge_job_duration_seconds_bucket{le="1"}[5m])))'),
      [],
    );
  });
});

describe('prometheus-alerts.yaml', () => {
  it('is one rule group, auphonic-bridge, of uniquely named alerts', () => {
    assert.deepEqual(
      rulesFile.groups.map((g) => g.name),
      ['auphonic-bridge'],
    );
    assert.equal(alerts.size, rules.length, 'alert names are unique');
  });

  for (const rule of rules) {
    it(`${rule.alert}: expr, for, severity, summary and description`, () => {
      assert.ok(rule.alert, 'an alerting rule');
      assert.ok(rule.expr, 'expr');
      assert.match(rule.for ?? '', /^(\d+(ms|s|m|h|d|w|y))+$/, 'for');
      assert.ok(['critical', 'warning', 'info'].includes(rule.labels?.severity ?? ''), `severity ${rule.labels?.severity}`);
      assert.ok(rule.annotations?.summary?.trim(), 'summary');
      assert.ok(rule.annotations?.description?.trim(), 'description');
    });

    it(`${rule.alert}: valid PromQL on contract metrics only`, () => {
      assert.deepEqual(metricProblems(rule.expr ?? ''), []);
    });

    it(`${rule.alert}: its annotations use only labels the expression keeps`, () => {
      const kept = new Set([...(rule.expr ?? '').matchAll(/\b(?:by|on)\s*\(([^)]*)\)/g)].flatMap((m) => (m[1] ?? '').split(/\s*,\s*/)));
      const used = Object.values(rule.annotations ?? {}).flatMap((text) => [...text.matchAll(/\$labels\.(\w+)/g)].map((m) => m[1]));
      for (const label of used) assert.ok(label && kept.has(label), `$labels.${label} survives the aggregation`);
    });
  }

  const expected: Array<[string, RegExp]> = [
    ['AuphonicBridgeJobsFailed', /auphonic_bridge_jobs_processed_total\{outcome="failed"\}\[15m\]/],
    ['AuphonicBridgeProductionsIncomplete', /auphonic_bridge_productions_recorded_total\{outcome=~"partial\|error"\}\[15m\]/],
    ['AuphonicBridgeWebhooksMissed', /auphonic_bridge_reconcile_recovered_total\[1h\]/],
    ['AuphonicBridgeReconcileSkipping', /auphonic_bridge_reconcile_skipped_total\[1h\]/],
    ['AuphonicBridgeNotificationsFailing', /auphonic_bridge_notifications_total\{outcome=~"failed\|gone\|given-up"\}\[30m\]/],
    ['AuphonicBridgeJobsStuck', /auphonic_bridge_queue_oldest_waiting_seconds\) > 900\b/],
    ['AuphonicBridgeQueueGrowing', /deriv\(auphonic_bridge_queue_runnable_jobs\[30m\]\)\) > 0/],
    ['AuphonicBridgeNoWorkers', /auphonic_bridge_queue_workers\) == 0/],
    ['AuphonicBridgeQueueMetricsAbsent', /absent\(auphonic_bridge_queue_workers/],
    ['AuphonicBridgeWebhooksRefused', /auphonic_bridge_webhooks_refused_total/],
    ['AuphonicBridgeAuphonicApiErrors', /auphonic_bridge_auphonic_request_duration_seconds_count\{status_code=~"5\.\."\}/],
  ];
  for (const [name, pattern] of expected) {
    it(`alerts on ${name}`, () => assert.match(alerts.get(name)?.expr ?? '', pattern));
  }
});

describe('grafana-dashboard.json', () => {
  const flat = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const queryPanels = flat.filter((p) => p.type !== 'row');

  it('is a dashboard to import, its Prometheus an input named DS_PROMETHEUS', () => {
    assert.equal(dashboard.uid, 'auphonic-bridge');
    assert.ok(dashboard.title);
    assert.deepEqual(
      dashboard.__inputs.map((i) => [i.name, i.type, i.pluginId]),
      [['DS_PROMETHEUS', 'datasource', 'prometheus']],
    );
    assert.ok(queryPanels.length >= 10, `${queryPanels.length} panels`);
  });

  it('every panel and query uses the DS_PROMETHEUS input as datasource', () => {
    for (const p of queryPanels) {
      assert.equal(p.datasource?.uid, DS_INPUT, p.title);
      assert.ok(p.targets?.length, `${p.title} has queries`);
      for (const t of p.targets ?? []) assert.equal(t.datasource?.uid ?? p.datasource?.uid, DS_INPUT, p.title);
    }
    for (const v of dashboard.templating.list) if (v.type === 'query') assert.equal(v.datasource?.uid, DS_INPUT, v.name);
  });

  it('every panel query is valid PromQL on contract metrics and standard process_/nodejs_ metrics only', () => {
    const problems: string[] = [];
    for (const p of queryPanels) {
      for (const t of p.targets ?? []) {
        assert.ok(t.expr, `${p.title} ${t.refId} has an expr`);
        for (const problem of metricProblems(expandGrafanaVariables(t.expr))) problems.push(`${p.title} ${t.refId}: ${problem}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('the template variables read contract metrics and labels', () => {
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query')) {
      const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const m = query.match(/^label_values\((\w+),\s*(\w+)\)$/);
      assert.ok(m, `${v.name}: ${query}`);
      const [, metric = '', label = ''] = m;
      assert.ok(label in (CONTRACT[metric]?.labels ?? {}), `${metric} has label ${label}`);
    }
  });

  it('panels have unique ids and do not overlap on the 24-column grid', () => {
    assert.equal(new Set(flat.map((p) => p.id)).size, flat.length);
    for (const [i, a] of flat.entries()) {
      assert.ok(a.gridPos.x >= 0 && a.gridPos.x + a.gridPos.w <= 24, `${a.title} fits`);
      for (const b of flat.slice(i + 1)) {
        const overlap =
          a.gridPos.x < b.gridPos.x + b.gridPos.w &&
          b.gridPos.x < a.gridPos.x + a.gridPos.w &&
          a.gridPos.y < b.gridPos.y + b.gridPos.h &&
          b.gridPos.y < a.gridPos.y + a.gridPos.h;
        assert.ok(!overlap, `${a.title} overlaps ${b.title}`);
      }
    }
  });
});
