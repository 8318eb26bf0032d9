#!/usr/bin/env python3
"""API fuzzing of stellar-webhooks with Schemathesis, through real nginx, against docs/openapi.yaml.

    Tests/fuzz/run_fuzz.py --max-time 60          # the bounded run of `make test`
    Tests/fuzz/run_fuzz.py --requests 100000      # `make fuzz`: runs until that many requests

It starts a fake Discord (Tests/e2e/fake_discord.py) and the service with nginx like the e2e
tests do (conftest.Service; STELLAR_WEBHOOKS_BIN picks the binary), makes a user key (user
`demo`, owner of server `mc-1`, as in the document's examples) and a service key, and runs
`schemathesis run` in rounds of --max-time seconds (new seed each round) with every phase
(examples, coverage, fuzzing, stateful links), positive and negative data, and the checks of
schemathesis.toml and hooks.py, until --requests requests have reached nginx. The document's
example URLs are pointed at the fake Discord, and `format: discord-webhook-url` generates URLs to
it (Slack's and endpoint URLs go there too). Then it requires:

- Schemathesis found no failure (every answer is in the document, and the hooks' checks hold);
- no answer >= 500 in nginx's access log other than 503s and the 500s of test/retry (whose bodies
  hooks.py checked: `success: false`);
- no worker or delivery helper died (same pids as before the run, no death in the serve log) and
  no request failed inside the service.

Prints the request counts by status and operation. Exit status 0 when all hold.
"""

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "Tests" / "e2e"))
sys.path.insert(0, str(HERE))

from conftest import Service  # noqa: E402
from fake_discord import FakeDiscord  # noqa: E402
from openapi_check import contract  # noqa: E402

DOCUMENT = REPO / "docs" / "openapi.yaml"
CONFIG = HERE / "schemathesis.toml"
ACCESS_RE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+)[^"]*" (?P<status>\d{3}) ')
SEND_PATH_RE = re.compile(r"^(/api)?/webhooks/[^/?]+/(test|deliveries/[^/?]+/retry)/*(\?|$)")
DEATH_RE = re.compile(r"died|request failed|fatal|Fatal error|crash", re.IGNORECASE)


def template_of(path):
    """A request path as its document template (or "(other)"), for the tally."""
    return contract().match(path)[0] or "(other)"


def access_log_entries(path):
    entries = []
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return entries
    for line in text.splitlines():
        m = ACCESS_RE.search(line)
        if m:
            entries.append((m["method"], m["path"], int(m["status"])))
    return entries


def prepare_document(run_dir, fake):
    """The document with its example URLs (Discord's, Slack's, an endpoint's) pointed at the fake."""
    text = DOCUMENT.read_text()
    for example in ("https://discord.com/", "https://hooks.slack.com/", "https://panel.example.com/"):
        text = text.replace(example, f"http://127.0.0.1:{fake.port}/")
    path = Path(run_dir) / "openapi.yaml"
    path.write_text(text)
    return path


def clear_webhooks(svc, key):
    """Removes the fuzz user's webhooks between rounds, so creates do not all meet the limit."""
    status, _, hooks = svc.request("GET", "/webhooks", key=key)
    if status == 200:
        for hook in hooks:
            svc.request("DELETE", f"/webhooks/{hook['id']}", key=key)


def run_round(args, svc, document, env, seed, log):
    cmd = [sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file", str(CONFIG),
           "run", str(document), "--url", svc.base_url, "--workers", str(args.workers),
           "--max-time", str(args.max_time), "--seed", str(seed),
           "--phases", args.phases, "--mode", args.mode]
    started = time.monotonic()
    with open(log, "a") as out:
        out.write(f"\n===== round seed={seed}: {' '.join(cmd)}\n")
        out.flush()
        result = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                timeout=args.max_time * 4 + 300, cwd=svc.run_dir)
    return result.returncode, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=0,
                        help="keep running rounds until at least this many requests (default: one round)")
    parser.add_argument("--max-time", type=int, default=60, help="seconds per Schemathesis round")
    parser.add_argument("--workers", type=int, default=2, help="Schemathesis workers")
    parser.add_argument("--service-workers", type=int, default=3, help="the service's workers")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    parser.add_argument("--mode", default="all", choices=["positive", "negative", "all"])
    parser.add_argument("--keep", action="store_true", help="keep the run folder")
    args = parser.parse_args()

    # The run folder goes under a folder of its own, out of the way of anything that tidies up
    # /tmp/swh-e2e-* (nginx's workers must still reach the socket: 0711).
    tempfile.tempdir = tempfile.mkdtemp(prefix="swh-fuzz-")
    os.chmod(tempfile.tempdir, 0o711)
    fake = FakeDiscord(limit=10**9, window=1.0).start()
    svc = Service(config={
        "allow_insecure_targets": "true",
        "discord_hosts": f"127.0.0.1:{fake.port}",
        # Slack URLs go to the fake too (it answers them 404, as Slack does a removed webhook).
        "slack_hosts": f"127.0.0.1:{fake.port}",
        "workers": args.service_workers,
        "max_requests": 1_000_000_000,  # workers are replaced only if they die: pids must hold
        "delivery_timeout": 5,
        "retry_schedule": "2,5",
    })
    failures = []
    try:
        svc.start()
        user_key = svc.user_key("demo", label="fuzz")
        service_key = svc.service_key("panel", label="fuzz")
        svc.put_server("mc-1", "My MC", "demo", "RUNNING")
        document = prepare_document(svc.run_dir, fake)
        log = svc.run_dir / "schemathesis.log"
        env = {**os.environ, "SWH_FUZZ_USER_KEY": user_key, "SWH_FUZZ_SERVICE_KEY": service_key,
               "SWH_FUZZ_DISCORD": f"127.0.0.1:{fake.port}", "SCHEMATHESIS_HOOKS": "hooks",
               "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
        workers, helpers = svc.worker_pids(), svc.helper_pids()
        print(f"fuzzing {svc.base_url} (run folder {svc.run_dir}), fake Discord on {fake.port}, "
              f"workers {sorted(workers)}, helper {sorted(helpers)}", flush=True)

        started = time.monotonic()
        round_no = 0
        while True:
            code, took = run_round(args, svc, document, env, args.seed + round_no, log)
            round_no += 1
            total = len(access_log_entries(svc.run_dir / "nginx-access.log"))
            print(f"round {round_no}: schemathesis exit {code} in {took:.0f}s, "
                  f"{total} requests so far", flush=True)
            if code != 0:
                failures.append(f"round {round_no} (seed {args.seed + round_no - 1}): "
                                f"schemathesis reported failures (exit {code}), see {log}")
                print(tail_text(log, 80), flush=True)
            if total >= args.requests or not svc.serve or svc.serve.poll() is not None:
                break
            clear_webhooks(svc, user_key)
        elapsed = time.monotonic() - started

        entries = access_log_entries(svc.run_dir / "nginx-access.log")
        by_status = collections.Counter(status for _, _, status in entries)
        by_operation = collections.Counter((m, template_of(p)) for m, p, _ in entries)
        bad_5xx = collections.Counter(
            (m, template_of(p), s) for m, p, s in entries
            if s >= 500 and not (s == 503 or (s == 500 and m == "POST" and SEND_PATH_RE.match(p))))
        if bad_5xx:
            failures.append(f"answers >= 500 outside the document: {dict(bad_5xx)}")
        if svc.serve.poll() is not None:
            failures.append(f"serve exited with {svc.serve.returncode}")
        else:
            if svc.worker_pids() != workers:
                failures.append(f"worker pids changed: {sorted(workers)} -> {sorted(svc.worker_pids())}")
            if svc.helper_pids() != helpers:
                failures.append(f"helper pid changed: {sorted(helpers)} -> {sorted(svc.helper_pids())}")
        deaths = [line for line in svc.serve_log.read_text(errors="replace").splitlines()
                  if DEATH_RE.search(line)]
        if deaths:
            failures.append(f"{len(deaths)} deaths or internal errors in the serve log, e.g.:\n  "
                            + "\n  ".join(deaths[:10]))

        sends = collections.Counter(r.status for r in fake.received())
        print(f"\n{len(entries)} requests in {elapsed:.0f}s ({round_no} rounds, "
              f"{len(entries) / max(elapsed, 1):.0f}/s); Discord (fake) received "
              f"{sum(sends.values())} sends, answered "
              + ", ".join(f"{s}: {n}" for s, n in sorted(sends.items(), key=str)))
        print("by status:    " + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items())))
        print("by operation: " + ", ".join(f"{m} {p}: {n}" for (m, p), n in sorted(by_operation.items())))
        print(f"answers >= 500: {sum(n for s, n in by_status.items() if s >= 500)} "
              f"(undocumented: {sum(bad_5xx.values())}); worker/helper deaths: "
              f"{sum(1 for d in deaths if 'died' in d)}")
        if args.requests and len(entries) < args.requests:
            failures.append(f"only {len(entries)} of {args.requests} requests")
    finally:
        if failures or args.keep:
            svc.stop()
            print(f"run folder kept: {svc.run_dir}")
        else:
            svc.cleanup()
            os.rmdir(tempfile.tempdir)
        fake.stop()

    if failures:
        print("\nFAILED:\n- " + "\n- ".join(failures))
        return 1
    print("\nOK: no failure, no undocumented answer, no server error outside the document, "
          "no worker death")
    return 0


def tail_text(path, lines):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
