"""The page's download path: a real HTTP download from a loopback server, with progress reported to
a callback, the SHA-256 prefix checked and nothing left behind on failure."""

import hashlib
import http.server
import io
import threading

import pytest
import torch

from explorer.vision import classifier as C
from explorer.vision import download as D
from explorer.vision import weights as W


@pytest.fixture
def served(tmp_path):
    """A loopback HTTP server serving a real state dict under any name but /missing.pth (404)."""
    buffer = io.BytesIO()
    torch.save({"w": torch.arange(300_000, dtype=torch.float32)}, buffer)
    payload = buffer.getvalue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            found = self.path != "/missing.pth"
            body = payload if found else b"not found"
            self.send_response(200 if found else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", payload
    server.shutdown()


def test_download_reports_progress_and_checks_the_hash(served, tmp_path):
    url, payload = served
    target = tmp_path / "weights-abc.pth"
    calls = []
    prefix = hashlib.sha256(payload).hexdigest()[:8]
    D._download_with_callback(f"{url}/weights.pth", target, prefix, lambda done, total: calls.append((done, total)),
                              chunk=100_000)
    assert target.read_bytes() == payload
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and calls[-1] == (len(payload), len(payload))
    assert len(calls) >= len(payload) // 100_000
    assert torch.equal(torch.load(target, weights_only=True)["w"], torch.arange(300_000, dtype=torch.float32))


def test_bad_hash_or_http_error_leaves_nothing(served, tmp_path):
    url, _ = served
    target = tmp_path / "weights-abc.pth"
    with pytest.raises(RuntimeError, match="invalid hash"):
        D._download_with_callback(f"{url}/weights.pth", target, "00000000", lambda d, t: None)
    with pytest.raises(Exception, match="404"):
        D._download_with_callback(f"{url}/missing.pth", target, None, lambda d, t: None)
    assert list(tmp_path.iterdir()) == []  # no file, no .partial


def test_fetch_weights_with_callback_gives_the_clear_message(tmp_path, monkeypatch, served):
    url, _ = served
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    spec = W.spec_of("densenet121")
    monkeypatch.setitem(W.REGISTRY, "densenet121", type(spec)(**{**spec.__dict__, "url": f"{url}/densenet121-a639ec97.pth"}))
    C.clear_cache()
    with pytest.raises(W.WeightsError) as info:
        D.fetch_weights("densenet121", on_progress=lambda d, t: None)  # served bytes do not match a639ec97
    message = str(info.value)
    assert "densenet121-a639ec97.pth" in message and "invalid hash" in message and "put it in" in message
    assert not (tmp_path / "hub" / "checkpoints" / "densenet121-a639ec97.pth").exists()
    D._FAILED.pop("densenet121", None)
