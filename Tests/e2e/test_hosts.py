"""More than one host: the FastCGI listener on TCP, who may connect to it, and the secret kept
outside data_dir (README: "More than one host")."""

from conftest import free_port
from test_processes import check_config, named_keys, write_conf


def test_a_tcp_listener_serves_through_nginx(make_service):
    svc = make_service({"socket": f"127.0.0.1:{free_port()}"})
    _, key = svc.new_user()
    made = svc.create_webhook(key)
    status, _, body = svc.request("GET", f"/webhooks/{made['id']}", key=key)
    assert status == 200 and body["id"] == made["id"], (status, body)
    assert not (svc.run_dir / "fcgi.sock").exists()


def test_only_allowed_clients_may_connect_over_tcp(make_service):
    # nginx connects from 127.0.0.1; with only another address allowed, libfcgi closes its
    # connections unanswered and nginx answers 502: nothing reaches a handler.
    svc = make_service({"socket": f"*:{free_port()}", "allowed_clients": "127.0.0.9"}, start=False)
    svc.start(answering=False)
    status, _, _ = svc.request("GET", "/webhooks")
    assert status == 502, status
    svc.write_config(allowed_clients="10.1.2.3, 127.0.0.1")
    svc.restart()
    assert svc.request("GET", "/webhooks")[0] == 401


def test_check_config_refuses_a_socket_that_is_neither_a_path_nor_host_port(tmp_path):
    for bad in ["fcgi.sock", "localhost", "host:0", "host:70000", "host:http"]:
        rc, out = check_config(write_conf(tmp_path, f"socket = {bad}\n"))
        assert rc == 1 and "socket" in named_keys(out), (bad, out)
    for good in ["127.0.0.1:9000", "*:9000", ":9000", "node-2.internal:9000"]:
        rc, out = check_config(write_conf(tmp_path, f"socket = {good}\n"))
        assert rc == 0, (good, out)


def test_the_secret_lives_where_secret_file_says(make_service, tmp_path):
    shared = tmp_path / "shared" / "secret.key"
    svc = make_service({"secret_file": shared})
    _, key = svc.new_user()
    assert shared.exists() and shared.stat().st_mode & 0o777 == 0o600
    assert not (svc.data_dir / "secret.key").exists()
    assert len(shared.read_text().strip()) == 64
    assert svc.request("GET", "/webhooks", key=key)[0] == 200
