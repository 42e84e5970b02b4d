"""deploy/nginx/plume.conf: `nginx -t` accepts it, and a real nginx serves through it.

The site is installed into a temporary prefix with a self-signed certificate made here;
only the certificate paths, the listening ports, the upstream and the add-in root are
rewritten (each rewrite must match, so the test follows the file). Streams are checked
against a small upstream that waits for the client to have *received* the first event
before it sends the rest: if nginx buffered the answer, the client would never see it.
"""
from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backend.api.addin import ADDIN_CSP

from .conftest import DEPLOY, ROOT, free_port, setting_default

CHECKS = {"deploy/nginx/plume.conf"}
SITE = DEPLOY / "nginx" / "plume.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RELEASE_WAIT_SECONDS = 15


def self_signed(directory: Path) -> None:
    """plume.crt / plume.key for 127.0.0.1, as an admin's real certificate would be placed."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "plume.test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    (directory / "plume.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "plume.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


@pytest.fixture
def prefix():
    """nginx's prefix; its workers (user nobody) must reach it, so not under pytest's 0700 tmp."""
    path = Path(tempfile.mkdtemp(prefix="plume-nginx-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def install(prefix: Path, https_port: int, http_port: int, upstream_port: int) -> Path:
    """The site and a minimal main nginx.conf around it, in ``prefix``; returns nginx.conf."""
    self_signed(prefix)
    site = SITE.read_text(encoding="utf-8")
    rewrites = [
        ("/etc/ssl/plume/", f"{prefix}/"),
        ("    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https_port} ssl http2;\n"),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("    listen 80;\n", f"    listen 127.0.0.1:{http_port};\n"),
        ("    listen [::]:80;\n", ""),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};"),
        ("root /opt/plume;", f"root {ROOT};"),
    ]
    for old, new in rewrites:
        assert old in site, f"deploy/nginx/plume.conf no longer contains {old!r}"
        site = site.replace(old, new)
    (prefix / "plume.conf").write_text(site, encoding="utf-8")
    main = prefix / "nginx.conf"
    main.write_text(f"""
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/plume.conf;
}}
""", encoding="utf-8")
    return main


class StreamingUpstream(BaseHTTPRequestHandler):
    """Plays Plume behind nginx: SSE for /api/v1/assist/, a small JSON answer elsewhere."""

    protocol_version = "HTTP/1.1"
    released = threading.Event()
    seen: list[dict] = []

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append({"path": self.path, "proto": self.headers.get("X-Forwarded-Proto"),
                          "host": self.headers.get("Host")})
        if not self.path.startswith("/api/v1/assist/"):
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._send_chunk(b'event: delta\ndata: {"text": "Premier"}\n\n')
        released = self.released.wait(RELEASE_WAIT_SECONDS)
        self._send_chunk(b'event: delta\ndata: {"text": " morceau"}\n\n')
        self._send_chunk(b'event: done\ndata: {"released": %s}\n\n'
                         % (b"true" if released else b"false"))
        self._send_chunk(b"")


@pytest.fixture
def nginx_site(prefix):
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), StreamingUpstream)
    StreamingUpstream.released.clear()
    StreamingUpstream.seen.clear()
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    https_port, http_port = free_port(), free_port()
    conf = install(prefix, https_port, http_port, upstream.server_address[1])
    process = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(conf)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"https://127.0.0.1:{https_port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/addin/", verify=False, timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.05)
        yield {"https": base, "http": f"http://127.0.0.1:{http_port}"}
    finally:
        StreamingUpstream.released.set()
        process.terminate()
        process.wait(timeout=10)
        upstream.shutdown()


def test_nginx_accepts_the_site(prefix):
    conf = install(prefix, free_port(), free_port(), free_port())
    result = subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(conf)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_streams_reach_the_client_as_they_are_written(nginx_site):
    response = requests.post(f"{nginx_site['https']}/api/v1/assist/summarize",
                             json={"text": "x"}, verify=False, stream=True, timeout=30)
    assert response.status_code == 200
    events = []
    for line in response.iter_lines():
        if line.startswith(b"data:"):
            events.append(line)
            StreamingUpstream.released.set()  # the first event arrived before the rest was sent
    assert events[-1] == b'data: {"released": true}', "nginx held the stream back"
    assert StreamingUpstream.seen[0]["proto"] == "https"


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_add_in_files_are_served_from_disk_with_plumes_headers(nginx_site):
    pane = requests.get(f"{nginx_site['https']}/addin/word/", verify=False, timeout=10)
    assert pane.status_code == 200
    assert pane.content == (ROOT / "addin" / "word" / "index.html").read_bytes()
    assert pane.headers["Content-Type"] == "text/html; charset=utf-8"
    assert pane.headers["Content-Security-Policy"] == ADDIN_CSP
    assert pane.headers["Cache-Control"] == "no-cache"
    icon = requests.get(f"{nginx_site['https']}/addin/assets/icons/icon-80.png",
                        verify=False, timeout=10)
    assert icon.status_code == 200 and icon.headers["Content-Type"] == "image/png"
    assert icon.headers["Cache-Control"] == "public, max-age=86400"
    missing = requests.get(f"{nginx_site['https']}/addin/nope.js", verify=False, timeout=10)
    assert missing.status_code == 404
    assert StreamingUpstream.seen == []  # none of this reached the backend


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_body_limits_follow_plumes_settings(nginx_site):
    default_limit = setting_default("PLUME_MAX_BODY_BYTES")
    too_big = requests.post(f"{nginx_site['https']}/api/v1/feedback",
                            data=b"x" * (default_limit + 1024 * 1024), verify=False, timeout=30)
    assert too_big.status_code == 413
    audio_limit = setting_default("PLUME_LLM_TRANSCRIPTION_MAX_BYTES")
    audio = requests.post(f"{nginx_site['https']}/api/v1/transcribe",
                          data=b"x" * audio_limit, verify=False, timeout=60)
    assert audio.status_code == 200
    attachment = setting_default("PLUME_ATTACHMENT_MAX_BYTES")
    base64_body = b"x" * (attachment * 4 // 3 + 64 * 1024)
    summary = requests.post(f"{nginx_site['https']}/api/v1/attachments/summarize",
                            data=base64_body, verify=False, timeout=60)
    assert summary.status_code == 200


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_plain_http_redirects_and_metrics_stay_private(nginx_site):
    redirect = requests.get(f"{nginx_site['http']}/addin/", allow_redirects=False, timeout=10)
    assert redirect.status_code == 301
    assert redirect.headers["Location"].startswith("https://")
    assert requests.get(f"{nginx_site['https']}/metrics", verify=False, timeout=10).status_code == 403
