"""Apache and lighttpd from Debian's packages in front of the service, for the end-to-end tests of
the shipped configurations in apache/ and lighttpd/ (README "Other front ends").

    front = FRONT_ENDS["lighttpd"](config={...}).start()   # a Service of Tests/e2e/conftest.py
    front.request("GET", "/webhooks", key=...)           # through the front end, checked against
                                                         # docs/openapi.yaml, as in Tests/e2e
    raw_request(front.port, "GET", "/metrics")           # unchecked: the front end's own answers
    front.cleanup()

Each front end renders its server's main configuration from a template here (apache.conf.in,
lighttpd.conf.in) into the run folder, and beside it the shipped snippet with the values the
snippet says to set replaced: the server runs the file users include. Started as root, Apache
and lighttpd switch to nobody:nogroup, the group the service's socket gets (as nginx does in
Tests/e2e).
"""

import http.client
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from conftest import (  # noqa: E402
    BIN, REPO_ROOT, Service, _stop, accepts_soon, alive, argv, descendants, free_port, tail)

HERE = Path(__file__).resolve().parent
AS_ROOT = os.geteuid() == 0
SERVER_USER, SERVER_GROUP = "nobody", "nogroup"
# What the shipped snippets name, which a host sets to its own (and these tests to theirs).
SHIPPED_SOCKET = "/run/stellar-webhooks/fcgi.sock"
SHIPPED_BINARY = "/usr/local/bin/stellar-webhooks"
SHIPPED_CONFIG = "/etc/stellar-webhooks/stellar-webhooks.conf"
# Debian's packages put the servers in /usr/sbin, which a user's PATH may lack.
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
APACHE_MODULES = Path("/usr/lib/apache2/modules")


def render(text, values):
    """text with each key of values replaced by its value; every key must occur, so a setting
    renamed in a shipped file fails here rather than being silently left as shipped."""
    for old, new in values.items():
        assert old in text, f"{old!r} not found to replace"
        text = text.replace(old, new)
    return text


def raw_request(port, method, path, body=None, headers=None, source="127.0.0.1"):
    """-> (status, headers, body bytes), not checked against the API's contract: for answers
    that are the front end's own. `source` is the client's address (127.0.0.2 stands in for
    another host: the front ends let only 127.0.0.1 and ::1 reach /metrics)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


class FrontEnd(Service):
    """A Service whose clients reach it through Apache or lighttpd instead of nginx."""

    name = ""             # what the tests call it
    program = ""          # the server's binary
    template = ""         # its main configuration, in this folder
    snippet = Path()      # the shipped file it includes
    log_name = ""         # the server's error log, in the run folder

    @classmethod
    def require_installed(cls):
        if shutil.which(cls.program, path=SBIN_PATH) is None:
            pytest.skip(f"{cls.program} is not installed (`make test-frontends` installs it)")

    def __init__(self, config=None, env=None):
        super().__init__(config=config, env=env)
        self.front = None
        (self.run_dir / "www").mkdir()

    def snippet_values(self):
        """The shipped snippet's settings, and this run's values for them."""
        return {SHIPPED_SOCKET: str(self.socket)}

    def main_values(self):
        """The template's placeholders but @RUN_DIR@, @PORT@ and @SNIPPET@."""
        raise NotImplementedError

    def command(self, main_config):
        raise NotImplementedError

    def _start_nginx(self):
        """Service.start's front-end step, where Tests/e2e starts nginx."""
        self.start_front()

    def start_front(self):
        snippet = self.run_dir / self.snippet.name
        snippet.write_text(render(self.snippet.read_text(), self.snippet_values()))
        main_config = self.run_dir / self.template.removesuffix(".in")
        for _ in range(5):  # free_port's port may be taken before the server binds it
            self.port = free_port()
            main_config.write_text(render((HERE / self.template).read_text(), {
                "@RUN_DIR@": str(self.run_dir), "@PORT@": str(self.port),
                "@SNIPPET@": str(snippet), **self.main_values()}))
            with open(self.run_dir / f"{self.program}.out", "ab") as out:
                self.front = subprocess.Popen(
                    [shutil.which(self.program, path=SBIN_PATH), *self.command(main_config)],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=self.env,
                    start_new_session=True)
            if accepts_soon(self.front, self.port):
                return
            _stop(self.front, signal.SIGTERM, 5)
        self.fail_start(f"{self.program} did not start")

    def stop(self):
        _stop(self.front, signal.SIGTERM, 20)
        super().stop()

    def logs(self, lines=60):
        names = [self.serve_log.name] if self.serve is not None else []  # else in the server's
        names += sorted({self.log_name, f"{self.program}.out"})
        return "\n".join(f"--- {self.run_dir / name} ---\n{tail(self.run_dir / name, lines)}"
                         for name in names)


class Apache(FrontEnd):
    program = "apache2"
    template = "apache.conf.in"
    log_name = "apache-error.log"
    modules = ()          # as the snippet's a2enmod line names them

    def main_values(self):
        return {
            "@USER_LINES@": f"User {SERVER_USER}\nGroup {SERVER_GROUP}" if AS_ROOT else "",
            "@LOAD_MODULES@": "\n".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so"
                                        for m in self.modules),
        }

    def command(self, main_config):
        return ["-DFOREGROUND", "-f", str(main_config)]


class ApacheProxyFcgi(Apache):
    """apache/stellar-webhooks-proxy-fcgi.conf: Apache in front of serve's socket."""
    name = "apache-proxy-fcgi"
    snippet = REPO_ROOT / "apache" / "stellar-webhooks-proxy-fcgi.conf"
    modules = ("authz_host", "setenvif", "alias", "headers", "proxy", "proxy_fcgi")


class ApacheFcgid(Apache):
    """apache/stellar-webhooks-fcgid.conf: Apache starts serve itself, on the first request that
    needs it, and serve logs to Apache's error log. Run as root, serve then runs as Apache's
    user, who owns data_dir."""
    name = "apache-fcgid"
    snippet = REPO_ROOT / "apache" / "stellar-webhooks-fcgid.conf"
    modules = ("authz_host", "setenvif", "alias", "headers", "fcgid")

    @classmethod
    def require_installed(cls):
        super().require_installed()
        if not (APACHE_MODULES / "mod_fcgid.so").exists():
            pytest.skip("mod_fcgid is not installed (`make test-frontends` installs it)")

    def snippet_values(self):
        return {SHIPPED_BINARY: str(BIN), SHIPPED_CONFIG: str(self.config_path)}

    def start(self):
        """Apache alone; nothing runs the service until a request needs it."""
        self.data_dir.mkdir(mode=0o700)
        self.hand_data_to_apache()
        self.start_front()
        return self

    def hand_data_to_apache(self):
        """data_dir belongs to the user Apache runs serve as (as root: nobody; else this user)."""
        if not AS_ROOT:
            return
        for folder, _, files in os.walk(self.data_dir):
            for path in [folder, *(os.path.join(folder, f) for f in files)]:
                shutil.chown(path, SERVER_USER, SERVER_GROUP)

    def cli(self, *args, **kwargs):
        """The CLI runs as root here and then hands its files over; on a host it runs as Apache's
        user (README "Other front ends")."""
        result = super().cli(*args, **kwargs)
        self.hand_data_to_apache()
        return result

    def masters(self):
        """The `serve` processes Apache has started."""
        return [pid for pid in descendants(self.front.pid) if argv(pid)[1:2] == ["serve"]]

    def stop(self):
        """Stops Apache, which stops serve; then ends any of serve's processes left behind."""
        running = self.front is not None and alive(self.front.pid)
        started = descendants(self.front.pid) if running else []
        super().stop()
        for pid in started:
            if alive(pid) and BIN.name in " ".join(argv(pid)):
                os.kill(pid, signal.SIGKILL)


class Lighttpd(FrontEnd):
    """lighttpd/stellar-webhooks-fastcgi.conf: lighttpd in front of serve's socket."""
    name = "lighttpd"
    program = "lighttpd"
    template = "lighttpd.conf.in"
    snippet = REPO_ROOT / "lighttpd" / "stellar-webhooks-fastcgi.conf"
    log_name = "lighttpd.out"   # lighttpd logs to stderr when given no server.errorlog

    def main_values(self):
        user = f'server.username = "{SERVER_USER}"\nserver.groupname = "{SERVER_GROUP}"'
        return {"@USER_LINES@": user if AS_ROOT else ""}

    def command(self, main_config):
        return ["-D", "-f", str(main_config)]


FRONT_ENDS = {cls.name: cls for cls in (ApacheProxyFcgi, ApacheFcgid, Lighttpd)}
