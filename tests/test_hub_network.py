"""Issue 22: the Hub path goes through huggingface_hub's own endpoint and proxy handling (HF_ENDPOINT,
HTTP_PROXY), with no private TCP probe: a fake Hub and a forward proxy on loopback, started here,
receive the requests, and the answers are classified. Each case runs in a subprocess because
huggingface_hub reads HF_ENDPOINT at import time."""

import http.server
import os
import subprocess
import sys
import threading


class _FakeHub(http.server.BaseHTTPRequestHandler):
    """Answers every request with the Hub's 404 for a missing repo, recording the path."""
    seen: list = []

    def _answer(self):
        self.seen.append(self.path)
        self.send_response(404)
        self.send_header("X-Error-Code", "RepositoryNotFound")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = _answer

    def log_message(self, *args):
        pass


class _ForwardProxy(http.server.BaseHTTPRequestHandler):
    """A plain-HTTP forward proxy: the client sends the absolute URL, the proxy fetches it (without
    a proxy of its own) and relays status, headers and body, recording what went through it."""
    seen: list = []

    def _relay(self):
        import urllib.error
        import urllib.request

        self.seen.append(self.path)  # absolute: http://127.0.0.1:<hub port>/api/...
        request = urllib.request.Request(self.path, method=self.command, headers={k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            answer = opener.open(request, timeout=10)
        except urllib.error.HTTPError as err:
            answer = err
        body = answer.read()
        self.send_response(answer.status if hasattr(answer, "status") else answer.code)
        for k, v in answer.headers.items():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = _relay

    def log_message(self, *args):
        pass


def _serve(handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _snapshot_through(env, tmp_path):
    base = dict(os.environ)  # only the proxy the test names: none of the caller's
    for key in ("HF_HUB_CACHE", "NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        base.pop(key, None)
    env = {**base, "HF_HUB_OFFLINE": "0", "HF_HOME": str(tmp_path), **env}
    code = ("from xstilts import hub\n"
            "try:\n    hub.snapshot_model('someone/tiny-model', 'main')\n"
            "except hub.HubError as e:\n    print(type(e).__name__, e)\n")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_the_users_proxy_carries_the_hub_requests(tmp_path):
    """HTTP_PROXY (as cluster nodes reach the internet) is honoured by huggingface_hub's own client:
    the request reaches the fake Hub only through the proxy, and the Hub's 404 still reads as
    'no such repo'. (Plain HTTP on loopback; an https:// Hub goes through HTTPS_PROXY the same way.)"""
    _FakeHub.seen, _ForwardProxy.seen = [], []
    hub, proxy = _serve(_FakeHub), _serve(_ForwardProxy)
    try:
        endpoint = f"http://127.0.0.1:{hub.server_port}"
        proc = _snapshot_through({"HF_ENDPOINT": endpoint, "HTTP_PROXY": f"http://127.0.0.1:{proxy.server_port}",
                                  "http_proxy": f"http://127.0.0.1:{proxy.server_port}"}, tmp_path)
    finally:
        hub.shutdown()
        proxy.shutdown()
    assert any(p.startswith(endpoint + "/api/models/someone/tiny-model") for p in _ForwardProxy.seen), (_ForwardProxy.seen, proc.stderr)
    assert len(_FakeHub.seen) == len(_ForwardProxy.seen) > 0  # every request the Hub saw came through the proxy
    assert proc.stdout.startswith("NotOnHubError"), proc.stdout + proc.stderr


def test_a_dead_proxy_reads_as_unavailable_naming_the_proxy_settings(tmp_path):
    _FakeHub.seen = []
    hub, dead = _serve(_FakeHub), _serve(_ForwardProxy)
    dead_port = dead.server_port
    dead.shutdown()
    dead.server_close()  # nothing listens there now: the connection is refused
    try:
        proc = _snapshot_through({"HF_ENDPOINT": f"http://127.0.0.1:{hub.server_port}", "HTTP_PROXY": f"http://127.0.0.1:{dead_port}",
                                  "http_proxy": f"http://127.0.0.1:{dead_port}"}, tmp_path)
    finally:
        hub.shutdown()
    assert _FakeHub.seen == []  # nothing went around the proxy
    assert proc.stdout.startswith("HubUnavailableError") and "HTTPS_PROXY/HTTP_PROXY" in proc.stdout, proc.stdout + proc.stderr


def test_hf_endpoint_is_used_and_a_404_is_classified(tmp_path):
    _FakeHub.seen = []
    server = _serve(_FakeHub)
    try:
        proc = _snapshot_through({"HF_ENDPOINT": f"http://127.0.0.1:{server.server_port}"}, tmp_path)
    finally:
        server.shutdown()
    assert any("/api/models/someone/tiny-model/revision/main" in p for p in _FakeHub.seen), (_FakeHub.seen, proc.stderr)
    assert proc.stdout.startswith("NotOnHubError"), proc.stdout + proc.stderr
