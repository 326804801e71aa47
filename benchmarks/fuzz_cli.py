"""A fuzz campaign against the CLI: damaged inputs for every file a user gives, every command that reads it.

Usage: ``.venv/bin/python benchmarks/fuzz_cli.py [--inputs N] [--seed S] [--kind KIND ...]``

Each input is a valid seed (a pod, a workload, a KubeletConfiguration, an explicit topology, a cAdvisor
MachineInfo, a sysfs tree, a scenario, a fleet, kubelet state files, a node directory's files) damaged
once or a few times: a value replaced by a wrong type or a bad quantity ("1e400", "-1", "0x10",
"1.5.5Gi"), a key dropped, a map turned into a list, deep nesting, unicode, a truncated or empty file,
binary garbage, a garbage document appended. Every command that reads it runs in-process (typer's
CliRunner) and must: exit with a code of docs/exit-codes.md, print no traceback nor internal
exception text, name the file when it exits 1, and leave a node directory byte-for-byte unchanged
when it fails. It prints the number of inputs and runs, and one line per finding (a repro file is
written under ``--keep DIR``). ``tests/test_fuzz_cli.py`` runs the same checks on a few inputs.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIXTURES = ROOT / "tests" / "fixtures"
FLEET_EXAMPLES = ROOT / "src" / "topolet" / "fleet" / "examples"

ALLOWED_CODES = {0, 1, 2, 3}
# internal exception text that must never reach a user
INTERNAL = re.compile(
    r"Traceback|internal error|object has no attribute|NoneType|KeyError|IndexError|TypeError|"
    r"AttributeError|RecursionError|ZeroDivisionError|UnboundLocalError|not subscriptable|"
    r"unhashable type|object is not iterable|instance of _|\b_[A-Z][A-Za-z]+\b"
)

BAD_VALUES: list[Any] = [
    None,
    "abc",
    "",
    -1,
    0,
    "-1",
    "1e400",
    1e300,
    "1.5e400",
    "0x10",
    "1.5.5Gi",
    "1e19",
    10**30,
    -(10**30),
    1.5,
    True,
    [],
    {},
    [1],
    {"a": 1},
    [None],
    {"": None},
    "ü\u2603\u0000",
    "-0.001",
    "9223372036854775808",
    "18446744073709551616Ki",
    "NaN",
    "Inf",
    "100Mi",
    "3m",
]


def deep(n: int) -> Any:
    v: Any = 1
    for i in range(n):
        v = [v] if i % 2 else {"a": v}
    return v


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


def _set(doc: Any, path: tuple[Any, ...], value: Any, delete: bool = False) -> Any:
    if not path:
        return value
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


def mutate_doc(rng: random.Random, doc: Any) -> tuple[Any, str]:
    """One structural damage of a parsed document, and what it was."""
    doc = copy.deepcopy(doc)
    paths = list(_paths(doc))
    path = rng.choice(paths[1:] if len(paths) > 1 else paths)
    op = rng.random()
    where = "/".join(map(str, path)) or "<root>"
    if op < 0.6:
        value = rng.choice(BAD_VALUES)
        return _set(doc, path, copy.deepcopy(value)), f"{where} = {value!r}"
    if op < 0.7 and path:
        return _set(doc, path, None, delete=True), f"del {where}"
    if op < 0.8:
        return _set(doc, path, [copy.deepcopy(_get(doc, path))]), f"{where} wrapped in a list"
    if op < 0.9:
        return _set(doc, path, deep(rng.choice([50, 400, 3000]))), f"{where} deeply nested"
    return _set(doc, path, {"x": copy.deepcopy(_get(doc, path))}), f"{where} wrapped in a map"


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def dump(rng: random.Random, doc: Any, as_json: bool) -> str:
    try:
        if as_json:
            return json.dumps(doc, indent=rng.choice([None, 1]))
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    except (RecursionError, ValueError):
        return "[" * 3000 + "]" * 3000


def mutate_text(rng: random.Random, text: str) -> tuple[str, str]:
    """One textual damage of a serialised file, and what it was."""
    op = rng.randrange(9)
    if op == 0:
        return "", "empty file"
    if op == 1:
        cut = rng.randrange(max(1, len(text)))
        return text[:cut], f"truncated at {cut}"
    if op == 2:
        return rng.randbytes(rng.randrange(1, 200)).decode("latin-1"), "binary garbage"
    if op == 3:
        return text + "\n---\n: : [ {\n", "garbage document appended"
    if op == 4:
        return "[" * 3000 + "]" * 3000, "deep JSON"
    if op == 5:
        lines = text.splitlines()
        if lines:
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])  # a duplicated key (or list item)
        return "\n".join(lines) + "\n", "a line duplicated"
    if op == 6:
        return text + "\n- a\n", "a list item after a map"
    if op == 7:
        return "\ufeff" + text.replace(":", ":\t", 1), "BOM and a tab"
    return text.replace("\n", "\n  ", 1), "indentation broken"


def damaged(rng: random.Random, doc: Any, as_json: bool = False) -> tuple[str, str]:
    """A damaged serialisation of ``doc``: mostly structural damage, sometimes textual."""
    if rng.random() < 0.8:
        what = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            doc, w = mutate_doc(rng, doc)
            what.append(w)
            if "deeply nested" in w:
                break  # no further copy of a deep document
        return dump(rng, doc, as_json), "; ".join(what)
    return mutate_text(rng, dump(rng, doc, as_json))


@dataclass
class Finding:
    kind: str
    damage: str
    args: list[str]
    code: int
    problem: str
    output: str
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Campaign:
    work: Path
    keep: Path | None = None
    inputs: int = 0
    runs: int = 0
    findings: list[Finding] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    _base_node: Path | None = None

    # ---- running and checking
    def run(
        self, kind: str, damage: str, args: list[str], named: Path | None, node: Path | None = None
    ) -> tuple[int, str]:
        from typer.testing import CliRunner

        from topolet.cli.main import app

        before = snapshot(node) if node is not None else None
        result = CliRunner().invoke(app, args)
        self.runs += 1
        out = result.output + (getattr(result, "stderr", "") if False else "")
        code = result.exit_code
        problems = []
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            problems.append(f"exception {type(result.exception).__name__}: {result.exception}")
        if code not in ALLOWED_CODES:
            problems.append(f"exit code {code}")
        m = INTERNAL.search(out)
        if m:
            problems.append(f"internal text {m.group(0)!r}")
        not_found = "(NotFound)" in out  # an answer about an object (a drain removed the pod), not the file
        if code == 1 and named is not None and named.name not in out and str(named) not in out and not not_found:
            problems.append(f"exit 1 without naming {named.name}")
        # a restart the kubelet refuses (exit 2) is a real transition: the node becomes NotReady
        restart_refused = code == 2 and args[:2] == ["node", "restart"]
        if before is not None and node is not None and code != 0 and not restart_refused:
            after = snapshot(node)
            if after != before:
                changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
                problems.append(f"node directory changed by a failed command: {changed}")
        for p in problems:
            self.report(Finding(kind, damage, args, code, p, out[-800:]), named)
        return code, out

    def report(self, f: Finding, named: Path | None) -> None:
        key = f"{f.kind}|{' '.join(a for a in f.args[:2])}|{re.sub(r'[0-9]+', 'N', f.problem)[:80]}|{f.output[-120:]}"
        key = re.sub(r"/tmp/\S+", "", key)
        if key in self.seen:
            self.findings.append(f)
            return
        self.seen.add(key)
        self.findings.append(f)
        print(f"FINDING [{f.kind}] {' '.join(f.args)}\n  damage: {f.damage}\n  problem: {f.problem}")
        print("  " + f.output.strip().replace("\n", "\n  ")[-600:])
        if self.keep is not None and named is not None and named.exists():
            self.keep.mkdir(parents=True, exist_ok=True)
            dest = self.keep / f"{len(self.seen):04d}-{f.kind}-{named.name}"
            if named.is_dir():
                shutil.copytree(named, dest, dirs_exist_ok=True)
            else:
                shutil.copyfile(named, dest)

    # ---- a fresh node (copied from one made once)
    def node(self, name: str = "node") -> Path:
        if self._base_node is None:
            from topolet.nodedir import init_node

            base = self.work / "base-node"
            init_node(base, "preset:2-numa", str(EXAMPLES / "kubelet-config.yaml"))
            code, out = self.run(
                "setup", "", ["apply", "-f", str(EXAMPLES / "tightly-coupled-database.yaml"), "--node", str(base)], None
            )
            assert code == 0, out
            self._base_node = base
        d = self.work / name
        if d.exists():
            shutil.rmtree(d)
        shutil.copytree(self._base_node, d)
        return d


def snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file() and p.name != ".lock"}


# ---- seeds
def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def seed_pod() -> Any:
    return _yaml(EXAMPLES / "tightly-coupled-database.yaml")


def seed_workloads() -> list[Any]:
    return [d for d in yaml.safe_load_all((FLEET_EXAMPLES / "workload-mix.yaml").read_text()) if d]


def seed_config() -> Any:
    return _yaml(EXAMPLES / "kubelet-config.yaml")


def seed_topology() -> Any:
    from topolet.model.presets import get_preset
    from topolet.model.topology_spec import topology_to_spec

    return topology_to_spec(get_preset("2-numa"))


def seed_machine_info() -> Any:
    from topolet.io.cadvisor import machine_info_from_topology
    from topolet.model.presets import get_preset

    return machine_info_from_topology(get_preset("2-numa"))


def seed_scenario() -> Any:
    docs = [d for d in yaml.safe_load_all((ROOT / "conformance" / "options" / "misc.yaml").read_text()) if d]
    return docs[0]


def seed_fleet() -> Any:
    fleet = _yaml(FLEET_EXAMPLES / "fleet.yaml")
    for pool in fleet.get("pools", []):
        pool["count"] = 1
    return fleet


# ---- one input of each kind: write it, run the commands that read it
Case = Callable[[Campaign, random.Random], None]


def case_pod(c: Campaign, rng: random.Random) -> None:
    doc = seed_pod() if rng.random() < 0.6 else rng.choice(seed_workloads())
    as_json = rng.random() < 0.3
    text, damage = damaged(rng, doc, as_json)
    f = c.work / ("pod.json" if as_json else "pod.yaml")
    f.write_text(text)
    cmds = [
        ["predict", "-f", str(f)],
        ["predict", "-f", str(f), "-o", "json"],
        ["explain", "-f", str(f), "--no-suggest"],
        ["map", "-f", str(f), "--width", "100"],
        ["report", "-f", str(f), "--html", str(c.work / "r.html")],
    ]
    for args in rng.sample(cmds, 2):
        c.run("pod", damage, args, f)
    node = c.node()
    c.run("pod", damage, ["apply", "-f", str(f), "--node", str(node)], f, node)


def case_config(c: Campaign, rng: random.Random) -> None:
    text, damage = damaged(rng, seed_config())
    f = c.work / "kubelet.yaml"
    f.write_text(text)
    pod = str(EXAMPLES / "tightly-coupled-database.yaml")
    c.run("config", damage, ["predict", "-f", pod, "--config", str(f)], f)
    d = c.work / "cfg-node"
    if d.exists():
        shutil.rmtree(d)
    code, _ = c.run("config", damage, ["node", "init", str(d), "--config", str(f)], f)
    if code == 0:
        for args in (["describe", "node"], ["get", "nodes", "-o", "yaml"], ["apply", "-f", pod], ["get", "pods"]):
            c.run("config", damage, [*args, "--node", str(d)], None)
    # a node reconfigured with the damaged configuration: refused, the node unchanged
    node = c.node()
    c.run("config", damage, ["node", "reconfigure", "--config", str(f), "--node", str(node)], f, node)


def case_topology(c: Campaign, rng: random.Random) -> None:
    if rng.random() < 0.5:
        text, damage = damaged(rng, seed_topology(), rng.random() < 0.3)
        f = c.work / "topology.yaml"
    else:
        text, damage = damaged(rng, seed_machine_info(), True)
        f = c.work / "machine-info.json"
    f.write_text(text)
    pod = str(EXAMPLES / "tightly-coupled-database.yaml")
    c.run("topology", damage, ["predict", "-f", pod, "--topology", str(f)], f)
    c.run("topology", damage, ["map", "--topology", str(f), "--width", "100"], f)
    d = c.work / "topo-node"
    if d.exists():
        shutil.rmtree(d)
    code, _ = c.run("topology", damage, ["node", "init", str(d), "--topology", str(f)], f)
    if code == 0:
        c.run("topology", damage, ["describe", "node", "--node", str(d)], None)


_SYSFS: Path | None = None


def _sysfs_seed(c: Campaign) -> Path:
    global _SYSFS
    if _SYSFS is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from test_sysfs import write_sysfs  # type: ignore[import-not-found]
        from topolet.model.presets import get_preset

        _SYSFS = c.work / "sysfs-seed"
        write_sysfs(_SYSFS, get_preset("2-numa"))
    return _SYSFS


def case_sysfs(c: Campaign, rng: random.Random) -> None:
    seed = _sysfs_seed(c)
    root = c.work / "sysfs"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(seed, root)
    files = [p for p in root.rglob("*") if p.is_file()]
    what = []
    for _ in range(rng.choice([1, 2, 4])):
        p = rng.choice(files)
        op = rng.randrange(5)
        if not p.exists():
            continue
        if op == 0:
            p.unlink()
            what.append(f"rm {p.relative_to(root)}")
        else:
            bad = rng.choice(
                [
                    "",
                    "abc\n",
                    "-1\n",
                    "0-\n",
                    "5-2\n",
                    "ffffffff,zz\n",
                    "99999999999999999999\n",
                    "\x00\xff",
                    "1e400\n",
                    "0x10\n",
                ]
            )
            p.write_text(bad, encoding="latin-1")
            what.append(f"{p.relative_to(root)} = {bad!r}")
    damage = "; ".join(what)
    pod = str(EXAMPLES / "tightly-coupled-database.yaml")
    c.run("sysfs", damage, ["predict", "-f", pod, "--topology", f"sysfs:{root}"], root)
    c.run("sysfs", damage, ["map", "--topology", f"sysfs:{root}", "--width", "100"], root)


def case_scenario(c: Campaign, rng: random.Random) -> None:
    text, damage = damaged(rng, seed_scenario())
    f = c.work / "scenario.yaml"
    f.write_text(text)
    c.run("scenario", damage, ["test", str(f)], f)


def case_fleet(c: Campaign, rng: random.Random) -> None:
    fleet_dir = c.work / "fleet"
    fleet_dir.mkdir(exist_ok=True)
    shutil.copyfile(FLEET_EXAMPLES / "kubelet-pod-scope.yaml", fleet_dir / "kubelet-pod-scope.yaml")
    workload = fleet_dir / "workload.yaml"
    wl = seed_workloads()[:2]
    if rng.random() < 0.5:
        text, damage = damaged(rng, seed_fleet())
        f = fleet_dir / "fleet.yaml"
        f.write_text(text)
        workload.write_text(yaml.safe_dump_all(wl))
    else:
        f = workload
        i = rng.randrange(len(wl))
        text, damage = damaged(rng, wl[i])
        workload.write_text(yaml.safe_dump_all(wl[:i]) + "---\n" + text)
        (fleet_dir / "fleet.yaml").write_text(yaml.safe_dump(seed_fleet()))
    args = [
        "fleet",
        "run",
        "--fleet",
        str(fleet_dir / "fleet.yaml"),
        "-f",
        str(workload),
        "--no-progress",
        "--seed",
        "1",
    ]
    c.run("fleet", damage, args, f)


def _state_seeds() -> dict[str, Any]:
    cp = FIXTURES / "checkpoints"
    return {p.name: json.loads(p.read_text()) for p in sorted(cp.iterdir()) if p.name.startswith(("cpu", "memory"))}


def case_state(c: Campaign, rng: random.Random) -> None:
    seeds = _state_seeds()
    name = rng.choice(sorted(seeds))
    text, damage = damaged(rng, seeds[name], True)
    f = c.work / name.split(".")[0]
    f.write_text(text)
    c.run("state", damage, ["state", "inspect", str(f)], f)
    c.run("state", damage, ["state", "inspect", str(f), "--topology", "preset:2-numa", "-o", "json"], f)


NODE_FILES = [
    "pods.json",
    "objects.json",
    "node.json",
    "cpu_manager_state",
    "memory_manager_state",
    "topology.yaml",
    "kubelet-config.yaml",
]


def case_nodedir(c: Campaign, rng: random.Random) -> None:
    node = c.node("damaged-node")
    name = rng.choice(NODE_FILES)
    f = node / name
    raw = f.read_text()
    is_json = not name.endswith(".yaml")
    doc = json.loads(raw) if is_json else yaml.safe_load(raw)
    text, damage = damaged(rng, doc, is_json)
    f.write_text(text)
    pod = str(EXAMPLES / "tightly-coupled-database.yaml")
    cmds = [
        ["get", "pods"],
        ["get", "pods", "-o", "yaml"],
        ["get", "nodes", "-o", "yaml"],
        ["describe", "node"],
        ["describe", "pod", "tightly-coupled-database"],
        ["exec", "tightly-coupled-database", "-c", "database", "--", "cat", "/proc/self/status"],
        ["apply", "-f", pod],
        ["delete", "pod", "tightly-coupled-database"],
        ["node", "restart"],
        ["node", "reconfigure", "--config", str(EXAMPLES / "kubelet-config.yaml")],
        ["node", "drain"],
        ["explain", "-f", pod, "--no-suggest"],
        ["map", "--width", "100"],
        ["report", "--html", str(c.work / "n.html")],
        ["state", "inspect", "--node", str(node)],
    ]
    chosen = rng.sample(cmds, 5)
    chosen.sort(key=lambda a: a[0] in ("delete", "node"))  # the ones that remove the pod last
    for args in chosen:
        if args[0] == "state":
            full = args
        elif args[0] == "node":
            full = [*args, "--node", str(node)]
        else:  # --node before the command's arguments (exec's end after --)
            full = [args[0], "--node", str(node), *args[1:]]
        c.run("nodedir", f"{name}: {damage}", full, f, node)


_CAPTURE: Path | None = None


def _capture_seed(c: Campaign) -> Path:
    """A bundle of `topolet node capture` of a 2-NUMA host whose kubelet runs the seed pod."""
    global _CAPTURE
    if _CAPTURE is None:
        from typer.testing import CliRunner

        from topolet.cli.main import app

        root = c.work / "capture-root"
        shutil.copytree(_sysfs_seed(c), root)
        node = c.work / "capture-node"
        cfg = str(EXAMPLES / "kubelet-config.yaml")
        for args in (
            ["node", "init", str(node), "--topology", "preset:2-numa", "--config", cfg],
            ["apply", "-f", str(EXAMPLES / "tightly-coupled-database.yaml"), "--node", str(node)],
        ):
            r = CliRunner().invoke(app, args)
            assert r.exit_code == 0, r.output
        kubelet = root / "var/lib/kubelet"
        kubelet.mkdir(parents=True, exist_ok=True)
        for name in ("cpu_manager_state", "memory_manager_state"):
            shutil.copy(node / name, kubelet / name)
        shutil.copy(cfg, kubelet / "config.yaml")
        _CAPTURE = c.work / "capture-seed.tgz"
        r = CliRunner().invoke(app, ["node", "capture", "--root", str(root), "-o", str(_CAPTURE), "--no-apis"])
        assert r.exit_code == 0, r.output
    return _CAPTURE


def case_capture(c: Campaign, rng: random.Random) -> None:
    """A capture bundle damaged inside (a member's content, a member removed or added) or as bytes."""
    import io
    import tarfile

    seed = _capture_seed(c)
    out = c.work / "capture.tgz"
    what = []
    if rng.random() < 0.15:
        data = bytearray(seed.read_bytes())
        if rng.random() < 0.5:
            cut = rng.randrange(len(data))
            data = data[:cut]
            what.append(f"bundle truncated at {cut} bytes")
        else:
            for _ in range(rng.choice([1, 4, 16])):
                i = rng.randrange(len(data))
                data[i] ^= 1 << rng.randrange(8)
            what.append("bits flipped in the bundle")
        out.write_bytes(bytes(data))
    else:
        with tarfile.open(seed, "r:gz") as tar:
            members = {i.name: tar.extractfile(i).read() for i in tar if i.isfile()}  # type: ignore[union-attr]
        for _ in range(rng.choice([1, 1, 2, 3])):
            name = rng.choice(sorted(members))
            op = rng.random()
            if op < 0.1:
                del members[name]
                what.append(f"rm {name}")
                continue
            if op < 0.15:
                members[name.rsplit("/", 1)[0] + "/../../etc/passwd"] = b"x"
                what.append("a member outside the bundle")
                continue
            text = members[name].decode("utf-8", "replace")
            if name.endswith(".json") or name.endswith("_state"):
                try:
                    doc = json.loads(text)
                except ValueError:
                    doc = None
                if doc is not None and rng.random() < 0.8:
                    new, w = damaged(rng, doc, as_json=True)
                else:
                    new, w = mutate_text(rng, text)
            elif name.endswith(".yaml"):
                new, w = damaged(rng, yaml.safe_load(text)) if rng.random() < 0.8 else mutate_text(rng, text)
            else:
                new = rng.choice(["", "abc\n", "-1\n", "0-\n", "5-2\n", "99999999999999999999\n", "\x00\xff"])
                w = repr(new)
            members[name] = new.encode("utf-8", "surrogateescape") if isinstance(new, str) else new
            what.append(f"{name}: {w}")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        out.write_bytes(buf.getvalue())
    damage = "; ".join(what)
    c.run("capture", damage, ["verify", "--capture", str(out)], out)
    node = c.work / "node-from-capture"
    if node.exists():
        shutil.rmtree(node)
    c.run("capture", damage, ["node", "init", str(node), "--from-capture", str(out)], out)


CASES: dict[str, Case] = {
    "pod": case_pod,
    "config": case_config,
    "topology": case_topology,
    "sysfs": case_sysfs,
    "scenario": case_scenario,
    "fleet": case_fleet,
    "state": case_state,
    "nodedir": case_nodedir,
    "capture": case_capture,
}


def campaign(
    n: int, seed: int, kinds: list[str], keep: Path | None, work: Path, seconds: float | None = None
) -> Campaign:
    import time

    c = Campaign(work=work, keep=keep)
    rng = random.Random(seed)
    stop = None if seconds is None else time.monotonic() + seconds
    for i in range(n):
        if stop is not None and time.monotonic() > stop:
            break
        kind = kinds[i % len(kinds)]
        c.inputs += 1
        CASES[kind](c, random.Random(rng.random()))
    return c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kind", action="append", choices=sorted(CASES))
    ap.add_argument("--keep", type=Path)
    ap.add_argument("--seconds", type=float, help="stop after this long (the summary is printed)")
    a = ap.parse_args()
    import os

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_STATE_HOME"] = str(Path(tmp) / "state")
        os.environ.pop("TOPOLET_NODE", None)
        c = campaign(a.inputs, a.seed, a.kind or sorted(CASES), a.keep, Path(tmp), a.seconds)
    print(f"{c.inputs} inputs, {c.runs} runs: {len(c.findings)} findings ({len(c.seen)} distinct)")
    return 1 if c.findings else 0


if __name__ == "__main__":
    sys.exit(main())
