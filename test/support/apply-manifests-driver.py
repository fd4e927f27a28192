"""
Runs lambdas/cluster-manifests/apply_manifests.py against a real HTTPS server on 127.0.0.1 (test/unit/cluster-manifests-handler.test.ts).

argv[1]: the handler's folder; argv[2]: JSON list of scenarios, each {"event": <custom resource event>, "responses": {"<METHOD> <path>": [status, body]}}
(any other request: 200 {}), or the string "token" (prints the token for cluster `tessera-acme`, eu-west-1, presigned offline).
The server's certificate is signed by a CA made here (the `cryptography` package); the event's CertificateAuthorityData is that CA,
base64, as EKS gives it (with `"otherCa": true`, another CA's). `cfnresponse` (CloudFormation's module, provided with ZipFile code) is a stand-in that records the response,
and the STS presigning is replaced by a fixed token (no network). Prints one JSON result per scenario: the requests the server saw
(method, path, query, content type, authorization, body), the response sent to CloudFormation and what the handler printed.
"""
import base64, contextlib, datetime, http.server, io, importlib, json, os, ssl, sys, tempfile, threading, types
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import ipaddress

sys.path.insert(0, sys.argv[1])
responses = []
sys.modules['cfnresponse'] = types.SimpleNamespace(
    SUCCESS='SUCCESS', FAILED='FAILED',
    send=lambda event, context, status, data, pid=None, noEcho=False, reason=None: responses.append({'status': status, 'pid': pid, 'reason': reason}))
handler = importlib.import_module('apply_manifests')

if sys.argv[2] == 'token':
    os.environ.update(AWS_ACCESS_KEY_ID='AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY='secret', AWS_SESSION_TOKEN='session')
    print(json.dumps(handler.token('tessera-acme', 'eu-west-1')))
    sys.exit(0)


def certificates():
    """A CA and a server certificate for 127.0.0.1 signed by it, as PEM files; the CA's PEM."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'kubernetes')])
    valid = lambda b: b.not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(hours=1)).serial_number(x509.random_serial_number())
    ca = valid(x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())) \
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256())
    server = valid(x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'kube-apiserver')]))
                   .issuer_name(ca_name).public_key(key.public_key())) \
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False).sign(ca_key, hashes.SHA256())
    folder = tempfile.mkdtemp()
    with open(os.path.join(folder, 'cert.pem'), 'wb') as f:
        f.write(server.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(folder, 'key.pem'), 'wb') as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return folder, ca.public_bytes(serialization.Encoding.PEM)


seen, script = [], {}


class Api(http.server.BaseHTTPRequestHandler):
    def answer(self):
        body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
        path, _, query = self.path.partition('?')
        seen.append({'method': self.command, 'path': path, 'query': query, 'contentType': self.headers.get('Content-Type'),
                     'authorization': self.headers.get('Authorization'), 'body': json.loads(body) if body else None})
        status, out = script.get('%s %s' % (self.command, path), [200, {}])
        data = json.dumps(out).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_PATCH = do_DELETE = answer

    def log_message(self, *args):
        pass


folder, ca_pem = certificates()
other_ca_pem = certificates()[1]
server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Api)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(os.path.join(folder, 'cert.pem'), os.path.join(folder, 'key.pem'))
server.socket = tls.wrap_socket(server.socket, server_side=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
handler.token = lambda cluster, region: 'k8s-aws-v1.stub-' + cluster + '-' + region
context = types.SimpleNamespace(get_remaining_time_in_millis=lambda: 60000)

results = []
for scenario in json.loads(sys.argv[2]):
    seen.clear(), responses.clear(), script.clear()
    script.update(scenario.get('responses', {}))
    event = scenario['event']
    for key in ('ResourceProperties', 'OldResourceProperties'):
        if key in event:
            event[key] = {'Endpoint': 'https://127.0.0.1:%d' % server.server_port, 'ClusterName': 'tessera-acme', 'Region': 'eu-west-1',
                          'CertificateAuthorityData': base64.b64encode(other_ca_pem if scenario.get('otherCa') else ca_pem).decode(), **event[key]}
    logs = io.StringIO()
    with contextlib.redirect_stdout(logs):
        handler.handler(event, context)
    results.append({'requests': list(seen), 'responses': list(responses), 'logs': logs.getvalue()})
server.shutdown()
print(json.dumps(results))
