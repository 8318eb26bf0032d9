"""The Debian package end to end, as root (`make test-package`).

Builds the package twice (`make deb`, then a higher revision to upgrade to), lints it, installs it
with dpkg, checks its files, dependencies, user and units, runs the installed service the way its
units would, serves the API through nginx configured with the shipped snippets the way the README
tells admins, reloads it, upgrades the package over itself, removes and purges it; and checks that
`make install` puts the package's files in place and `make uninstall` takes them away.

systemd is not PID 1 here, so the service runs as systemd would run it, from the installed unit
files: the socket unit's ListenStream under systemd-socket-activate (which waits for the first
connection, then execs the service with LISTEN_FDS), the service's ExecStart as its User= and
Group= with its UMask= and NoNewPrivileges=, and a NOTIFY_SOCKET that hears what the service tells
systemd. The rest of the unit's sandbox needs systemd itself; `systemd-analyze verify` checks the
units. What the maintainer scripts ask of systemd is checked by running them in a mount namespace
where systemd seems to run and its commands are stubs that record their arguments.

Skipped, saying why, for anyone but root and where stellar-webhooks is installed already (the test
purges what it installs). It leaves the machine as it found it, also when it fails.
"""

import grp
import http.client
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "stellar-webhooks"
USER = "stellar-webhooks"
BINARY = Path("/usr/bin/stellar-webhooks")
CONFIG = Path("/etc/stellar-webhooks/stellar-webhooks.conf")
DATA = Path("/var/lib/stellar-webhooks")
UNITS = Path("/usr/lib/systemd/system")
SOCKET_UNIT = UNITS / "stellar-webhooks.socket"
SERVICE_UNIT = UNITS / "stellar-webhooks.service"
# What the package holds besides `make install`'s files.
DEBIAN_ONLY = {"usr/share/doc/stellar-webhooks/copyright",
               "usr/share/doc/stellar-webhooks/changelog.Debian.gz",
               "usr/share/lintian/overrides/stellar-webhooks"}


def run(command, check=True, **options):
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            **options)
    if check and result.returncode != 0:
        pytest.fail(f"{shlex.join(map(str, command))} exited {result.returncode}:\n"
                    f"{result.stdout}{result.stderr}", pytrace=False)
    return result


def package_status():
    """dpkg's state of the package: installed, config-files, not-installed, ..."""
    result = run(["dpkg-query", "-W", "-f", "${db:Status-Status}", PACKAGE], check=False)
    return result.stdout if result.returncode == 0 else "not-installed"


def user_exists(name=USER):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


if os.geteuid() != 0:
    pytest.skip("needs root: it installs a .deb with dpkg, creates a system user and runs nginx "
                "as root", allow_module_level=True)
if package_status() != "not-installed" or user_exists():
    pytest.skip("stellar-webhooks is installed on this machine (or its user exists): the test "
                "installs and purges the package itself", allow_module_level=True)

# The e2e harness's helpers (imported once the test is known to run: it needs the e2e tools).
sys.path.insert(0, str(REPO / "Tests" / "e2e"))
from conftest import free_port, wait_until  # noqa: E402
from notify_socket import Notifications  # noqa: E402


# ---------------------------------------------------------------------------------------------
# Fixtures

@pytest.fixture(scope="module", autouse=True)
def leave_machine_as_found():
    """Purges the package and removes what the test made, however the test ended."""
    socket_folder = Path("/run/stellar-webhooks")
    had_socket_folder = socket_folder.exists()
    yield
    if package_status() != "not-installed":
        run(["dpkg", "--purge", PACKAGE], check=False)
    if user_exists():
        run(["userdel", USER], check=False)
    if not had_socket_folder:
        shutil.rmtree(socket_folder, ignore_errors=True)


@pytest.fixture(scope="module")
def workdir():
    folder = Path(tempfile.mkdtemp(prefix="swh-package-"))
    os.chmod(folder, 0o755)  # the service user reaches its notify socket in here
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def packages(workdir):
    """(first, upgrade): the package as `make deb` builds it, and again with a higher revision."""
    built = []
    for revision in ("1", "2"):
        dist = workdir / f"dist-{revision}"
        run(["make", "-C", str(REPO), "--no-print-directory", "deb", f"DEB_REVISION={revision}",
             f"DIST={dist}"])
        debs = list(dist.glob("stellar-webhooks_*.deb"))
        assert len(debs) == 1, debs
        built.append(debs[0])
    return built


def deb_field(deb, field):
    return run(["dpkg-deb", "-f", str(deb), field]).stdout.strip()


def deb_files(deb):
    """The regular files and symlinks the package holds, as relative paths."""
    listing = run(["dpkg-deb", "--contents", str(deb)]).stdout.splitlines()
    return {line.split(None, 5)[5].split(" -> ")[0].removeprefix("./")
            for line in listing if line[0] in "-l"}


def files_under(folder):
    return {str(p.relative_to(folder)) for p in Path(folder).rglob("*") if not p.is_dir()}


# ---------------------------------------------------------------------------------------------
# Units, and the service run as they say

def read_unit(path):
    """{section: {key: [values]}} of a systemd unit file (keys may repeat, as ExecReload does)."""
    sections, current = {}, None
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        else:
            key, value = line.split("=", 1)
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(unit, section, key, default=None):
    values = unit.get(section, {}).get(key, [])
    assert len(values) <= 1, f"{key}= appears {len(values)} times"
    return values[0] if values else default


def command_line(value, main_pid=None):
    """An Exec*= value as argv: no prefixes used here, $MAINPID substituted."""
    assert value[0] == "/", f"not an absolute path without prefixes: {value}"
    if main_pid is not None:
        value = value.replace("${MAINPID}", str(main_pid)).replace("$MAINPID", str(main_pid))
    return shlex.split(value)


class ActivatedService:
    """The installed units run as systemd would (see the module's docstring)."""

    def __init__(self, workdir):
        socket_unit, self.unit = read_unit(SOCKET_UNIT), read_unit(SERVICE_UNIT)
        self.listen = Path(one(socket_unit, "Socket", "ListenStream"))
        self.directory_mode = int(one(socket_unit, "Socket", "DirectoryMode", "0755"), 8)
        self.socket_group = one(socket_unit, "Socket", "SocketGroup", "root")
        self.socket_mode = int(one(socket_unit, "Socket", "SocketMode", "0666"), 8)
        self.user = self.setting("User")
        self.group = self.setting("Group")
        self.exec_start = command_line(self.setting("ExecStart"))
        self.log = workdir / "service.log"
        self.workdir = workdir
        self.process = None
        self.notifications = None

    def setting(self, key, default=None):
        return one(self.unit, "Service", key, default)

    def start(self):
        # What the socket unit does: its folder, a fresh socket (RemoveOnStop= took the last one).
        self.listen.parent.mkdir(mode=self.directory_mode, exist_ok=True)
        self.listen.unlink(missing_ok=True)
        self.notifications = Notifications(self.workdir / "notify")
        account = pwd.getpwnam(self.user)
        privileges = ["setpriv", f"--reuid={self.user}", f"--regid={self.group}", "--init-groups"]
        if self.setting("NoNewPrivileges") == "yes":
            privileges.append("--no-new-privs")
        environment = [f"NOTIFY_SOCKET={self.notifications.path}", f"HOME={account.pw_dir}",
                       f"USER={self.user}", f"LOGNAME={self.user}"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                ["systemd-socket-activate", f"--listen={self.listen}",
                 f"--fdname={SOCKET_UNIT.name}", *(f"--setenv={e}" for e in environment),
                 "--", *privileges, "--", *self.exec_start],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
                umask=int(self.setting("UMask", "0022"), 8))
        wait_until(self.listen.is_socket, 10, what=f"{self.listen} from systemd-socket-activate")
        # What systemd does to the socket unit's socket.
        os.chown(self.listen, 0, grp.getgrnam(self.socket_group).gr_gid)
        os.chmod(self.listen, self.socket_mode)
        return self

    @property
    def main_pid(self):
        return self.process.pid

    def running_service(self):
        """True once systemd-socket-activate has become the service (the same pid, exec'd)."""
        try:
            return os.readlink(f"/proc/{self.main_pid}/exe") == str(self.exec_start[0])
        except OSError:
            return False

    def reload(self):
        """The ExecReload= lines in order, as the service's user, stopping at the first that
        fails (as systemd does). -> (succeeded, what they printed)"""
        output = ""
        for line in self.unit["Service"]["ExecReload"]:
            result = run(["setpriv", f"--reuid={self.user}", f"--regid={self.group}",
                          "--init-groups", "--", *command_line(line, self.main_pid)], check=False)
            output += result.stdout + result.stderr
            if result.returncode != 0:
                return False, output
        return True, output

    def stop(self):
        """KillSignal=, then TimeoutStopSec= to exit. -> the exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process and self.process.returncode
        self.process.send_signal(getattr(signal, self.setting("KillSignal", "SIGTERM")))
        try:
            return self.process.wait(float(self.setting("TimeoutStopSec", "90")))
        finally:
            self.kill_group()

    def kill_group(self):
        """Whatever is left of the service's processes (they are a session of their own)."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(10)

    def kill(self):
        """The end: every process gone, the notify socket closed."""
        self.kill_group()
        if self.notifications is not None:
            self.notifications.close()

    def logs(self):
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


class Nginx:
    """nginx as root (workers as www-data, as Debian runs it), its configuration holding the
    README's include lines, resolved against a folder that mirrors /etc/nginx's layout."""

    def __init__(self, workdir):
        self.folder = workdir / "nginx"
        self.folder.mkdir(exist_ok=True)
        os.chmod(self.folder, 0o711)
        for name in ("snippets", "fastcgi_params"):
            link = self.folder / name
            if not link.exists():
                link.symlink_to(Path("/etc/nginx") / name)
        self.port = None
        self.process = None

    def start(self):
        self.port = free_port()
        folder = self.folder
        (folder / "nginx.conf").write_text(f"""\
user www-data;
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{}}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client-body;
    fastcgi_temp_path {folder}/fastcgi;
    proxy_temp_path {folder}/proxy;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include snippets/stellar-webhooks-http.conf;
    server {{
        listen 127.0.0.1:{self.port};
        include snippets/stellar-webhooks-locations.conf;
    }}
}}
""")
        self.process = subprocess.Popen(
            ["nginx", "-p", str(folder), "-c", str(folder / "nginx.conf")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)

        def listening():
            assert self.process.poll() is None, f"nginx exited: {self.error_log()}"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_until(listening, 10, what="nginx")
        return self

    def get(self, path, key, timeout=60):
        """-> (status, body) of GET path with the key."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", path, headers={"Authorization": f"Bearer {key}"})
            response = connection.getresponse()
            return response.status, response.read().decode(errors="replace")
        finally:
            connection.close()

    def error_log(self):
        path = self.folder / "error.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


# ---------------------------------------------------------------------------------------------
# Checks of the installed package

def check_files(deb):
    listed = [path for path in run(["dpkg", "-L", PACKAGE]).stdout.split() if path != "/."]
    for path in listed:
        assert os.path.lexists(path), f"dpkg lists {path}, which is not there"
    expected = [str(BINARY), str(CONFIG), str(SOCKET_UNIT), str(SERVICE_UNIT),
                "/usr/lib/sysusers.d/stellar-webhooks.conf",
                "/etc/nginx/snippets/stellar-webhooks-http.conf",
                "/etc/nginx/snippets/stellar-webhooks-locations.conf",
                "/etc/apache2/conf-available/stellar-webhooks.conf",
                "/etc/lighttpd/conf-available/20-stellar-webhooks.conf",
                "/usr/share/doc/stellar-webhooks/examples/apache-fcgid.conf",
                "/usr/share/man/man1/stellar-webhooks.1.gz",
                "/usr/share/bash-completion/completions/stellar-webhooks",
                "/usr/share/zsh/vendor-completions/_stellar-webhooks",
                "/usr/share/fish/vendor_completions.d/stellar-webhooks.fish",
                "/usr/share/doc/stellar-webhooks/README.md",
                "/usr/share/doc/stellar-webhooks/copyright",
                "/usr/share/doc/stellar-webhooks/changelog.Debian.gz",
                "/usr/share/lintian/overrides/stellar-webhooks"]
    missing = [path for path in expected if path not in listed]
    assert not missing, f"not in the package: {missing}"
    # Every file under /etc is a conffile: an admin's edits survive upgrades.
    conffiles = run(["dpkg-query", "-W", "-f", "${Conffiles}", PACKAGE]).stdout
    for path in listed:
        if path.startswith("/etc/") and Path(path).is_file():
            assert f" {path} " in conffiles, f"{path} is not a conffile"
    # The release build, stripped, without a runpath, of the package's version.
    sections = run(["readelf", "-S", "-d", str(BINARY)]).stdout
    assert ".symtab" not in sections and "RUNPATH" not in sections and "RPATH" not in sections
    upstream_version = deb_field(deb, "Version").rsplit("-", 1)[0]
    assert run([str(BINARY), "--version"]).stdout.strip() == upstream_version
    # The man page has every command; the completions are for this binary.
    manual = run(["man", "-l", "/usr/share/man/man1/stellar-webhooks.1.gz"],
                 env={**os.environ, "MANWIDTH": "100"}).stdout
    for command in ("serve", "check-config", "keys", "servers", "emit", "migrate", "import"):
        assert re.search(rf"^\s+{command}\b", manual, re.M), f"man page lacks {command}"
    run(["bash", "-n", "/usr/share/bash-completion/completions/stellar-webhooks"])
    for path in ("/usr/share/zsh/vendor-completions/_stellar-webhooks",
                 "/usr/share/fish/vendor_completions.d/stellar-webhooks.fish"):
        assert "check-config" in Path(path).read_text()
    # The mod_fcgid example starts the installed binary.
    fcgid = Path("/usr/share/doc/stellar-webhooks/examples/apache-fcgid.conf").read_text()
    assert f"FcgidWrapper \"{BINARY} serve\"" in fcgid and "/usr/local/" not in fcgid
    return listed


def enable_web_server_snippets():
    """Links that enable the Apache and lighttpd snippets, as a2enconf and lighty-enable-mod make
    them (without those tools' other changes to the host). -> the links"""
    links = []
    for folder, name in [("/etc/apache2", "stellar-webhooks.conf"),
                         ("/etc/lighttpd", "20-stellar-webhooks.conf")]:
        link = Path(folder) / "conf-enabled" / name
        if not link.parent.is_dir():
            pytest.fail(f"{link.parent} is missing: apache2 and lighttpd must be installed "
                        "(make test-package installs them)", pytrace=False)
        link.symlink_to(Path("../conf-available") / name)
        assert link.exists(), link
        links.append(link)
    return links


def check_user_and_data():
    account = pwd.getpwnam(USER)
    assert account.pw_uid < 1000, "not a system user"
    assert account.pw_dir == str(DATA) and account.pw_shell == "/usr/sbin/nologin"
    assert grp.getgrgid(account.pw_gid).gr_name == USER
    info = DATA.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (account.pw_uid, account.pw_gid, 0o700)


def check_data_private():
    account = pwd.getpwnam(USER)
    for path in [DATA, *DATA.rglob("*")]:
        info = path.lstat()
        assert info.st_uid == account.pw_uid, f"{path} is not the service user's"
        assert info.st_mode & 0o007 == 0, f"{path} is readable by others: {oct(info.st_mode)}"


def relations(deb, field):
    """{package: version required or None} of a Depends-like field, alternatives flattened."""
    found = {}
    for alternative in re.split(r"[,|]", deb_field(deb, field)):
        match = re.match(r"\s*([a-z0-9.+-]+)(?:\s*\(>=\s*([^)]+)\))?", alternative)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def version_at_least(version, minimum):
    return run(["dpkg", "--compare-versions", version, "ge", minimum], check=False).returncode == 0


def check_dlopen_dependencies(deb):
    """dpkg-shlibdeps sees only the libraries the binary links. Every library it loads with dlopen
    (a soname among its strings) must be in Depends or Recommends, at a version that has every
    symbol of it the binary names (the library's symbols file says since when)."""
    data = BINARY.read_bytes()
    linked = set(re.findall(r"NEEDED.*\[(.+)\]", run(["readelf", "-d", str(BINARY)]).stdout))
    loaded = {name.decode() for name in re.findall(rb"\0(lib[\w+-]+\.so\.\d+)\0", data)} - linked
    assert {"libcrypto.so.3", "libcurl.so.4", "libpq.so.5"} <= loaded, loaded
    declared = {**relations(deb, "Recommends"), **relations(deb, "Depends")}
    for soname in sorted(loaded):
        owner = run(["dpkg", "-S", f"*/{soname}"]).stdout.split(":")[0]
        assert owner in declared, f"{soname} ({owner}) is loaded with dlopen but not declared"
        symbols = run(["dpkg-query", "--control-path", owner, "symbols"]).stdout.strip()
        needed = "0"
        for line in Path(symbols).read_text().splitlines():
            match = re.match(r"^ (\S+?)@\S+ (\S+)", line)
            if match and b"\0" + match.group(1).encode() + b"\0" in data \
                    and not version_at_least(needed, match.group(2)):
                needed = match.group(2)
        if needed != "0":
            assert declared[owner] and version_at_least(declared[owner], needed), \
                f"{owner} must be >= {needed} (symbols the binary loads), declared {declared[owner]}"


def systemd_calls(workdir, script, *arguments):
    """Runs an installed maintainer script as dpkg would on a host where systemd runs: in a mount
    namespace with its own /run (holding /run/systemd/system), and systemctl, deb-systemd-invoke
    and deb-systemd-helper stubs that record their arguments. -> the calls, as argument lists."""
    stubs, calls = workdir / "stubs", workdir / "calls"
    stubs.mkdir(exist_ok=True)
    calls.write_text("")
    for name in ("systemctl", "deb-systemd-invoke", "deb-systemd-helper"):
        (stubs / name).write_text(f'#!/bin/sh\necho "{name} $*" >> {calls}\n')
        os.chmod(stubs / name, 0o755)
    script_path = f"/var/lib/dpkg/info/{PACKAGE}.{script}"
    run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
         'mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && PATH="$0:$PATH" exec "$@"',
         str(stubs), script_path, *arguments])
    return [line.split() for line in calls.read_text().splitlines()]


def invoked(calls):
    """{action: units} of the deb-systemd-invoke calls (start, restart, stop, ...)."""
    actions = {}
    for call in calls:
        if call[0] == "deb-systemd-invoke":
            actions.setdefault(call[1], set()).update(call[2:])
    return actions


def check_maintainer_scripts(workdir, version, older_version):
    socket_unit, service_unit = SOCKET_UNIT.name, SERVICE_UNIT.name
    # Install: the socket enabled and started; the service waits for the first request.
    calls = systemd_calls(workdir, "postinst", "configure")
    assert ["deb-systemd-helper", "enable", socket_unit] in calls, calls
    assert invoked(calls) == {"start": {socket_unit}}, calls
    # Upgrade: nothing stopped before; after, the service restarts and the socket stays open.
    calls = systemd_calls(workdir, "prerm", "upgrade", version)
    assert invoked(calls) == {}, calls
    calls = systemd_calls(workdir, "postinst", "configure", older_version)
    actions = invoked(calls)
    assert service_unit in actions.get("restart", set()), calls
    assert set(actions) <= {"start", "restart"} and socket_unit not in actions["restart"], calls
    # Remove: both stopped.
    calls = systemd_calls(workdir, "prerm", "remove")
    assert invoked(calls) == {"stop": {socket_unit, service_unit}}, calls


def check_units_verify():
    result = run(["systemd-analyze", "verify", str(SOCKET_UNIT), str(SERVICE_UNIT)], check=False)
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), \
        result.stdout + result.stderr
    enabled = Path("/etc/systemd/system/sockets.target.wants") / SOCKET_UNIT.name
    assert enabled.is_symlink(), "the socket is not enabled"
    # The socket is where the configuration's default and the nginx snippet expect it, in a
    # folder that outlives the service: systemd removes a RuntimeDirectory= when the service stops.
    listen = one(read_unit(SOCKET_UNIT), "Socket", "ListenStream")
    service = read_unit(SERVICE_UNIT)
    runtime = " ".join(service["Service"].get("RuntimeDirectory", [])).split()
    assert Path(listen).parent.name not in runtime \
        or one(service, "Service", "RuntimeDirectoryPreserve") == "yes"
    checked = run(["runuser", "-u", USER, "--", str(BINARY), "check-config"]).stdout
    assert checked.rstrip().endswith(f"listening on {listen}"), checked
    assert f"server unix:{listen};" in Path("/etc/nginx/snippets/stellar-webhooks-http.conf").read_text()


def create_key():
    """A user key, made with the installed binary as the service's user (the data is its)."""
    out = run(["runuser", "-u", USER, "--", str(BINARY), "keys", "create", "--user", "u1"]).stdout
    return out.strip().splitlines()[-1]


def serve_first_request(workdir, key):
    """Starts nginx and the socket-activated service; the first request starts the service and
    is answered. -> (nginx, service), both running."""
    web = Nginx(workdir).start()
    service = ActivatedService(workdir).start()
    try:
        time.sleep(0.5)
        assert service.process.poll() is None, service.logs()
        assert not service.running_service(), "the service started before any request"
        status, body = web.get("/webhooks", key)
        assert status == 200, f"{status} {body}\n{service.logs()}\n{web.error_log()}"
        assert service.running_service()
        assert os.stat(f"/proc/{service.main_pid}").st_uid == pwd.getpwnam(USER).pw_uid
        return web, service
    except BaseException:
        service.kill()
        web.stop()
        raise


def check_status_and_metrics(web):
    """The installed `status` and `metrics`, as root and as the service's user, find the service
    systemd's socket started; /metrics answers through the installed nginx snippet."""
    for become in ([], ["runuser", "-u", USER, "--"]):
        text = run([*become, str(BINARY), "status"]).stdout
        assert "is running" in text and "/run/stellar-webhooks/fcgi.sock (inherited)" in text, text
        assert f"flat files in {DATA}" in text, text
        report = json.loads(run([*become, str(BINARY), "status", "--json"]).stdout)
        assert report["running"] and report["socket"]["inherited"], report
    families = {f.name: f for f in text_string_to_metric_families(run([str(BINARY), "metrics"]).stdout)}
    served = [s for s in families["stellar_webhooks_requests"].samples
              if s.labels.get("route") == "/webhooks" and s.labels.get("code") == "200"]
    assert served and served[0].value >= 1, families["stellar_webhooks_requests"].samples
    status, body = web.get("/metrics", "")
    assert status == 200 and "stellar_webhooks_build_info" in body, (status, body[:300])


def check_notify_reload_and_stop(web, service, key):
    """Type=notify with NotifyAccess=main: READY=1 and a STATUS= from the main pid; ExecReload
    reloads around RELOADING=1 and READY=1, and refuses a bad configuration, leaving the running
    service untouched; KillSignal= stops it within TimeoutStopSec= after STOPPING=1."""
    notes = service.notifications
    ready = notes.wait_for("READY")
    assert set(notes.senders) == {service.main_pid}, \
        f"messages from other processes than the main one: {notes.senders} {notes.messages}"
    assert any(message.get("STATUS") for message in notes.messages), notes.messages

    reloaded, output = service.reload()
    assert reloaded, output
    reloading = notes.wait_for("RELOADING", after=ready + 1)
    notes.wait_for("READY", after=reloading + 1)
    assert web.get("/webhooks", key)[0] == 200

    good = CONFIG.read_text()
    CONFIG.write_text(good + "workers = lots\n")
    try:
        received = len(notes.poll())
        reloaded, output = service.reload()
        assert not reloaded and "workers" in output, output
        time.sleep(1)
        assert not any("RELOADING" in message for message in notes.poll()[received:])
        assert service.running_service()
        assert web.get("/webhooks", key)[0] == 200
    finally:
        CONFIG.write_text(good)

    received = len(notes.poll())
    assert service.stop() == 0, service.logs()
    notes.wait_for("STOPPING", after=received, timeout=1)


# ---------------------------------------------------------------------------------------------
# Tests

def test_lintian_reports_no_error_and_explains_every_warning(packages, workdir):
    first = packages[0]
    result = run(["lintian", "--fail-on", "error,warning", str(first)], check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # (Overridden tags shown count as failures, hence a second run to see them.)
    shown = run(["lintian", "--show-overrides", str(first)]).stdout
    # The overrides are the package's own, each with its reason in a comment just above, and
    # each still matches something (an override with nothing to override would hide nothing).
    unpacked = workdir / "unpacked"
    run(["dpkg-deb", "-x", str(first), str(unpacked)])
    lines = (unpacked / "usr/share/lintian/overrides/stellar-webhooks").read_text().splitlines()
    overrides = [(i, line) for i, line in enumerate(lines) if line and not line.startswith("#")]
    for i, line in overrides:
        assert i > 0 and lines[i - 1].startswith("#"), f"no comment explains: {line}"
        tag = line.split()[1]
        assert f"O: stellar-webhooks: {tag}" in shown, f"unused override: {line}"


def test_make_install_puts_the_package_files_in_place_and_uninstall_removes_them(packages, workdir):
    first = packages[0]
    unpacked = workdir / "unpacked-install"
    run(["dpkg-deb", "-x", str(first), str(unpacked)])
    make = ["make", "-C", str(REPO), "--no-print-directory"]

    destdir = workdir / "destdir-usr"
    run([*make, "install", f"DESTDIR={destdir}", "PREFIX=/usr"])
    installed = files_under(destdir)
    assert installed == deb_files(first) - DEBIAN_ONLY
    for path in installed:
        assert (destdir / path).read_bytes() == (unpacked / path).read_bytes(), path
        assert (destdir / path).stat().st_mode == (unpacked / path).stat().st_mode, path
    run([*make, "uninstall", f"DESTDIR={destdir}", "PREFIX=/usr"])
    assert files_under(destdir) == set()

    # The default PREFIX, /usr/local: the units name the binary there; an edited configuration
    # survives uninstall, and install never overwrites it.
    destdir = workdir / "destdir-local"
    run([*make, "install", f"DESTDIR={destdir}"])
    unit = read_unit(destdir / "usr/local/lib/systemd/system/stellar-webhooks.service")
    assert command_line(one(unit, "Service", "ExecStart"))[0] == "/usr/local/bin/stellar-webhooks"
    for line in unit["Service"]["ExecReload"]:
        assert "/usr/bin/stellar-webhooks" not in line
    assert (destdir / "usr/local/bin/stellar-webhooks").is_file()
    assert (destdir / "usr/local/share/zsh/site-functions/_stellar-webhooks").is_file()
    config = destdir / "etc/stellar-webhooks/stellar-webhooks.conf"
    config.write_text(config.read_text() + "workers = 4\n")
    run([*make, "install", f"DESTDIR={destdir}"])
    assert config.read_text().endswith("workers = 4\n")
    run([*make, "uninstall", f"DESTDIR={destdir}"])
    assert files_under(destdir) == {"etc/stellar-webhooks/stellar-webhooks.conf"}


def test_install_serve_upgrade_remove_and_purge(packages, workdir):
    first, upgrade = packages
    run(["dpkg", "-i", str(first)])
    listed = check_files(first)
    check_user_and_data()
    check_units_verify()
    check_dlopen_dependencies(first)
    check_maintainer_scripts(workdir, deb_field(upgrade, "Version"), deb_field(first, "Version"))

    # An admin's edit, to survive the upgrade.
    CONFIG.write_text(CONFIG.read_text() + "# edited by Tests/package\nlog_level = notice\n")
    key = create_key()
    web, service = serve_first_request(workdir, key)
    try:
        check_status_and_metrics(web)
        check_notify_reload_and_stop(web, service, key)
    finally:
        service.kill()
        web.stop()
    check_data_private()

    # Upgrade over itself: the edit and the data survive, and the key still works.
    run(["dpkg", "-i", str(upgrade)])
    assert run(["dpkg-query", "-W", "-f", "${Version}", PACKAGE]).stdout == deb_field(upgrade, "Version")
    assert CONFIG.read_text().endswith("# edited by Tests/package\nlog_level = notice\n")
    web, service = serve_first_request(workdir, key)
    try:
        assert service.stop() == 0, service.logs()
    finally:
        service.kill()
        web.stop()

    # Remove: the program goes; data, configuration and user stay.
    run(["dpkg", "-r", PACKAGE])
    assert package_status() == "config-files"
    assert not BINARY.exists() and not SERVICE_UNIT.exists()
    assert CONFIG.read_text().endswith("log_level = notice\n")
    assert (DATA / "secret.key").exists() and user_exists()

    # Purge: nothing of it is left, not even the links that enabled its web server snippets.
    links = enable_web_server_snippets()
    try:
        run(["dpkg", "-P", PACKAGE])
        for link in links:
            assert not os.path.lexists(link), f"{link} is left, naming a purged file"
    finally:
        for link in links:
            link.unlink(missing_ok=True)
    assert package_status() == "not-installed"
    assert not DATA.exists() and not CONFIG.parent.exists()
    assert not user_exists()
    with pytest.raises(KeyError):
        grp.getgrnam(USER)
    for path in listed:
        if os.path.lexists(path):
            assert os.path.isdir(path) and run(["dpkg", "-S", path], check=False).returncode == 0, \
                f"{path} is left behind"
    leftovers = run(["find", "/etc/systemd/system", "/var/lib/systemd/deb-systemd-helper-enabled",
                     "-name", "*stellar-webhooks*"], check=False).stdout
    assert not leftovers, leftovers
