"""
Runs lambdas/cluster-manifests/apply_manifests.py against a real HTTPS server on 127.0.0.1 (test/unit/cluster-manifests-handler.test.ts).

argv[1]: the handler's folder; argv[2]: JSON list of scenarios, each {"event": <custom resource event>, "responses": {"<METHOD> <path>": answer}}
(any other request: 200 {}), or the string "token" (prints the token for cluster `tessera-acme`, eu-west-1, presigned offline). An answer is
[status, body] (a string body is sent as is, as text/html), [status, body, seconds] (the answer trickled out a byte every 0.25 s over that
long), or a list of answers given in turn (the last one again after). "remaining": the Lambda's remaining time at the start, ms
(@default 60000). The handler's pause between tries is 0.05 s here.
The server's certificate is signed by a CA made here (the `cryptography` package); the event's CertificateAuthorityData is that CA,
base64, as EKS gives it (with `"otherCa": true`, another CA's). `cfnresponse` (CloudFormation's module, provided with ZipFile code) is a stand-in that records the response,
and the STS presigning is replaced by a fixed token (no network). Prints one JSON result per scenario: the requests the server saw
(method, path, query, content type, authorization, body), the response sent to CloudFormation and what the handler printed.
"""
import base64, contextlib, datetime, http.server, io, importlib, json, os, ssl, sys, tempfile, threading, time, types
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
import ipaddress

sys.path.insert(0, sys.argv[1])
responses = []
sys.modules['cfnresponse'] = types.SimpleNamespace(
    SUCCESS='SUCCESS', FAILED='FAILED',
    send=lambda event, context, status, data, pid=None, noEcho=False, reason=None: responses.append({'status': status, 'pid': pid, 'reason': reason,
        # the size of the body CloudFormation's cfnresponse would PUT (its fields, json.dumps), with a long stack ARN and logical id
        'bodyBytes': len(json.dumps({'Status': status, 'Reason': reason or 'See the details in CloudWatch Log Stream: ' + 'x' * 120,
                                     'PhysicalResourceId': pid, 'StackId': 'arn:aws:cloudformation:ap-southeast-2:123456789012:stack/' + 's' * 128 + '/' + 'u' * 36,
                                     'RequestId': 'r' * 36, 'LogicalResourceId': 'L' * 255, 'NoEcho': noEcho, 'Data': data}))}))
handler = importlib.import_module('apply_manifests')
handler.PAUSE = 0.05

if sys.argv[2] == 'token':
    os.environ.update(AWS_ACCESS_KEY_ID='AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY='secret', AWS_SESSION_TOKEN='session')
    print(json.dumps(handler.token('tessera-acme', 'eu-west-1')))
    sys.exit(0)


def certificates():
    """A TLS server context with a certificate for 127.0.0.1 signed by a CA made here; the CA's PEM."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'kubernetes')])
    valid = lambda b: b.not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(hours=1)).serial_number(x509.random_serial_number())
    ca = valid(x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())) \
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256())
    server = valid(x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'kube-apiserver')]))
                   .issuer_name(ca_name).public_key(key.public_key())) \
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False).sign(ca_key, hashes.SHA256())
    # load_cert_chain reads files only: written to a directory removed once they are loaded
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, 'cert.pem'), 'wb') as f:
            f.write(server.public_bytes(serialization.Encoding.PEM))
        with open(os.path.join(folder, 'key.pem'), 'wb') as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        tls.load_cert_chain(os.path.join(folder, 'cert.pem'), os.path.join(folder, 'key.pem'))
    return tls, ca.public_bytes(serialization.Encoding.PEM)


seen, script = [], {}


class Api(http.server.BaseHTTPRequestHandler):
    def answer(self):
        body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
        path, _, query = self.path.partition('?')
        seen.append({'method': self.command, 'path': path, 'query': query, 'contentType': self.headers.get('Content-Type'),
                     'authorization': self.headers.get('Authorization'), 'body': json.loads(body) if body else None})
        answer = script.get('%s %s' % (self.command, path), [200, {}])
        if isinstance(answer[0], list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        status, out, slow = (answer + [0])[:3]
        data = out.encode() if isinstance(out, str) else json.dumps(out).encode()
        raw = b'HTTP/1.1 %d Answer\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n' % (
            status, b'text/html' if isinstance(out, str) else b'application/json', len(data)) + data
        if slow:
            step = max(1, len(raw) // int(slow / 0.25))
            for i in range(0, len(raw), step):
                time.sleep(0.25)
                self.wfile.write(raw[i:i + step])
        else:
            self.wfile.write(raw)

    do_PATCH = do_DELETE = answer

    def log_message(self, *args):
        pass


tls, ca_pem = certificates()
other_ca_pem = certificates()[1]
server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Api)
server.socket = tls.wrap_socket(server.socket, server_side=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
handler.token = lambda cluster, region: 'k8s-aws-v1.stub-' + cluster + '-' + region

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
    start = time.time()
    deadline = start + scenario.get('remaining', 60000) / 1000
    context = types.SimpleNamespace(get_remaining_time_in_millis=lambda: int((deadline - time.time()) * 1000), log_stream_name='x')
    with contextlib.redirect_stdout(logs):
        handler.handler(event, context)
    results.append({'requests': list(seen), 'responses': list(responses), 'logs': logs.getvalue(), 'seconds': time.time() - start})
server.shutdown()
print(json.dumps(results))
