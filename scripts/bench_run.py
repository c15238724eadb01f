#!/usr/bin/env python3
"""The measuring half of scripts/bench-run.sh (Python standard library only).

bench-run.sh builds the binaries and generates the population; this runs
them, interleaved, and reports. Each run is one process: wall time from
just before the fork to the child's exit (time.perf_counter), peak RSS from
the child's rusage (os.wait4: ru_maxrss, what /usr/bin/time -v reports).
Output directories are emptied before each run, outside the timing.
"""

import argparse
import datetime
import filecmp
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time

AS_OF = "2019-08"
MB = 1_000_000  # RSS is reported in MB of 10^6 bytes (150 MB = 143 MiB)
# Targets of the issue: wall time as a multiple of the yardstick's best CSV
# time, and weft's peak RSS.
TIME_TARGET = {"csv": 1.0, "parquet": 0.5, "jsonl": 3.0}
RSS_TARGET_MB = 150
FORMAT_NAME = {"csv": "CSV", "parquet": "Parquet", "jsonl": "JSONL"}


def parse_args():
    a = argparse.ArgumentParser(description=__doc__)
    a.add_argument("--work", required=True)
    a.add_argument("--repo", required=True)
    a.add_argument("--weft", required=True)
    a.add_argument("--native", required=True)
    a.add_argument("--policy", required=True)
    a.add_argument("--pop", required=True)
    a.add_argument("--households", type=int, required=True)
    a.add_argument("--seed", type=int, required=True)
    a.add_argument("--size-label", required=True)
    a.add_argument("--runs", type=int, default=5)
    a.add_argument("--threads", type=int, default=2)
    a.add_argument("--engine", default="jit")
    a.add_argument("--formats", default="csv,parquet,jsonl")
    a.add_argument("--openfisca-python")
    a.add_argument("--openfisca-script")
    a.add_argument("--openfisca-runs", type=int, default=1)
    a.add_argument("--memory-only", action="store_true")
    return a.parse_args()


def measure(cmd, log_prefix):
    """Run cmd once; return (wall s, CPU s (user + system), peak RSS bytes,
    stdout, stderr)."""
    out_path, err_path = log_prefix + ".out", log_prefix + ".err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    stdout = open(out_path, encoding="utf-8", errors="replace").read()
    stderr = open(err_path, encoding="utf-8", errors="replace").read()
    if p.returncode != 0:
        sys.stderr.write(stderr[-4000:])
        sys.exit(f"error: exit code {p.returncode} from {' '.join(cmd)} (logs: {log_prefix}.*)")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024, stdout, stderr


def summary_json(text):
    """`weft run --summary json`: a JSON object on stdout (older builds:
    on stderr, after any warnings)."""
    stderr = text.lstrip("\n")
    at = 0 if stderr.startswith("{") else stderr.find("\n{") + 1
    try:
        return json.JSONDecoder().raw_decode(stderr, at)[0]
    except ValueError:
        return None


def weft_stages(stdout, stderr):
    s = summary_json(stdout) or summary_json(stderr)
    return s.get("timings_ms") if s else None


def weft_summary(stderr):
    """What must not depend on the format: counts and programme totals."""
    s = summary_json(stderr)
    if s is None:
        return None
    counts = sorted((f["input"], f["read"], f["evaluated"], f["rejected"]) for f in s["files"])
    return counts, s["programmes"]


def native_stages(_stdout, stderr):
    """The yardstick's `read: 12.3 ms` lines on stderr."""
    stages = {}
    for m in re.finditer(r"^(read|evaluate|write):\s+([\d.]+) ms", stderr, re.M):
        stages[m.group(1)] = float(m.group(2))
    return stages or None


def openfisca_stages(_stdout, stderr):
    """run_openfisca.py --timings: a JSON line on stderr, phases in seconds."""
    for line in reversed(stderr.splitlines()):
        try:
            t = json.loads(line)
        except ValueError:
            continue
        phases = ("init", "load", "build", "calculate", "write")
        return {k: t[k] * 1000 for k in phases if isinstance(t.get(k), (int, float))}
    return None


class Config:
    def __init__(self, key, label, fmt, cmd, out_dir, stages, target=None, rss_target=None):
        self.key, self.label, self.fmt, self.cmd = key, label, fmt, cmd
        self.out_dir, self.stages_of = out_dir, stages
        self.target, self.rss_target = target, rss_target
        self.walls, self.cpus, self.rss, self.stages = [], [], [], None
        self.last_stderr = ""

    def run(self, logs, i):
        shutil.rmtree(self.out_dir, ignore_errors=True)
        wall, cpu, rss, stdout, stderr = measure(self.cmd, os.path.join(logs, f"{self.key}-{i}"))
        if not self.walls or wall < min(self.walls):
            self.stages = self.stages_of(stdout, stderr)
        self.walls.append(wall)
        self.cpus.append(cpu)
        self.rss.append(rss)
        # `weft run --summary json` prints on stdout (older builds: stderr).
        self.last_stderr = stdout + "\n" + stderr
        return wall, cpu, rss

    def result(self, base):
        best = min(self.walls)
        r = {
            "configuration": self.label,
            "key": self.key,
            "walls_s": [round(w, 4) for w in self.walls],
            "best_s": round(best, 4),
            "min_s": round(min(self.walls), 4),
            "max_s": round(max(self.walls), 4),
            "cpu_s": [round(c, 3) for c in self.cpus],
            "cpu_s_of_best": round(self.cpus[self.walls.index(best)], 3),
            "peak_rss_mb": round(max(self.rss) / MB, 1),
            "stages_of_best": self.stages,
        }
        if base:
            r["ratio_to_yardstick_csv"] = round(best / base, 3)
        if self.target is not None and base:
            r["target_ratio"] = self.target
            r["time_target_met"] = best / base <= self.target
        if self.rss_target is not None:
            r["target_rss_mb"] = self.rss_target
            r["rss_target_met"] = max(self.rss) / MB <= self.rss_target
        return r


def persons_in(pop):
    for fmt in ("csv", "parquet", "jsonl"):
        try:
            log = open(os.path.join(pop, fmt, "synth.log"), encoding="utf-8").read()
        except OSError:
            continue
        m = re.search(r"wrote (\d+) rows to \S*persons\.", log)
        if m:
            return int(m.group(1))
    return None


def same_outputs(a, b):
    names = ("persons.csv", "households.csv", "errors.csv")
    return all(filecmp.cmp(os.path.join(a, n), os.path.join(b, n), shallow=False) for n in names)


def git_rev(repo):
    try:
        rev = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def fmt_stages(stages):
    if not stages:
        return "(none)"
    def num(v):
        if not isinstance(v, (int, float)):
            return str(v)
        return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}"

    return ", ".join(f"{k} {num(v)}" for k, v in stages.items())


def check_label(key):
    """weft_parquet_summary_equals_csv → a sentence."""
    known = {
        "weft_csv_equals_yardstick": "weft's CSV outputs are the yardstick's, byte for byte",
        "openfisca_equals_yardstick":
            "OpenFisca's outputs are the yardstick's, byte for byte (information only)",
    }
    m = re.fullmatch(r"weft_(\w+)_summary_equals_csv", key)
    if m:
        return f"weft's {FORMAT_NAME[m.group(1)]} summary (counts, totals) is the CSV run's"
    return known.get(key, key)


def yes(b):
    return "yes" if b else "NO"


def main():
    a = parse_args()
    formats = [f for f in a.formats.split(",") if f]
    logs = os.path.join(a.work, "logs")
    outs = os.path.join(a.work, "out")
    os.makedirs(logs, exist_ok=True)
    os.makedirs(outs, exist_ok=True)
    persons = persons_in(a.pop)
    load_start = os.getloadavg()[0]

    def weft_cmd(fmt, out):
        p = os.path.join(a.pop, fmt)
        return [a.weft, "run", a.policy,
                "--persons", os.path.join(p, f"persons.{fmt}"),
                "--households", os.path.join(p, f"households.{fmt}"),
                "--as-of", AS_OF, "--out", out, "--format", fmt, "--force",
                "--threads", str(a.threads), "--engine", a.engine,
                "--timings", "--summary", "json", "--quiet"]

    configs = []
    yard = None
    if not a.memory_only:
        out = os.path.join(outs, "yardstick-csv")
        csv = os.path.join(a.pop, "csv")
        yard = Config("yardstick-csv", "yardstick CSV → CSV", "csv",
                      [a.native, os.path.join(csv, "persons.csv"),
                       os.path.join(csv, "households.csv"), AS_OF, out,
                       "--threads", str(a.threads)], out, native_stages)
        configs.append(yard)
    for fmt in formats:
        out = os.path.join(outs, f"weft-{fmt}")
        name = FORMAT_NAME[fmt]
        configs.append(Config(f"weft-{fmt}", f"weft {name} → {name}", fmt, weft_cmd(fmt, out), out,
                              weft_stages, None if a.memory_only else TIME_TARGET[fmt],
                              RSS_TARGET_MB))

    who = f"{persons:,} persons" if persons else "?"
    title = (f"{who} ({a.households:,} households, seed {a.seed}), as of {AS_OF}, "
             f"{a.threads} threads, engine {a.engine}")
    print(f"== {'weft run peak RSS' if a.memory_only else 'weft run vs the yardstick'}: {title}",
          file=sys.stderr)
    print(f"   {a.runs} round(s), each: {', '.join(c.label for c in configs)}; load average "
          f"{load_start:.2f} on {os.cpu_count()} cores", file=sys.stderr)

    checks = {}
    for i in range(1, a.runs + 1):
        for c in configs:
            wall, cpu, rss = c.run(logs, i)
            print(f"   run {i}/{a.runs}  {c.label:<24} {wall:8.3f} s  (CPU {cpu:7.3f} s)"
                  f"  {rss / MB:8.1f} MB", file=sys.stderr)
        if i == 1:
            # Same results whatever the format, and the same files as the
            # yardstick's (the spec's output, cell for cell).
            weft = {c.fmt: c for c in configs if c.key.startswith("weft-")}
            if yard and "csv" in weft:
                checks["weft_csv_equals_yardstick"] = same_outputs(weft["csv"].out_dir, yard.out_dir)
            if "csv" in weft:
                ref = weft_summary(weft["csv"].last_stderr)
                for fmt, c in weft.items():
                    if fmt != "csv":
                        checks[f"weft_{fmt}_summary_equals_csv"] = (
                            ref is not None and weft_summary(c.last_stderr) == ref)
            for k, v in checks.items():
                print(f"   check: {check_label(k)}: {yes(v)}", file=sys.stderr)

    openfisca = None
    if a.openfisca_python and not a.memory_only:
        out = os.path.join(outs, "openfisca-csv")
        csv = os.path.join(a.pop, "csv")
        openfisca = Config("openfisca-csv", "OpenFisca CSV → CSV", "csv",
                           [a.openfisca_python, a.openfisca_script, os.path.join(csv, "persons.csv"),
                            os.path.join(csv, "households.csv"), AS_OF, out, "--timings"],
                           out, openfisca_stages)
        for i in range(1, a.openfisca_runs + 1):
            wall, cpu, rss = openfisca.run(logs, i)
            print(f"   run {i}/{a.openfisca_runs}  {openfisca.label:<24} {wall:8.3f} s  (CPU {cpu:7.3f} s)"
                  f"  {rss / MB:8.1f} MB", file=sys.stderr)
        checks["openfisca_equals_yardstick"] = same_outputs(out, yard.out_dir)
        k = "openfisca_equals_yardstick"
        print(f"   check: {check_label(k)}: {yes(checks[k])}", file=sys.stderr)
    load_end = os.getloadavg()[0]

    base = min(yard.walls) if yard else None
    results = [c.result(base) for c in configs]
    of_result = openfisca.result(base) if openfisca else None
    if of_result:
        weft_csv = next((r for r in results if r["key"] == "weft-csv"), None)
        if weft_csv:
            of_result["weft_csv_ratio"] = round(weft_csv["best_s"] / of_result["best_s"], 4)

    # The table.
    print()
    print(("weft run peak RSS" if a.memory_only else "weft run vs the yardstick") + f": {title},"
          f" best of {a.runs}" + ("" if a.memory_only else " interleaved"))
    head = f"{'configuration':<24} {'best s':>7} {'range s':>15} {'CPU s':>7}"
    if not a.memory_only:
        head += f" {'× yardstick CSV':>15} {'target':>7} {'met':>4}"
    head += f" {'peak RSS MB':>12} {'target':>7} {'met':>4}"
    print(head)
    print("-" * len(head))
    for r in results + ([of_result] if of_result else []):
        line = (f"{r['configuration']:<24} {r['best_s']:>7.3f} {r['min_s']:>7.3f}–{r['max_s']:<7.3f}"
                f" {r['cpu_s_of_best']:>7.3f}")
        if not a.memory_only:
            line += f" {r['ratio_to_yardstick_csv']:>14.2f}×"
            if "target_ratio" in r:
                line += f" {'≤ ' + format(r['target_ratio'], '.1f') + '×':>7} {yes(r['time_target_met']):>4}"
            else:
                line += f" {'':>7} {'':>4}"
        line += f" {r['peak_rss_mb']:>12.1f}"
        if "target_rss_mb" in r:
            line += f" {'≤ ' + str(r['target_rss_mb']):>7} {yes(r['rss_target_met']):>4}"
        print(line.rstrip())
    if of_result and "weft_csv_ratio" in of_result:
        x = of_result["weft_csv_ratio"]
        print(f"weft CSV / OpenFisca: {x:.3f}× (OpenFisca takes {1 / x:.1f}× as long; "
              f"{len(openfisca.walls)} OpenFisca run(s))")
    print("stages of each best run (ms):")
    for c in configs + ([openfisca] if openfisca else []):
        print(f"  {c.label:<24} {fmt_stages(c.stages)}")
    for k, v in checks.items():
        print(f"check: {check_label(k)}: {yes(v)}")
    print(f"load average (1 min): {load_start:.2f} at start, {load_end:.2f} at end, "
          f"{os.cpu_count()} cores; CPU s: user + system time of the best run; "
          "RSS in MB of 10^6 bytes")

    report = {
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git": git_rev(a.repo),
        "host": {"node": platform.node(), "cpu": cpu_model(), "cores": os.cpu_count(),
                 "system": platform.platform()},
        "mode": "memory-only" if a.memory_only else "benchmark",
        "population": {"households": a.households, "persons": persons, "seed": a.seed,
                       "as_of": AS_OF, "dir": a.pop},
        "runs": a.runs, "threads": a.threads, "engine": a.engine,
        "load_average": [load_start, load_end],
        "results": results,
        "openfisca": of_result,
        "checks": checks,
    }
    res_dir = os.path.join(a.work, "results")
    os.makedirs(res_dir, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    kind = "memory" if a.memory_only else "bench"
    path = os.path.join(res_dir, f"{kind}-h{a.households}-{stamp}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, ensure_ascii=False)
        f.write("\n")
    shutil.copyfile(path, os.path.join(res_dir, f"latest-{kind}-h{a.households}.json"))
    print(f"wrote {path}")
    # Weft giving other results than the yardstick, or than itself on
    # another format, fails the run; OpenFisca's own differences do not.
    return 0 if all(v for k, v in checks.items() if k.startswith("weft_")) else 1


if __name__ == "__main__":
    sys.exit(main())
