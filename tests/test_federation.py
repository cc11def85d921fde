"""Federation for real: a hub and two member deployments as three gunicorn
servers on 127.0.0.1, each with its own SQLite database and instance folder;
actions on both members, ``flask federation sync``, world totals on both
portals; the hub stopped and restarted; nothing double-counted. Then the
trust rules (tampered, replayed, stale, unknown) in-process, and the
deployment scope (``ECRIRE_SECTIONS``)."""
from __future__ import annotations

import http.server
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import requests

from core.signing import sign
from core.testing import install_outside_plugin, section_client

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KEYS = {"member-a": "key-of-a-" + "x" * 20, "member-b": "key-of-b-" + "y" * 20}
SUPPORTER = {"name": "Zoé Secretname", "email": "zoe.secret@example.org", "country": "FR"}

#: The secretariat's own case source, installed on the hub only.
IS_CASES = textwrap.dedent(
    '''
    """The international secretariat's cases (a test case source)."""
    from core.toolkit import Authority, CaseData, CaseText, StoryText, SuccessStory, hookimpl

    def _text(lang, who):
        return CaseText(title=f"{who} [{lang}]", summary="Summary", story="Story", ask="Ask")

    @hookimpl
    def ecrire_cases():
        for position, (cid, who) in enumerate([("fed-ana", "Ana Federated"), ("fed-bo", "Bo Federated")]):
            yield CaseData(id=cid, person=who, country="TN", year=2026, goal=100, position=position,
                           texts={"fr": _text("fr", who), "nl": _text("nl", who), "en": _text("en", who)},
                           authority=Authority(title={"fr": "Monsieur le Président", "en": "Mr President"},
                                               address=("Palais", "Tunis"), email="president@example.gov"))

    @hookimpl
    def ecrire_success_stories():
        yield SuccessStory(id="fed-freed", person="Freed Person", country="TN", year=2025, outcome="released",
                           texts={"fr": StoryText(title="Libéré", body="Libéré."), "en": StoryText(title="Freed", body="Freed.")})
    '''
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Deployment:
    def __init__(self, name: str, folder: Path, env: dict[str, str], host: str) -> None:
        self.name, self.folder, self.host = name, folder, host
        self.port = free_port()
        self.env = env
        self.process: subprocess.Popen | None = None
        self.log = folder / "gunicorn.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "flask", *args], check=False, cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=120)
        if check:
            assert result.returncode == 0, f"{self.name}: flask {' '.join(args)}: {result.stdout}\n{result.stderr}"
        return result

    def start(self) -> None:
        config = self.folder / "gunicorn.empty.conf.py"
        config.write_text("")
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(config), "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{self.port}", "wsgi:app"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"{self.name} exited: {self.log.read_text()[-3000:]}"
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    # -- as a browser ---------------------------------------------------------------

    def get(self, path: str, session: requests.Session | None = None) -> requests.Response:
        return (session or requests).get(self.url + path, headers={"Host": self.host}, timeout=10, allow_redirects=False)

    def sign_petition(self, case_id: str) -> None:
        session = requests.Session()
        page = self.get(f"/cases/{case_id}", session)
        assert page.status_code == 200, (self.name, page.status_code)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
        reply = session.post(self.url + f"/cases/{case_id}/act/petition", headers={"Host": self.host}, timeout=10,
                             allow_redirects=False, data={**SUPPORTER, "email": f"{self.name}.{time.monotonic_ns()}.{SUPPORTER['email']}",
                                                          "consent": "y", "legal-petition-of_age": "adult", "csrf_token": token})
        assert reply.status_code == 303, (self.name, reply.status_code, reply.text[:500])

    def world(self) -> int:
        return self.get("/counts.json").json()["world"]

    def home_world(self) -> int:
        html = self.get("/").text
        value = re.search(r'data-count="world">([^<]+)<', html).group(1)
        return int(re.sub(r"\D", "", value))


class Recorder(http.server.ThreadingHTTPServer):
    """A forwarding proxy in front of the hub that keeps what a member sends."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _Forward)


class _Forward(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        self.server.requests.append((self.command, self.path, headers, body))
        request = urllib.request.Request(f"http://127.0.0.1:{self.server.target_port}{self.path}", data=body or None,
                                         headers={k: v for k, v in headers.items() if k.lower() not in {"host", "content-length"}},
                                         method=self.command)
        request.add_header("Host", "127.0.0.1")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, reply_headers, reply = response.status, response.headers.items(), response.read()
        except urllib.error.HTTPError as exc:
            status, reply_headers, reply = exc.code, exc.headers.items(), exc.read()
        except OSError:
            status, reply_headers, reply = 502, [], b""
        self.send_response(status)
        for name, value in reply_headers:
            if name.lower() not in {"transfer-encoding", "connection", "content-length", "server", "date"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = _forward


@pytest.fixture
def federation(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    install_outside_plugin(site, "ecrire-is-cases", {"is_cases/__init__.py": IS_CASES}, {"is_cases": "is_cases"})
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ECRIRE_", "DATABASE_URL"))}
    common = {"FLASK_APP": "wsgi", "SECRET_KEY": "federation-test", "ECRIRE_CASE_CACHE_SECONDS": "0",
              "ECRIRE_COUNTER_CACHE_SECONDS": "0", "ECRIRE_PLUGIN_STATE_SECONDS": "0",
              # plain http on 127.0.0.1: the test's cookie jar keeps Secure cookies to https
              "ECRIRE_SECURE_COOKIES": "0"}

    def make(name: str, section: str, host: str, **extra: str) -> Deployment:
        folder = tmp_path / name
        (folder / "instance").mkdir(parents=True)
        env = {**base, **common, "DATABASE_URL": f"sqlite:///{folder / 'ecrire.sqlite3'}", "ECRIRE_INSTANCE": str(folder / "instance"),
               "ECRIRE_SECTIONS": section, "ECRIRE_DEPLOYMENT": name, "PYTHONPATH": os.pathsep.join([str(ROOT), base.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               **extra}
        return Deployment(name, folder, env, host)

    hub = make("is", "ch", "127.0.0.1", ECRIRE_SECTION_HOSTS="ch=127.0.0.1,ch.localhost", ECRIRE_FEDERATION_MEMBERS=json.dumps(KEYS))
    hub.env["PYTHONPATH"] = os.pathsep.join([str(site), hub.env["PYTHONPATH"]])
    recorder = Recorder(hub.port)
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    member_a = make("member-a", "fr", "fr.localhost", ECRIRE_FEDERATION_HUB=hub.url, ECRIRE_FEDERATION_KEY=KEYS["member-a"])
    member_b = make("member-b", '["be"]', "be.localhost",
                    ECRIRE_FEDERATION_HUB=f"http://127.0.0.1:{recorder.server_address[1]}", ECRIRE_FEDERATION_KEY=KEYS["member-b"])

    def setup(deployment: Deployment, commands: list[tuple[str, ...]]) -> None:
        for command in commands:
            deployment.flask(*command)

    threads = [
        threading.Thread(target=setup, args=(hub, [("db", "upgrade"), ("demo", "load"), ("plugins", "enable", "ch", "federation_hub"),
                                                   ("plugins", "enable", "ch", "is_cases"), ("plugins", "disable", "ch", "demo_cases"),
                                                   ("cases", "sync")])),
        threading.Thread(target=setup, args=(member_a, [("db", "upgrade"), ("demo", "load"), ("plugins", "enable", "fr", "federation_member"),
                                                        ("plugins", "disable", "fr", "demo_cases")])),
        threading.Thread(target=setup, args=(member_b, [("db", "upgrade"), ("demo", "load"), ("plugins", "enable", "be", "federation_member"),
                                                        ("plugins", "disable", "be", "demo_cases")])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for deployment in (hub, member_a, member_b):
        deployment.start()
    try:
        yield hub, member_a, member_b, recorder
    finally:
        recorder.shutdown()
        for deployment in (member_b, member_a, hub):
            deployment.stop()


def test_three_deployments_converge_on_the_world_total(federation):
    hub, a, b, recorder = federation

    # First sync: the members get the hub's cases (not their own demo cases).
    for member in (a, b):
        result = member.flask("federation", "sync")
        assert "2 cases" in result.stdout, result.stdout
    assert "Ana Federated" in a.get("/").text and "Bo Federated" in b.get("/").text
    assert "Sonia Dahmani" not in a.get("/").text
    assert a.get("/stories").status_code == 200 and "Libéré" in a.get("/stories").text

    # Supporters act on both sections.
    a.sign_petition("fed-ana")
    a.sign_petition("fed-bo")
    b.sign_petition("fed-ana")
    for member in (a, b, a):
        member.flask("federation", "sync")
    assert a.world() == b.world() == 3
    assert a.home_world() == b.home_world() == 3
    cases_a = a.get("/counts.json").json()["cases"]
    assert cases_a["fed-ana"]["world"] == 2 and cases_a["fed-ana"]["section"] == 1
    assert hub.get("/api/v1/counts").json()["world_total"] == 3
    assert a.get("/api/v1/counts").json()["world_total"] == 3

    # Syncing again changes nothing: a report replaces, never adds.
    for member in (a, b):
        member.flask("federation", "sync")
    assert a.world() == b.world() == 3
    assert hub.get("/api/v1/counts").json()["world_total"] == 3

    # The hub goes down: the members keep working with their copy.
    hub.stop()
    a.sign_petition("fed-ana")
    b.sign_petition("fed-bo")
    b.sign_petition("fed-ana")
    failed = a.flask("federation", "sync", check=False)
    assert failed.returncode != 0
    assert "cannot be reached" in failed.stderr and "Traceback" not in failed.stderr, failed.stderr
    assert b.flask("federation", "sync", check=False).returncode != 0
    home = a.get("/")
    assert home.status_code == 200 and "Ana Federated" in home.text
    assert a.get("/cases/fed-ana").status_code == 200
    assert a.world() == 3  # the last known world total

    # The hub comes back: totals converge, nothing counted twice.
    hub.start()
    for member in (a, b, a):
        member.flask("federation", "sync")
    assert a.world() == b.world() == a.home_world() == b.home_world() == 6
    for member in (b, a):
        member.flask("federation", "sync")
    assert a.world() == b.world() == 6
    counts = hub.get("/api/v1/counts").json()
    assert counts["world_total"] == 6
    feed_world = json.loads((a.folder / "instance" / "federation_feed.json").read_text())["world"]
    assert feed_world["cases"] == {"fed-ana": 4, "fed-bo": 2}

    # What member B sent: numbers only, never a supporter's name, email or address.
    reports = [body for method, path, _headers, body in recorder.requests if method == "POST"]
    assert len(reports) >= 4
    for method, path, headers, body in recorder.requests:
        text = body.decode("utf-8") + path + json.dumps(headers)
        for secret in ("Secretname", "Zoé", "zoe.secret", "example.org", "@", "Palais"):
            assert secret not in text, (secret, text[:300])
    for body in reports:
        document = json.loads(body)
        assert set(document) == {"deployment", "sequence", "sections"}
        assert set(document["sections"]) <= {"be"}
        for cases in document["sections"].values():
            for by_type in cases.values():
                assert all(isinstance(n, int) for n in by_type.values())
    sequences = [json.loads(body)["sequence"] for body in reports]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)


# -- trust rules, in-process ---------------------------------------------------------


@pytest.fixture
def hub_app(make_app):
    return make_app(plugins={"fr": ["federation_hub"]}, ECRIRE_FEDERATION_MEMBERS=KEYS)


def _report(deployment: str, sequence: int, sections: dict | None = None) -> bytes:
    document = {"deployment": deployment, "sequence": sequence, "sections": sections or {"be": {"sonia-dahmani": {"petition": 7}}}}
    return json.dumps(document).encode()


def _post(client, body: bytes, deployment: str = "member-a", key: str | None = None, timestamp: int | None = None, signature: str | None = None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {"X-Ecrire-Deployment": deployment, "X-Ecrire-Timestamp": str(timestamp),
               "X-Ecrire-Signature": signature or sign(key or KEYS.get(deployment, "nope"), timestamp, body),
               "Content-Type": "application/json"}
    return client.post("/api/v1/federation/reports", data=body, headers=headers), headers


def test_report_replaces_and_replays_are_refused(hub_app, caplog):
    client = section_client(hub_app, "fr.localhost")
    caplog.set_level(logging.INFO)
    first, headers = _post(client, _report("member-a", 10))
    assert first.status_code == 200 and first.get_json()["accepted"] is True
    assert client.get("/api/v1/counts").get_json()["world_total"] == 7

    # The very same request again (a replay): refused, not added.
    body = _report("member-a", 10)
    replay = client.post("/api/v1/federation/reports", data=body, headers=headers)
    assert replay.status_code == 409
    assert "replayed or out-of-order report from deployment 'member-a'" in caplog.text
    older, _ = _post(client, _report("member-a", 9, {"be": {"sonia-dahmani": {"petition": 100}}}))
    assert older.status_code == 409
    assert client.get("/api/v1/counts").get_json()["world_total"] == 7

    # A newer report replaces the previous one; another member adds.
    assert _post(client, _report("member-a", 11, {"be": {"sonia-dahmani": {"petition": 8}}}))[0].status_code == 200
    assert _post(client, _report("member-b", 1, {"fr": {"sonia-dahmani": {"petition": 2}}}), deployment="member-b")[0].status_code == 200
    counts = client.get("/api/v1/counts").get_json()
    assert counts["world_total"] == 10 and counts["cases"]["sonia-dahmani"]["world"] == 10
    assert 'data-count="world">10<' in client.get("/").get_data(as_text=True)


def test_tampered_stale_and_unknown_reports_are_refused(hub_app, caplog):
    client = section_client(hub_app, "fr.localhost")
    caplog.set_level(logging.INFO)
    body = _report("member-a", 5)
    timestamp = int(time.time())
    good = sign(KEYS["member-a"], timestamp, body)
    tampered = body.replace(b"7", b"9")
    response, _ = _post(client, tampered, timestamp=timestamp, signature=good)
    assert response.status_code == 401 and "bad signature" in caplog.text and "'member-a'" in caplog.text
    response, _ = _post(client, body, key="someone-elses-key")
    assert response.status_code == 401
    response, _ = _post(client, body, timestamp=int(time.time()) - 301)
    assert response.status_code == 401 and "more than 300s away" in caplog.text
    response, _ = _post(client, _report("intruder", 1), deployment="intruder", key="k")
    assert response.status_code == 403 and "unregistered deployment 'intruder'" in caplog.text
    response, _ = _post(client, _report("member-b", 1), deployment="member-a")  # claims to be another member
    assert response.status_code == 400
    response, _ = _post(client, json.dumps({"deployment": "member-a", "sequence": 3, "sections": {"fr": {"x": {"petition": -1}}}}).encode())
    assert response.status_code == 400
    assert client.get("/api/v1/counts").get_json()["world_total"] == 0


def test_feed_is_signed_for_the_member_asking(hub_app):
    client = section_client(hub_app, "fr.localhost")
    timestamp = int(time.time())
    headers = {"X-Ecrire-Deployment": "member-b", "X-Ecrire-Timestamp": str(timestamp), "X-Ecrire-Signature": sign(KEYS["member-b"], timestamp, b"")}
    response = client.get("/api/v1/federation/feed", headers=headers)
    assert response.status_code == 200
    body = response.get_data()
    assert response.headers["X-Ecrire-Signature"] == sign(KEYS["member-b"], response.headers["X-Ecrire-Timestamp"], body)
    feed = json.loads(body)
    assert feed["cases"] and feed["version"] and feed["world"]["total"] == 0
    assert client.get("/api/v1/federation/feed").status_code == 403
    # Only where the plugin is enabled.
    assert section_client(hub_app, "be.localhost").get("/api/v1/federation/feed", headers=headers).status_code == 404


def test_member_rejects_a_feed_with_a_bad_signature_and_keeps_its_copy(make_app, monkeypatch):
    import plugins.federation_member as member

    app = make_app(plugins={"fr": ["federation_member"]}, ECRIRE_FEDERATION_HUB="http://127.0.0.1:9", ECRIRE_FEDERATION_KEY="k",
                   ECRIRE_DEPLOYMENT="member-a")
    with app.app_context():
        good = {"version": "v1", "cases": [], "stories": [], "world": {"total": 42, "cases": {"sonia-dahmani": 40}}}
        member._write_json(member.FEED_FILE, good)
        body = json.dumps({**good, "version": "evil"}).encode()
        timestamp = int(time.time())
        monkeypatch.setattr(member, "_open", lambda request: (200, {"X-Ecrire-Timestamp": str(timestamp),
                                                                    "X-Ecrire-Signature": sign("wrong", timestamp, body)}, body))
        with pytest.raises(member.SyncError, match="signature"):
            member.sync()
        assert member.stored_feed()["version"] == "v1"
    client = section_client(app, "fr.localhost")
    assert client.get("/counts.json").get_json()["world"] == 42
    assert client.get("/api/v1/counts").get_json()["cases"]["sonia-dahmani"]["world"] == 40
    assert client.get("/api/v1/federation/member/status").get_json()["feed_version"] == "v1"
    # Elsewhere (plugin off) the local sums are shown.
    assert section_client(app, "be.localhost").get("/counts.json").get_json()["world"] == 0


def test_deployment_scope_limits_the_sections(make_app):
    app = make_app(ECRIRE_SECTIONS="fr")
    assert set(app.extensions["ecrire"].registry.sections) == {"fr"}
    assert section_client(app, "fr.localhost").get("/").status_code == 200
    assert section_client(app, "be.localhost").get("/").status_code == 404
    both = make_app(ECRIRE_SECTIONS=["fr", "be"])
    assert set(both.extensions["ecrire"].registry.sections) == {"fr", "be"}
    with pytest.raises(ValueError, match="unknown sections: xx"):
        make_app(ECRIRE_SECTIONS="fr,xx")
