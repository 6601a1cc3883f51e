#!/usr/bin/env python3
"""bench.py - every speed figure of the suite, as a ratio against its floor.

usage: bench.py [--rounds R] [--quick] [--only IDS] [--seed N] [--json PATH]
                [--strict] [--tiny]

`make bench` runs it. Each row of the table is one of ours against its floor
(the least the same work can cost here: a bare posix_spawn loop, a local
pipe, raw reads, one raw byte each way), both measured in the same round,
so a busy moment of the machine hits both. Every round runs every variant
once, in an order shuffled anew each round (seeded: --seed repeats it). The
table shows the medians of ours and of the floor, and the smallest and the
median of the per-round ratios; build/bench.json keeps every number, the
machine and the kernel.

  --rounds R   rounds (default 5; BENCH_QUICK=1 or --quick: 1)
  --only IDS   only these rows (comma-separated ids, see build/bench.json)
  --awake      keep the CPUs out of their idle states for the run (BENCH_AWAKE=1;
               root: /dev/cpu_dma_latency = 0). On a virtual machine an idle CPU
               can take tens of us to wake, which then dominates the ping-pong
               and pipe figures; the default measures the machine as it is
  --strict     exit 1 if a target of the project does not hold
  --tiny       tiny sizes: checks that everything runs (make test does this)

Not a test: no figure here passes or fails `make test`. Exit status 1 if
something could not be measured (or, with --strict, a target is missed).
"""
import argparse
import dataclasses
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import textwrap
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_cases  # noqa: E402
import bench_netns  # noqa: E402
from bench_run import BenchError  # noqa: E402
from suite import ROOT  # noqa: E402

WIDTH = 100  # no line of the report is longer
COLUMNS = "{:<30} | {:>10} | {:>10} | {:>7} {:>7} | {}"


# ---- the machine ----

def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "cpu model", "uarch"):
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def cpuidle_driver() -> str:
    try:
        with open("/sys/devices/system/cpu/cpuidle/current_driver") as f:
            return f.read().strip()
    except OSError:
        return "none"


def keep_awake():
    """Ask the kernel for zero wake-up latency (PM QoS) while the returned
    descriptor stays open: idle CPUs poll instead of sleeping. (fd, None) or
    (None, why not)."""
    try:
        fd = os.open("/dev/cpu_dma_latency", os.O_WRONLY)
    except OSError as e:
        return None, f"/dev/cpu_dma_latency: {e.strerror}"
    os.write(fd, (0).to_bytes(4, sys.byteorder))
    return fd, None


def machine() -> dict:
    u = platform.uname()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"system": u.system, "kernel": u.release, "kernel_version": u.version,
            "arch": u.machine, "node": u.node, "cpu": cpu_model(), "cores": os.cpu_count(),
            "usable_cores": usable, "load_at_start": load_average(),
            "cpuidle_driver": cpuidle_driver(),
            "python": platform.python_version()}


# ---- measuring ----

def run_rounds(ctx, names, rounds: int, rng: random.Random, progress, variants=None) -> dict:
    """{variant: [its result in round 1, 2, ...]} (None where it failed), the
    errors, and each round's order. variants: {name: measure(ctx)}, by
    default bench_cases.VARIANTS."""
    variants = bench_cases.VARIANTS if variants is None else variants
    results = {n: [] for n in names}
    errors, orders = {}, []
    for r in range(rounds):
        order = list(names)
        rng.shuffle(order)
        orders.append(order)
        start = time.monotonic()
        for name in order:
            results[name].append(measure(variants[name], ctx, name, errors))
        progress(f"round {r + 1}/{rounds}: {len(order)} variants in "
                 f"{time.monotonic() - start:.1f} s")
    return {"results": results, "errors": errors, "orders": orders}


def measure(variant, ctx, name: str, errors: dict):
    try:
        return variant(ctx)
    except (BenchError, OSError, ValueError, KeyError) as e:
        errors.setdefault(name, f"{type(e).__name__}: {e}")
        return None


def warm_up(ctx, names, progress) -> None:
    """Every variant once at tiny sizes, untimed: caches filled, CPUs awake."""
    tiny = dataclasses.replace(ctx, sizes=bench_cases.TINY)
    start = time.monotonic()
    for name in names:
        measure(bench_cases.VARIANTS[name], tiny, name, {})
    progress(f"warm-up: {len(names)} variants at tiny sizes in {time.monotonic() - start:.1f} s")


# ---- the figures ----

def summarize(row, results: dict, words: dict) -> dict:
    """One row: the per-round ratios ours/floor (rounds where both were
    measured), their min and median, the medians of ours and the floor, the
    extra figures, and whether the project's target holds (on the median)."""
    pairs = [(o, f) for o, f in zip(results[row.ours], results[row.floor]) if o and f]
    s = {"id": row.id, "what": row.what, "ours": row.ours, "floor": row.floor,
         "unit": "bytes/s" if row.rate else "s", "higher_is_better": row.rate,
         "meaning": row.meaning.format(**words), "rounds": len(pairs)}
    if not pairs:
        return s
    ratios = [o["value"] / f["value"] for o, f in pairs]
    s.update(ours_values=[o["value"] for o, _ in pairs],
             floor_values=[f["value"] for _, f in pairs],
             ratios=ratios, ratio_min=min(ratios), ratio_median=statistics.median(ratios),
             ours_median=statistics.median(o["value"] for o, _ in pairs),
             floor_median=statistics.median(f["value"] for _, f in pairs),
             extra={k: {"ours": median_of([o.get(k) for o, _ in pairs]),
                        "floor": median_of([f.get(k) for _, f in pairs])} for k in row.extra})
    if row.target:
        op, limit = row.target
        m = s["ratio_median"]
        s["target"] = {"ratio_median": f"{op} {limit}",
                       "holds": m <= limit if op == "<=" else m >= limit}
    return s


def median_of(values):
    """The median of numbers, or of dicts of numbers key by key; None if none."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    if isinstance(values[0], dict):
        return {k: statistics.median(v[k] for v in values) for k in values[0]}
    return statistics.median(values)


# ---- the report ----

def show_value(value: float, rate: bool) -> str:
    if rate:
        return f"{value / bench_cases.GIB:.2f} GiB/s"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if value >= scale or unit == "ns":
            v = value / scale
            return f"{v:.0f} {unit}" if v >= 100 else f"{v:.3g} {unit}"
    return str(value)


def show_ratio(r: float) -> str:
    if r >= 10000:
        return f"{r:.2g}"
    return f"{r:.0f}" if r >= 100 else f"{r:.1f}" if r >= 10 else f"{r:.2f}"


def show_extra(key: str, figures: dict, rate: bool) -> str:
    o, f = figures["ours"], figures["floor"]
    if key == "delayed_acks_per_100":
        return f"delayed ACKs per 100 commands: ours {o:.0f}, floor {f:.0f}"
    if key == "p99_s":
        return f"p99 round trip: ours {show_value(o, False)}, floor {show_value(f, False)}"
    if key == "cpu_s_per_gib":
        parts = lambda d: ", ".join(f"{k} {v:.2f}" for k, v in (d or {}).items())  # noqa: E731
        return f"CPU s per GiB (user+sys): ours: {parts(o)}; floor: {parts(f)}"
    if key == "cpu_per_command":
        parts = lambda d: ", ".join(f"{k} {show_value(v, False)}" for k, v in d.items())  # noqa
        return (f"CPU per command (user+sys, not the command's): ours: {parts(o)}; "
                f"floor: {parts(f)}")
    return f"{key}: ours {o}, floor {f}"


def table(summaries) -> list:
    lines = [COLUMNS.format("what", "ours", "floor", "ratio", "", "target"),
             COLUMNS.format("", "(median)", "(median)", "min", "median", "").rstrip()]
    lines.append("-" * len(lines[0]))
    for s in summaries:
        rate = s["higher_is_better"]
        if not s["rounds"]:
            lines.append(COLUMNS.format(s["what"], "-", "-", "-", "-", "not measured"))
        else:
            t = s.get("target")
            verdict = f"{t['ratio_median']}: {'holds' if t['holds'] else 'MISSED'}" if t else ""
            lines.append(COLUMNS.format(s["what"], show_value(s["ours_median"], rate),
                                        show_value(s["floor_median"], rate),
                                        show_ratio(s["ratio_min"]), show_ratio(s["ratio_median"]),
                                        verdict).rstrip())
        notes = [s["meaning"]] + [show_extra(k, v, rate) for k, v in s.get("extra", {}).items()
                                  if v["ours"] is not None]
        for note in notes:
            lines += textwrap.wrap(note, WIDTH, initial_indent="    ", subsequent_indent="      ",
                                   break_on_hyphens=False)
    return lines


def header(m: dict, args, ctx, netns_why) -> list:
    load = m["load_at_start"]
    busy = load and m["cores"] and load[0] > 0.5 * m["cores"]
    lines = [f"make bench: each figure is ours / its floor, both measured in the same round; "
             f"{args.rounds} round(s),",
             f"the order of the variants shuffled in each (seed {args.seed}). Ratios: min and "
             f"median of the rounds.",
             f"machine: {m['system']} {m['kernel']} {m['arch']}, {m['cpu']}, {m['cores']} cores "
             f"({m['usable_cores']} usable), load {load[0] if load else '?'} at start"
             + (" - NOT IDLE: figures may be noisy" if busy else ""),
             f"rsh-server: {ctx.auth.note}"]
    if ctx.private_netns:
        lines.append("delayed ACKs: counted in a private network namespace per run "
                     "(TcpExt DelayedACKs, /proc/net/netstat)")
    else:
        lines.append(f"delayed ACKs: counted MACHINE-WIDE, other traffic may add to them "
                     f"(no private network namespace: {netns_why})")
    if m["awake"] is True:
        idle = "kept out for this run (--awake: /dev/cpu_dma_latency 0)"
    else:
        idle = "allowed, as the machine is (--awake keeps them out" + (
            f"; it could not: {m['awake']})" if m["awake"] else ")")
    lines.append(f"CPU idle states (cpuidle: {m['cpuidle_driver']}): {idle}")
    if "bulk-iperf3" not in bench_cases.VARIANTS:
        lines.append("iperf3: not installed here, so no second opinion on raw TCP "
                     "(make bench installs nothing)")
    return [piece for line in lines for piece in textwrap.wrap(line, WIDTH,
                                                              subsequent_indent="    ")]


# ---- main ----

def parse_args(argv):
    p = argparse.ArgumentParser(description="Every speed figure as a ratio against its floor.")
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    p.add_argument("--rounds", type=int, default=1 if quick else 5)
    p.add_argument("--quick", action="store_true", help="one round (as BENCH_QUICK=1)")
    p.add_argument("--only", default="", help="comma-separated row ids")
    p.add_argument("--seed", type=int, default=random.SystemRandom().randrange(1 << 31))
    p.add_argument("--json", default=os.path.relpath(ROOT / "build" / "bench.json"))
    p.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    p.add_argument("--awake", action="store_true",
                   default=os.environ.get("BENCH_AWAKE", "") not in ("", "0"),
                   help="keep the CPUs out of idle states (as BENCH_AWAKE=1)")
    p.add_argument("--tiny", action="store_true", help="tiny sizes, no warm-up: a smoke test")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds = 1
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return args


def pick_rows(only: str):
    rows = bench_cases.rows_here()
    if not only:
        return rows
    wanted = set(only.split(","))
    unknown = wanted - {r.id for r in bench_cases.ROWS}
    if unknown:
        raise SystemExit(f"bench.py: unknown row ids {sorted(unknown)}; known: "
                         f"{', '.join(r.id for r in bench_cases.ROWS)}")
    return [r for r in rows if r.id in wanted]


def measure_all(args, sizes, names, progress):
    """Start the server, warm up, run the rounds; (context, run) or raise BenchError."""
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        ctx = bench_cases.make_context(sizes, workdir)
        try:
            if not args.tiny:
                warm_up(ctx, names, progress)
            return ctx, run_rounds(ctx, names, args.rounds, random.Random(args.seed), progress)
        finally:
            ctx.server.stop()


def write_json(path: str, report: dict) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(report, f, indent=1)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    rows = pick_rows(args.only)
    names = bench_cases.variants_for(rows)
    sizes = bench_cases.TINY if args.tiny else bench_cases.FULL
    progress = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    m = machine()
    _, netns_why = bench_netns.namespace_prefix()
    awake_fd, why_not = keep_awake() if args.awake else (None, None)
    m["awake"] = True if awake_fd is not None else why_not  # None: not asked
    try:
        ctx, run = measure_all(args, sizes, names, progress)
    except (BenchError, OSError) as e:
        print(f"bench.py: cannot start: {e}", file=sys.stderr)
        return 1
    finally:
        if awake_fd is not None:
            os.close(awake_fd)
    words = bench_cases.size_words(sizes)
    summaries = [summarize(r, run["results"], words) for r in rows]
    m["load_at_end"] = load_average()
    lines = header(m, args, ctx, netns_why) + [""] + table(summaries)
    for name, error in sorted(run["errors"].items()):
        lines += textwrap.wrap(f"not measured: {name}: {error}", WIDTH, subsequent_indent="    ")
    print("\n".join(lines))
    write_json(args.json, {
        "machine": m, "rounds": args.rounds, "seed": args.seed, "tiny": args.tiny,
        "sizes": dataclasses.asdict(sizes), "auth": ctx.auth.note,
        "delayed_acks_private_netns": ctx.private_netns, "netns_problem": netns_why,
        "rows": summaries, "variants": run["results"], "orders": run["orders"],
        "errors": run["errors"]})
    print(f"\n(every number, per round: {args.json})")
    missed = [s["id"] for s in summaries if not s.get("target", {}).get("holds", True)]
    return 1 if run["errors"] or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
