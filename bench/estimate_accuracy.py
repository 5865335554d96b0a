#!/usr/bin/env python3
"""How close the estimate comes to the real end of a real image build.

Runs scripts/build-image.sh (the README's first command) once, reads the
build page's address from its output, and polls the page's state API
(GET /api/v1/projects/<project>) twice a second until the build ends. At
each code it takes the estimate the gateway served first after that code,
and compares its time left with the truth: the final code's ts less that
code's ts (both bscd's clock). Prints one line per stage, and a summary.

  sudo bench/estimate_accuracy.py [PROJECT_NAME]

The build's own parameters pass through the environment as for
build-image.sh. Run it twice for the same kind of image: the first run
teaches, the second is told its time left. Nothing is measured without an
earlier build of the profile ("basis": "learning").
"""

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime


def unix_ms(iso):
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


def poll_state(url, samples, done):
    while not done.is_set():
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                samples.append(json.load(response))
        except Exception:  # not yet started, or between codes: try again
            pass
        done.wait(0.5)


def main():
    project = sys.argv[1] if len(sys.argv) > 1 else "estimate-" + time.strftime("%Y%m%d-%H%M%S")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PROJECT_NAME=project)
    build = subprocess.Popen([os.path.join(root, "scripts/build-image.sh")], cwd=root, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, text=True)
    samples, done, poller = [], threading.Event(), None
    for line in build.stdout:
        sys.stdout.write(line)
        page = re.search(r"the build's page: (http://\S+)/projects/", line)
        if page and poller is None:
            url = f"{page.group(1)}/api/v1/projects/{project}"
            poller = threading.Thread(target=poll_state, args=(url, samples, done))
            poller.start()
    status = build.wait()
    done.set()
    if poller:
        poller.join()
    if status != 0 or not samples:
        print(f"estimate_accuracy: the build failed (status {status}) or was never read")
        return 1

    final = samples[-1]
    if final.get("state") != "succeeded":
        print(f"estimate_accuracy: the build ended {final.get('state')}")
        return 1
    end_ms = unix_ms(final["updated"])
    start_ms = unix_ms(final["build_started"])
    print(f"\nprofile {final.get('profile')}: the build took {(end_ms - start_ms) / 1000:.1f} s")
    print(f"{'after code':>10} {'estimated left':>15} {'true left':>10} {'error':>8}")
    seen, errors = set(), []
    for state in samples:
        code, estimate = state["code"], state.get("estimate", {})
        if code in seen or state["state"] != "running" or "left" not in estimate:
            continue
        seen.add(code)
        code_ms = unix_ms(state["updated"])
        # The estimate as it was at the code: the current stage's usual time
        # has counted down since (by what elapsed, never past its usual).
        elapsed = estimate["stage_elapsed_ms"]
        usual = next((s.get("usual_ms", 0) for s in state["plan"] if s["state"] == "current"), 0)
        left = estimate["left"]["ms"] + min(elapsed, usual)
        truth = end_ms - code_ms
        errors.append((left - truth, truth))
        print(f"{code:>10} {left / 1000:>14.1f}s {truth / 1000:>9.1f}s {(left - truth) / 1000:>+7.1f}s")
    if not errors:
        print("no estimate was served: the profile had no earlier build")
        return 0
    worst = max(errors, key=lambda e: abs(e[0]))
    first = errors[0]
    print(f"at the first code: {first[0] / 1000:+.1f} s of {first[1] / 1000:.1f} s "
          f"({100 * first[0] / max(first[1], 1):+.0f} %); worst: {worst[0] / 1000:+.1f} s "
          f"with {worst[1] / 1000:.1f} s left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
