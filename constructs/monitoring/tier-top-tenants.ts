import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { DefaultDashboardFactory, MonitoringFacade } from 'cdk-monitoring-constructs';
import { GATEWAY_LOG_FIELDS, GATEWAY_METRICS, GATEWAY_METRICS_NAMESPACE, GATEWAY_METRICS_SERVICE } from '../../lambdas/inference/metrics-audit-sink.js';
import { ContributorInsightsWidget } from './contributor-insights-widget.js';

export interface TierTopTenantsProps {
  /** The tier's name (a key of `tiers` in the config). */
  readonly tier: string;
  /** Log groups the gateway prints its EMF lines to (the router's, the fine-tuning API's). */
  readonly logGroupNames: string[];
  /** Tenants each widget ranks, 1-100. */
  readonly topTenants: number;
}

/** What a tier dashboard ranks tenants by: the rule's name suffix, its value field (or a count) and its filter. */
const RANKINGS = [
  { id: 'Tokens', suffix: 'top-tokens', title: 'tokens', valueOf: GATEWAY_LOG_FIELDS.tokens, aggregateOn: 'Sum' },
  { id: 'Cost', suffix: 'top-cost', title: 'cost (USD)', valueOf: GATEWAY_LOG_FIELDS.costUsd, aggregateOn: 'Sum' },
  { id: 'Errors', suffix: 'top-errors', title: 'failed requests (4xx/5xx)', valueOf: undefined, aggregateOn: 'Count' },
] as const;

/**
 * One tier's dashboard (`Tessera-Tier-<tier>`): the tier's requests, tokens, cost and errors from the
 * gateway's `[Service, Tier]` metrics, and the top tenants of the tier by tokens, cost and failed
 * requests per hour from three Contributor Insights rules (`tessera-<tier>-top-tokens`, `-top-cost`,
 * `-top-errors`) over the gateway's log groups. Tenants stay out of metric dimensions: the rules
 * read the `tenantId` field of the EMF lines, and cost only per matched log event.
 */
export class TierTopTenants extends Construct {
  readonly rules: cloudwatch.CfnInsightRule[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: TierTopTenantsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const widgets: cloudwatch.IWidget[] = [];
    for (const r of RANKINGS) {
      const ruleName = `tessera-${props.tier}-${r.suffix}`;
      const rule = new cloudwatch.CfnInsightRule(this, r.id, {
        ruleName,
        ruleState: 'ENABLED',
        ruleBody: stack.toJsonString({
          Schema: { Name: 'CloudWatchLogRule', Version: 1 },
          LogGroupNames: props.logGroupNames,
          LogFormat: 'JSON',
          Contribution: {
            Keys: [`$.${GATEWAY_LOG_FIELDS.tenantId}`],
            ...(r.valueOf ? { ValueOf: `$.${r.valueOf}` } : {}),
            Filters: [
              { Match: `$.${GATEWAY_LOG_FIELDS.tier}`, In: [props.tier] },
              ...(r.valueOf ? [] : [{ Match: `$.${GATEWAY_LOG_FIELDS.statusCode}`, StartsWith: ['4', '5'] }]),
            ],
          },
          AggregateOn: r.aggregateOn,
        }),
      });
      this.rules.push(rule);
      widgets.push(new ContributorInsightsWidget({ title: `Top ${props.topTenants} tenants by ${r.title} per hour`, ruleName, maxContributorCount: props.topTenants, width: 8 }));
    }

    const facade = new MonitoringFacade(this, 'Monitoring', {
      alarmFactoryDefaults: { actionsEnabled: false, alarmNamePrefix: `Tessera-${props.tier}` },
      metricFactoryDefaults: { namespace: GATEWAY_METRICS_NAMESPACE },
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: `Tessera-Tier-${props.tier}`, createDashboard: true, createSummaryDashboard: false, createAlarmDashboard: false,
      }),
    });
    const tierMetric = (metricName: string, statistic: string, label: string, period = Duration.minutes(5)) => new cloudwatch.Metric({
      namespace: GATEWAY_METRICS_NAMESPACE, metricName, dimensionsMap: { Service: GATEWAY_METRICS_SERVICE, Tier: props.tier }, statistic, period, label,
    });
    facade.addLargeHeader(`Tier ${props.tier}: top tenants (Contributor Insights)`);
    for (const w of widgets) facade.addWidget(w);
    facade.monitorCustom({
      alarmFriendlyName: `Tier-${props.tier}`,
      humanReadableName: `Tier ${props.tier}: gateway`,
      metricGroups: [
        { title: 'Requests', metrics: [tierMetric(GATEWAY_METRICS.requests, 'Sum', 'requests')] },
        { title: 'Errors', metrics: [tierMetric(GATEWAY_METRICS.clientErrors, 'Sum', '4xx'), tierMetric(GATEWAY_METRICS.serverErrors, 'Sum', '5xx'), tierMetric(GATEWAY_METRICS.throttles, 'Sum', '429')] },
        { title: 'Tokens per hour', metrics: [tierMetric(GATEWAY_METRICS.tokens, 'Sum', 'tokens', Duration.hours(1))] },
        { title: 'Cost per hour (USD)', metrics: [tierMetric(GATEWAY_METRICS.costUsd, 'Sum', 'USD', Duration.hours(1))] },
      ],
    });
    this.dashboard = facade.createdDashboard()!;
  }
}
