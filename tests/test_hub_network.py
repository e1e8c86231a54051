"""Issue 22: the Hub path goes through huggingface_hub's own endpoint handling (HF_ENDPOINT), with no
private TCP probe: a fake Hub on loopback, started here, receives the request and its 404 is
classified. Runs in a subprocess because huggingface_hub reads HF_ENDPOINT at import time."""

import http.server
import os
import subprocess
import sys
import threading


def test_hf_endpoint_is_used_and_a_404_is_classified(tmp_path):
    seen = []

    class Hub(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            seen.append(self.path)
            self.send_response(404)
            self.send_header("X-Error-Code", "RepositoryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD = _answer

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**os.environ, "HF_ENDPOINT": f"http://127.0.0.1:{server.server_port}", "HF_HUB_OFFLINE": "0",
               "HF_HOME": str(tmp_path), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        env.pop("HF_HUB_CACHE", None)
        code = ("from xstilts import hub\n"
                "try:\n    hub.snapshot_model('someone/tiny-model', 'main')\n"
                "except hub.HubError as e:\n    print(type(e).__name__, e)\n")
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
    assert any("/api/models/someone/tiny-model/revision/main" in p for p in seen), (seen, proc.stderr)
    assert proc.stdout.startswith("NotOnHubError"), proc.stdout + proc.stderr
