"""live - run a demo's broken pair many times with nothing synchronised, and
count what happened: left alone, how the bytes are cut is up to timing.

Each run is the broken pair of demos/NN-name/expect.py with --live (read as
soon as a naive program would) and the demo's LIVE arguments. Every run must
say which case it was (its `fact | outcome = ...` line), and must keep the
one thing that holds whatever the timing: what each side's recvs returned,
joined, is exactly what the other side sent, joined. Nothing checks how the
outcomes are distributed: that is the lesson, not a rule.
"""
from collections import Counter
from typing import Callable, List, Optional, Tuple

from demolib import Demo, Observed, Outcome, run_pair

SIDES = ("client", "server")


def stream_problems(outcome: Outcome) -> List[str]:
    """Where the recvs of one side do not join up to the sends of the other."""
    seen, problems = Observed(outcome), []
    for conn in sorted({c.conn for c in seen.all_calls}):
        for sender, receiver in (SIDES, SIDES[::-1]):
            sent = seen.stream(sender, "send", conn)
            got = seen.stream(receiver, "recv", conn)
            if sent != got:
                problems.append(f"conn {conn}: {receiver} received {len(got)} bytes "
                                f"{got[:40]!r}..., {sender} sent {len(sent)} bytes {sent[:40]!r}...")
    return problems


def outcome_of(outcome: Outcome) -> Optional[str]:
    facts = outcome.facts
    for side in SIDES:
        if (side, "outcome") in facts:
            return str(facts[(side, "outcome")])
    return None


def live_runs(demo: Demo, count: int,
              on_run: Callable[[int, Outcome, Optional[str], List[str]], None] = None
              ) -> Tuple[Counter, List[str]]:
    """Run demo's broken pair count times; ({outcome: runs}, problems)."""
    if demo.live is None:
        raise ValueError(f"demo {demo.number} has no live mode")
    spec = demo.runs[0]
    side_args = {side: ["--live", *demo.live.get(side, [])] for side in SIDES}
    outcomes, problems = Counter(), []
    for i in range(1, count + 1):
        outcome = run_pair(spec, ["--full"], timeout=15, sync=False, side_args=side_args)
        found = outcome_of(outcome)
        run_problems = stream_problems(outcome)
        if outcome.error:
            run_problems.append(outcome.error)
        run_problems += [f"{cmd[0].rsplit('/', 1)[-1]} exited with {code}"
                         for cmd, code in zip(outcome.commands, outcome.codes) if code != 0]
        if found is None:
            run_problems.append("no 'fact | outcome = ...' line")
        outcomes[found or "(no outcome)"] += 1
        problems += [f"run {i}: {p}" for p in run_problems]
        if on_run:
            on_run(i, outcome, found, run_problems)
    return outcomes, problems
