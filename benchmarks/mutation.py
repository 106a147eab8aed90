"""Mutation testing of symconv, the proof kit and the check modules with mutmut 3.

    python benchmarks/mutation.py --profile symconv          # one profile (see PROFILES)
    python benchmarks/mutation.py --profile symconv --paths symconv/_patterns.py
    python benchmarks/mutation.py --profile symconv --report # print stored results only
    python benchmarks/mutation.py --profile symconv --rerun-survivors   # after new tests
    python benchmarks/mutation.py --profile all              # setup.cfg as it is

``setup.cfg``'s ``[mutmut]`` section is the whole configuration (every mutated file, every
test file that exercises them); ``mutmut run`` at the root uses it as it is (profile
``all``). On 2 shared cores that is hours, so a *profile* runs one group of modules
against the test files written for them, in its own copy of the tree
(``.mutation/PROFILE``, ignored by git) with ``setup.cfg`` narrowed to the group: the score
is then "killed by those test files", a lower bound for the whole suite. The run is niced
(``nice -n 10``) and uses one worker unless told otherwise; one module at a time, so a long
run can stop and keep what it did (mutmut keeps a mutant's result until it is named again).

Prints, per module, ``killed / total`` (a timeout counts as killed: the mutant made the
suite run past 4x its time), the overall score, and every survivor (``--diff``: its diff).
"""

from __future__ import annotations

import argparse
import configparser
import fnmatch
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: mutmut's exit codes, as ``mutmut.stats.status_by_exit_code`` reads them
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "runner error",
          37: "type check", -11: "segfault", -9: "segfault", -6: "segfault",
          None: "not checked"}  # fmt: skip
#: -6 is SIGABRT: the tests crashed the process (z3 aborts on a script that is None); mutmut
#: itself calls it "suspicious", as it does every code it does not know. 255 is mutmut's
#: runner raising instead of running the tests (its worker exits with -1): pytest refused
#: the command, e.g. exit 4 for a test id it cannot select again (an id holding a newline).
#: mutmut files it under "timeout", which it counts as killed; it is no verdict on the
#: mutant, so it is not counted as caught here.
CAUGHT = {"killed", "timeout", "type check", "segfault"}


_SYMCONV = ["symconv/_layers.py", "symconv/_matrices.py", "symconv/_patterns.py",
            "symconv/_certify.py", "symconv/_depth.py"]  # fmt: skip
_KIT = ["proofs/_z3.py", "proofs/_result.py", "proofs/_registry.py", "proofs/_kit.py",
        "proofs/_identities.py", "proofs/_reprove.py"]  # fmt: skip
_CHECKS = ["proofs/thm*.py", "proofs/lemma1.py", "proofs/premise.py", "proofs/corollary_depth2.py",
           "proofs/kernel_depth.py", "proofs/section4.py", "proofs/audit.py",
           "proofs/crosscheck.py"]  # fmt: skip

#: profile → (files it mutates, test files it runs)
PROFILES: dict[str, tuple[list[str], list[str]]] = {
    "symconv": (_SYMCONV, ["tests/test_symconv_properties.py", "tests/test_symconv_patterns.py",
                           "tests/test_symconv_matrices.py", "tests/test_crosscheck.py",
                           "tests/test_guards.py", "tests/test_structural_checks.py"]),
    "kit": (_KIT, ["tests/test_proof_integrity.py", "tests/test_guards.py",
                   "tests/test_proof_side.py", "tests/test_identities_export.py",
                   "tests/test_kit.py", "tests/test_z3_kit.py", "tests/test_thm1.py",
                   "tests/test_thm2.py", "tests/test_kit_edges.py",
                   "tests/test_registry_runs.py", "tests/test_run_many.py"]),
    "checks": (_CHECKS, ["tests/test_registry_variants.py", "tests/test_structural_checks.py",
                         "tests/test_thm1.py", "tests/test_thm2.py", "tests/test_thm3.py",
                         "tests/test_thm4_symbolic.py", "tests/test_lemma1.py",
                         "tests/test_proof_side.py", "tests/test_proof_integrity.py",
                         "tests/test_crosscheck.py", "tests/test_crosscheck_paths.py",
                         "tests/test_guards.py"]),
}  # fmt: skip


def _cfg_list(cfg: configparser.ConfigParser, key: str) -> list[str]:
    return [p for p in cfg.get("mutmut", key).split("\n") if p]


def configured_paths(profile: str = "all") -> list[str]:
    """The files the profile mutates (``all``: setup.cfg's ``only_mutate``), in order."""
    if profile == "all":
        cfg = configparser.ConfigParser()
        cfg.read(ROOT / "setup.cfg")
        patterns = _cfg_list(cfg, "only_mutate")
    else:
        patterns = PROFILES[profile][0]
    files = sorted(
        str(p.relative_to(ROOT)) for d in ("symconv", "proofs") for p in (ROOT / d).glob("*.py")
    )
    return [f for pat in patterns for f in files if fnmatch.fnmatch(f, pat)]


def workdir(profile: str) -> Path:
    """The tree mutmut runs in: the root for ``all``, else a copy with a narrowed setup.cfg
    (refreshed from the worktree each run; mutmut's ``mutants/`` there is kept)."""
    if profile == "all":
        return ROOT
    work = ROOT / ".mutation" / profile
    work.mkdir(parents=True, exist_ok=True)
    for name in ("symconv", "proofs", "numerics", "tests", "pyproject.toml"):
        src, dst = ROOT / name, work / name
        if src.is_dir():
            skip = shutil.ignore_patterns("__pycache__", ".hypothesis")
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=skip)
        else:
            shutil.copy2(src, dst)
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    files, tests = PROFILES[profile]
    cfg.set("mutmut", "only_mutate", "\n" + "\n".join(files))
    cfg.set("mutmut", "pytest_add_cli_args_test_selection", "\n" + "\n".join(tests))
    with open(work / "setup.cfg", "w") as f:
        cfg.write(f)
    return work


def module_glob(path: str) -> str:
    """``symconv/_patterns.py`` → ``symconv._patterns.*`` (mutmut's mutant names)."""
    return path.removesuffix(".py").replace("/", ".") + ".*"


def load_results(paths: list[str], work: Path = ROOT) -> dict[str, dict[str, str]]:
    """``{path: {mutant: status}}`` from mutmut's ``.meta`` files."""
    out: dict[str, dict[str, str]] = {}
    for path in paths:
        meta = work / "mutants" / (path + ".meta")
        if not meta.exists():
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        out[path] = {k: STATUS.get(v, "suspicious") for k, v in codes.items()}
    return out


def run_mutmut(names: list[str], max_children: int, work: Path) -> int:
    cmd = ["nice", "-n", "10", sys.executable, "-m", "mutmut", "run", "--max-children",
           str(max_children), *names]  # fmt: skip
    # `python -m mutmut` warns that it re-executes its main module; the mutmut script does not
    script = Path(sys.executable).with_name("mutmut")
    if script.exists():
        cmd[3:6] = [str(script)]
    print("$", " ".join(cmd[:8]), "..." if len(cmd) > 8 else "", flush=True)
    return subprocess.call(cmd, cwd=work)


def report(results: dict[str, dict[str, str]], diff: bool, work: Path) -> tuple[int, int]:
    killed = total = 0
    print(f"\n{'module':34} {'killed':>7} {'total':>6}  score   other")
    for path, res in results.items():
        counts = Counter(res.values())
        k = sum(counts[s] for s in CAUGHT)
        killed, total = killed + k, total + len(res)
        other = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s not in CAUGHT)
        score = f"{100 * k / len(res):5.1f}%" if res else "   -  "
        print(f"{path:34} {k:7d} {len(res):6d} {score}  {other}")
    if total:
        print(f"{'all':34} {killed:7d} {total:6d} {100 * killed / total:5.1f}%")
    survivors = [m for res in results.values() for m, s in res.items() if s not in CAUGHT]
    print(f"\nnot killed ({len(survivors)}):")
    for name in survivors:
        status = next(res[name] for res in results.values() if name in res)
        print(f"  {name}  [{status}]")
        if diff:
            shown = subprocess.run(
                [sys.executable, "-m", "mutmut", "show", name],
                cwd=work, capture_output=True, text=True,
            ).stdout  # fmt: skip
            print("\n".join("      " + line for line in shown.splitlines()[1:]))
    return killed, total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="symconv", choices=[*PROFILES, "all"])
    ap.add_argument("--paths", nargs="+", help="source files to mutate (default: the profile's)")
    ap.add_argument("--report", action="store_true", help="print stored results, run nothing")
    ap.add_argument("--rerun-survivors", action="store_true", help="rerun the mutants not killed")
    ap.add_argument("--max-children", type=int, default=1, help="mutmut workers (default 1)")
    ap.add_argument("--diff", action="store_true", help="show each survivor's diff")
    ap.add_argument("--json", type=Path, help="also write {path: {mutant: status}} here")
    args = ap.parse_args(argv)

    known = configured_paths(args.profile)
    paths = args.paths or known
    unknown = [p for p in paths if p not in known]
    if unknown:
        ap.error(f"not in profile {args.profile}: {unknown}")
    work = workdir(args.profile) if not args.report else ROOT / ".mutation" / args.profile
    if args.profile == "all":
        work = ROOT
    if args.rerun_survivors:
        res = load_results(paths, work)
        names = [m for r in res.values() for m, s in r.items() if s not in CAUGHT]
        if names and run_mutmut(names, args.max_children, work) not in (0, 1):
            return 2
    elif not args.report:
        for path in paths:  # by module: a long run can stop and keep what it did
            if run_mutmut([module_glob(path)], args.max_children, work) not in (0, 1):
                return 2
    results = load_results(paths, work)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    _, total = report(results, args.diff, work)
    return 0 if total else 1


if __name__ == "__main__":
    sys.exit(main())
