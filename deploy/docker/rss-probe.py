#!/usr/bin/env python3
"""Starts qwen-image-server with a given command, loads it with text-to-image tasks and reports its
resident memory (VmRSS from /proc/PID/status): idle after start, peak under load, and after the
load once idle. Used for the figures in docs/container.md; not part of the test suite.

  deploy/docker/rss-probe.py [--tasks 300] [--size 1024*1024] [--concurrency 16] [--after 70] -- COMMAND...

COMMAND must exec the JVM (the entrypoint does; so does `java ... -jar`), so that its pid is the JVM's.
The server gets QWEN_IMAGE_PORT, QWEN_IMAGE_DATA_DIR (a fresh temp dir) and QWEN_IMAGE_API_KEYS.
"""
import argparse, json, os, socket, subprocess, sys, tempfile, threading, time, urllib.request

KEY = "rss-probe-key-0123456789"

def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def http(method, url, body=None):
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return 0, b""

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=300)
    ap.add_argument("--size", default="1024*1024")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--after", type=int, default=70, help="seconds to stay idle after the load, then sample again")
    ap.add_argument("command", nargs="+")
    a = ap.parse_args()

    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    data = tempfile.mkdtemp(prefix="rss-probe-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWEN_IMAGE_") or k == "QWEN_IMAGE_JAVA_OPTS"}
    env.update(QWEN_IMAGE_PORT=str(port), QWEN_IMAGE_HOST="127.0.0.1", QWEN_IMAGE_DATA_DIR=data, QWEN_IMAGE_API_KEYS=KEY)
    log = open(os.path.join(data, "server.log"), "w")
    p = subprocess.Popen(a.command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    t0 = time.time()
    while http("GET", base + "/readyz")[0] != 200:
        if p.poll() is not None or time.time() - t0 > 90:
            sys.exit(f"server did not become ready; see {data}/server.log")
        time.sleep(0.2)
    time.sleep(5)
    idle = rss_kb(p.pid)

    peak = [idle]
    stop = threading.Event()
    def sampler():
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], rss_kb(p.pid))
            except OSError:
                return
            time.sleep(0.1)
    threading.Thread(target=sampler, daemon=True).start()

    ids, lock, failed = [], threading.Lock(), [0]
    counter = iter(range(a.tasks))
    def submitter():
        for i in counter:
            st, body = http("POST", base + "/v3/async/qwen-image-txt2img", {"prompt": f"probe {i}", "size": a.size})
            if st == 200:
                with lock: ids.append(json.loads(body)["task_id"])
            else:
                with lock: failed[0] += 1
    start = time.time()
    ts = [threading.Thread(target=submitter) for _ in range(a.concurrency)]
    [t.start() for t in ts]; [t.join() for t in ts]
    pending = list(ids); done = {"TASK_STATUS_SUCCEED": 0, "TASK_STATUS_FAILED": 0}
    while pending:
        nxt = []
        for tid in pending:
            st, body = http("GET", base + "/v3/async/task-result?task_id=" + tid)
            status = json.loads(body)["task"]["status"] if st == 200 else ""
            if status in done:
                done[status] += 1
            else:
                nxt.append(tid)
        pending = nxt
        if pending: time.sleep(0.5)
    load_s = time.time() - start
    end_of_load = rss_kb(p.pid)
    time.sleep(a.after)
    stop.set()
    after = rss_kb(p.pid)
    p.terminate()
    rc = p.wait(60)
    print(json.dumps({"command": " ".join(a.command), "java_opts": os.environ.get("QWEN_IMAGE_JAVA_OPTS", ""),
                      "tasks": a.tasks, "size": a.size, "concurrency": a.concurrency, "submit_refused": failed[0],
                      "succeeded": done["TASK_STATUS_SUCCEED"], "failed": done["TASK_STATUS_FAILED"], "load_s": round(load_s, 1),
                      "rss_idle_mb": idle // 1024, "rss_peak_mb": peak[0] // 1024, "rss_end_of_load_mb": end_of_load // 1024,
                      f"rss_{a.after}s_after_mb": after // 1024, "exit_code": rc}))

if __name__ == "__main__":
    main()
