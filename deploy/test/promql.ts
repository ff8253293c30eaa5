/**
 * Reads PromQL with Prometheus' own grammar (@prometheus-io/lezer-promql, the parser of the
 * Prometheus web UI): syntax errors, and the metric selectors an expression uses.
 */
import { parser } from '@prometheus-io/lezer-promql';

export interface Selector {
  metric: string | null;
  /** Label matchers: name, operator (=, !=, =~, !~) and the literal value. */
  matchers: Array<{ label: string; op: string; value: string }>;
}

export interface ParsedQuery {
  errors: string[];
  selectors: Selector[];
}

export function parsePromQL(expr: string): ParsedQuery {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const selectors: Selector[] = [];
  const text = (from: number, to: number) => expr.slice(from, to);
  tree.iterate({
    enter(node) {
      if (node.type.isError) {
        errors.push(
          `syntax error at ${node.from}: …${text(Math.max(0, node.from - 20), node.from)}⟨here⟩${text(node.from, node.from + 20)}…`,
        );
      }
      if (node.name !== 'VectorSelector') return;
      const selector: Selector = { metric: null, matchers: [] };
      const name = node.node.getChild('Identifier');
      if (name) selector.metric = text(name.from, name.to);
      const matchers = node.node.getChild('LabelMatchers');
      for (const m of matchers?.getChildren('UnquotedLabelMatcher') ?? []) {
        const label = m.getChild('LabelName');
        const op = m.getChild('MatchOp');
        const value = m.getChild('StringLiteral');
        if (!label || !op || !value) continue;
        selector.matchers.push({
          label: text(label.from, label.to),
          op: text(op.from, op.to),
          // Quotes off; escapes are left as written (the values checked here are plain words).
          value: text(value.from + 1, value.to - 1),
        });
      }
      selectors.push(selector);
    },
  });
  return { errors, selectors };
}

/**
 * Grafana's template variables, replaced by values PromQL accepts: a range variable in a
 * range, anything else as a label value. Variables used elsewhere make the parse fail, as they should.
 */
export function expandGrafanaVariables(expr: string): string {
  return expr
    .replace(/\[\$\{?__\w+\}?\]/g, '[5m]')
    .replace(/\$\{?__\w+\}?/g, '5m')
    .replace(/\$\{?(\w+)(:\w+)?\}?/g, '$1');
}
