"""deploy/nginx-security.conf, served by a real nginx on loopback (skipped, with the reason printed,
when nginx is not installed): security headers on every response, Streamlit's metrics closed."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.server import free_port

SNIPPET = Path(__file__).resolve().parents[2] / "deploy" / "nginx-security.conf"


def test_security_headers_and_closed_metrics(tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        print("SKIP reason: nginx is not installed")
        pytest.skip("nginx is not installed")
    port = free_port()
    (tmp_path / "nginx.conf").write_text(f"""
pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; daemon off;
events {{}}
http {{
    access_log off;
    client_body_temp_path {tmp_path}; proxy_temp_path {tmp_path}; fastcgi_temp_path {tmp_path};
    uwsgi_temp_path {tmp_path}; scgi_temp_path {tmp_path};
    server {{
        listen 127.0.0.1:{port};
        include {SNIPPET};
        location / {{ return 200 "app"; }}
    }}
}}
""")
    server = subprocess.Popen([nginx, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
                              stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                time.sleep(0.05)
        headers = page.headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "default-src 'self'" in csp
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        with pytest.raises(urllib.error.HTTPError) as closed:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/metrics", timeout=2)
        assert closed.value.code in (403, 404)
        assert closed.value.headers["X-Content-Type-Options"] == "nosniff"  # `always`: on errors too
    finally:
        server.terminate()
        server.wait(10)
