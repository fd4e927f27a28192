"""Server-side apply of Kubernetes manifests to an EKS cluster by its API (constructs/cluster-manifests.ts)."""
import base64, json, ssl, urllib.request as ur
from urllib.error import HTTPError
import botocore.session
from botocore.signers import RequestSigner
import cfnresponse

R = 'rbac.authorization.k8s.io/v1'
# kind: (apiVersion, plural, namespaced); any other kind is refused
KINDS = {'ServiceAccount': ('v1', 'serviceaccounts', 1), 'ClusterRole': (R, 'clusterroles', 0),
         'ClusterRoleBinding': (R, 'clusterrolebindings', 0), 'Role': (R, 'roles', 1), 'RoleBinding': (R, 'rolebindings', 1),
         'Deployment': ('apps/v1', 'deployments', 1), 'PodDisruptionBudget': ('policy/v1', 'poddisruptionbudgets', 1)}


def token(cluster, region):
    """As `aws eks get-token`: k8s-aws-v1. + unpadded base64url of a presigned GetCallerIdentity URL (60 s)."""
    s = botocore.session.get_session()
    sts = s.create_client('sts', region_name=region)
    url = RequestSigner(sts.meta.service_model.service_id, region, 'sts', 'v4', s.get_credentials(), sts.meta.events).generate_presigned_url({
        'method': 'GET', 'url': sts.meta.endpoint_url + '/?Action=GetCallerIdentity&Version=2011-06-15', 'body': {},
        'headers': {'x-k8s-aws-id': cluster}, 'context': {}}, region_name=region, expires_in=60, operation_name='')
    return 'k8s-aws-v1.' + base64.urlsafe_b64encode(url.encode()).decode().rstrip('=')


def where(o):
    """(name for errors, URL path) of an object."""
    kind, m = o.get('kind'), o.get('metadata') or {}
    if KINDS.get(kind, [0])[0] != o.get('apiVersion'):
        raise ValueError('%s %s is not a kind applied here (%s)' % (o.get('apiVersion'), kind, ', '.join(KINDS)))
    api, plural, nsd = KINDS[kind]
    ns = 'namespaces/%s/' % m['namespace'] if nsd else ''
    return '%s %s%s' % (kind, ns, m['name']), '/%s/%s%s/%s' % ('api/v1' if api == 'v1' else 'apis/' + api, ns, plural, m['name'])


class Api:
    def __init__(self, p, ctx):
        self.url, self.ctx = p['Endpoint'], ctx
        self.tls = ssl.create_default_context(cadata=base64.b64decode(p['CertificateAuthorityData']).decode())
        self.auth = 'Bearer ' + token(p['ClusterName'], p['Region'])

    def call(self, method, o, query='', body=None):
        name, url = where(o)
        left = self.ctx.get_remaining_time_in_millis() / 1000 - 10
        if left < 1:
            raise TimeoutError('%s %s: no time left' % (method, name))
        h = {'Authorization': self.auth, 'Content-Type': 'application/apply-patch+yaml'}
        try:
            ur.urlopen(ur.Request(self.url + url + query, body, h, method=method), context=self.tls, timeout=min(20, left)).close()
        except HTTPError as e:
            if method == 'DELETE' and e.code == 404:
                return
            try:
                e.msg = json.loads(e.read())['message']
            except Exception:
                pass
            raise RuntimeError('%s %s: HTTP %s: %s' % (method, name, e.code, e.reason)) from None
        except OSError as e:
            raise RuntimeError('%s %s: %s' % (method, name, e)) from None


def handler(event, context):
    rt, pid = event['RequestType'], event.get('PhysicalResourceId', 'manifests')
    try:
        p = event['ResourceProperties']
        new = json.loads(p['Manifests'])
        if pid != 'failed':
            keep = {where(o)[1] for o in new}
            api = Api(p, context)
            if rt != 'Delete':
                for o in new:
                    api.call('PATCH', o, '?fieldManager=tessera&force=true', json.dumps(o).encode())
            old = json.loads(event.get('OldResourceProperties', {}).get('Manifests', '[]'))
            for o in reversed(new if rt == 'Delete' else [o for o in old if where(o)[1] not in keep]):
                api.call('DELETE', o)
        cfnresponse.send(event, context, cfnresponse.SUCCESS, {}, pid)
    except Exception as e:
        print('FAILED', e)
        cfnresponse.send(event, context, cfnresponse.FAILED, {}, 'failed' if rt == 'Create' else pid, reason=str(e)[:900])
