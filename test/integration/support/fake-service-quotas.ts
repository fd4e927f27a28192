import { inject } from './faults.js';

/**
 * Service Quotas as the lifecycle meets it in a real account, for the moto suites (moto answers
 * Service Quotas with errors): applied values per quota code, every other quota unknown
 * (`NoSuchResourceException`, so the lifecycle falls back to the documented default), and increase
 * requests recorded and answered `PENDING`, then listed as open.
 */
export interface FakeServiceQuotas {
  /** RequestServiceQuotaIncrease calls, in order. */
  readonly requests: Array<{ serviceCode: string; quotaCode: string; desiredValue: number }>;
  readonly remove: () => void;
}

const noSuch = (what: string) => Object.assign(new Error(`${what} does not exist`), { name: 'NoSuchResourceException', $fault: 'client', $metadata: { httpStatusCode: 400 } });

/** @param applied quota code → applied value in every account */
export function fakeServiceQuotas(applied: Record<string, number>): FakeServiceQuotas {
  const requests: FakeServiceQuotas['requests'] = [];
  const remove = inject('fake-service-quotas', (next, context) => async (args) => {
    const input = args.input;
    const reply = (output: Record<string, unknown>) => ({ output: { ...output, $metadata: {} } });
    switch (context.commandName) {
      case 'GetServiceQuotaCommand':
        if (applied[input.QuotaCode] === undefined) throw noSuch(`quota ${input.QuotaCode}`);
        return reply({ Quota: { ServiceCode: input.ServiceCode, QuotaCode: input.QuotaCode, Value: applied[input.QuotaCode] } });
      case 'GetAWSDefaultServiceQuotaCommand':
        throw noSuch(`default of ${input.QuotaCode}`);
      case 'ListServiceQuotasCommand':
      case 'ListAWSDefaultServiceQuotasCommand':
        return reply({ Quotas: [] });
      case 'ListRequestedServiceQuotaChangeHistoryByQuotaCommand':
        return reply({
          RequestedQuotas: requests.filter((r) => r.quotaCode === input.QuotaCode).map((r, i) => ({ Id: `req-${r.quotaCode}-${i}`, QuotaCode: r.quotaCode, ServiceCode: r.serviceCode, DesiredValue: r.desiredValue, Status: 'PENDING' })),
        });
      case 'RequestServiceQuotaIncreaseCommand': {
        requests.push({ serviceCode: input.ServiceCode, quotaCode: input.QuotaCode, desiredValue: input.DesiredValue });
        return reply({ RequestedQuota: { Id: `req-${input.QuotaCode}-${requests.length - 1}`, QuotaCode: input.QuotaCode, ServiceCode: input.ServiceCode, DesiredValue: input.DesiredValue, Status: 'PENDING' } });
      }
      default:
        return next(args);
    }
  });
  return { requests, remove };
}
