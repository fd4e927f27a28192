import { Aws } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

export interface ContributorInsightsWidgetProps {
  readonly title: string;
  /** The Contributor Insights rule whose top contributors are drawn. */
  readonly ruleName: string;
  /** Contributors drawn, 1-100 (GetInsightRuleReport's MaxContributorCount range). @default 10 */
  readonly maxContributorCount?: number;
  /** @default 6 */
  readonly width?: number;
  /** @default 6 */
  readonly height?: number;
  /** Seconds per point. @default 3600 (one hour: "per hour" figures) */
  readonly periodSeconds?: number;
}

/**
 * A metric widget over a Contributor Insights rule (`properties.insightRule` in the dashboard body
 * structure): the top contributors of the rule, ordered by their sum. Neither aws-cloudwatch nor
 * cdk-monitoring-constructs offers one (as of aws-cdk-lib 2.276 / cdk-monitoring-constructs 10.2).
 */
export class ContributorInsightsWidget extends cloudwatch.ConcreteWidget {
  constructor(private readonly props: ContributorInsightsWidgetProps) {
    super(props.width ?? 6, props.height ?? 6);
    const n = props.maxContributorCount ?? 10;
    if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error(`maxContributorCount is ${n}: use an integer from 1 to 100`);
  }

  toJson(): unknown[] {
    return [{
      type: 'metric', width: this.width, height: this.height, x: this.x, y: this.y,
      properties: {
        title: this.props.title, region: Aws.REGION,
        view: 'timeSeries', stacked: false, legend: { position: 'right' },
        period: this.props.periodSeconds ?? 3600,
        insightRule: { maxContributorCount: this.props.maxContributorCount ?? 10, orderBy: 'Sum', ruleName: this.props.ruleName },
      },
    }];
  }
}
