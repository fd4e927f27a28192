"""Server-side apply to an EKS cluster's API (constructs/cluster-manifests.ts)."""
import base64, json, re, signal, socket, ssl, time, urllib.request as ur
from urllib.error import HTTPError
import botocore.session
from botocore.signers import RequestSigner
import cfnresponse

R = 'rbac.authorization.k8s.io/v1'
# kind: apiVersion; no other kind
KINDS = {'ServiceAccount': 'v1', 'ClusterRole': R, 'ClusterRoleBinding': R, 'Role': R, 'RoleBinding': R,
  'Deployment': 'apps/v1', 'PodDisruptionBudget': 'policy/v1'}
PAUSE = 5  # s between tries (401/403 until the access entry takes effect)

def token(cluster, region):
  """As `aws eks get-token`: k8s-aws-v1. + base64url of a presigned GetCallerIdentity."""
  s = botocore.session.get_session()
  sts = s.create_client('sts', region_name=region)
  url = RequestSigner(sts.meta.service_model.service_id, region, 'sts', 'v4', s.get_credentials(), sts.meta.events).generate_presigned_url({
    'method': 'GET', 'url': sts.meta.endpoint_url + '/?Action=GetCallerIdentity&Version=2011-06-15', 'body': {},
    'headers': {'x-k8s-aws-id': cluster}, 'context': {}}, region_name=region, expires_in=60, operation_name='')
  return 'k8s-aws-v1.' + base64.urlsafe_b64encode(url.encode()).decode().rstrip('=')

def where(o):
  """URL path of an object."""
  kind, m = o.get('kind'), o.get('metadata') or {}
  if KINDS.get(kind, 0) != o.get('apiVersion'):
    raise ValueError('%s %s is not a kind applied here (%s)' % (o.get('apiVersion'), kind, ', '.join(KINDS)))
  ns = '' if kind.startswith('Cluster') else 'namespaces/%s/' % m['namespace']
  return '/%s/%s%s/%s' % ('api/v1' if kind == 'ServiceAccount' else 'apis/' + KINDS[kind], ns, kind.lower() + 's', m['name'])

def late(*_):
  raise TimeoutError('out of time')

def call(a, method, o, body=None):
  """One request (apply if a body), again while refused for now."""
  base, tls, h, end = a
  url = where(o)
  while 1:
    try:
      return ur.urlopen(ur.Request(base + url + ('?fieldManager=tessera&force=true' if body else ''), body, h, method=method), context=tls, timeout=20).close()
    except HTTPError as e:
      if method == 'DELETE' and e.code == 404:
        return
      try:
        e.msg = json.loads(e.read(65536))['message']
      except Exception:
        pass
      err, again = 'HTTP %s: %s' % (e.code, e.reason), e.code in (401, 403, 409, 429) or e.code > 499
    except OSError as e:
      if method == 'DELETE' and isinstance(getattr(e, 'reason', e), socket.gaierror):
        return  # no DNS name: cluster gone
      err, again = e, 1
    if not again or time.time() + PAUSE + 20 > end:
      raise RuntimeError('%s %s: %s' % (method, url, err))
    time.sleep(PAUSE)

def handler(event, context):
  rt, pid = event['RequestType'], event.get('PhysicalResourceId', 'manifests')
  left = context.get_remaining_time_in_millis() / 1000 - 10  # s; 10 s kept to answer
  signal.signal(signal.SIGALRM, late)
  signal.alarm(max(int(left), 1))
  s, r = cfnresponse.SUCCESS, None
  try:
    p = event['ResourceProperties']
    new = json.loads(p['Manifests'])
    keep = {where(o) for o in new}
    a = (p['Endpoint'], ssl.create_default_context(cadata=base64.b64decode(p['CertificateAuthorityData']).decode()),
      {'Authorization': 'Bearer ' + token(p['ClusterName'], p['Region']), 'Content-Type': 'application/apply-patch+yaml'}, time.time() + left)
    if rt != 'Delete':
      for o in new:
        call(a, 'PATCH', o, json.dumps(o).encode())
    old = json.loads(event.get('OldResourceProperties', {}).get('Manifests', '[]'))
    for o in reversed(new if rt == 'Delete' else [o for o in old if where(o) not in keep]):
      call(a, 'DELETE', o)
  except Exception as e:
    signal.alarm(0)
    print('FAILED', e)
    if pid != 'failed':  # a failed create's rollback deletes what it can
      # printable ASCII (<= 2 bytes each in JSON): the answer within CloudFormation's 4,096 bytes
      s, r, pid = cfnresponse.FAILED, re.sub('[^ -~]', '?', str(e))[:900], 'failed' if rt == 'Create' else pid
  signal.alarm(0)
  cfnresponse.send(event, context, s, {}, pid, reason=r)
