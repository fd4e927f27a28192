/**
 * The paginator configuration of doctor's listings (the SDK's `paginateX(config, input)`):
 * `pageSize` items per page (the API's MaxRecords / MaxResults; its documented maximum, so fewer
 * calls), and `stopOnSameToken`: a page whose next token is the one it was asked with ends the
 * listing. The SDK's paginators otherwise stop only on an absent token (stopOnSameToken defaults
 * to false), so an endpoint or proxy that answers its last page again made doctor ask for ever.
 * @param client - the SDK client of the call
 * @param pageSize - items per page (RDS MaxRecords 20-1000, ElastiCache 20-100, EC2 MaxResults 5-1000)
 */
export function pages<C>(client: C, pageSize: number): { client: C; pageSize: number; stopOnSameToken: true } {
  return { client, pageSize, stopOnSameToken: true };
}
