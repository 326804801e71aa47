"""Issue 12: a node directory damaged by hand, interrupted writes, write errors after the commit point,
stale checkpoint entries, the per-pod layout (one-pod changes cost one pod) and the old layout."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from paths import SEED_CONFIG, SEED_POD
from topolet.cli.main import app
from topolet.io import statefile
from topolet.io.checkpoint import load_cpu_checkpoint
from topolet.nodedir import init_node, load_node_dir_readonly, open_node
from topolet.nodedir.errors import NodeDirError, NodeExistsError, NodeStartError
from topolet.nodedir.store import CPU_STATE_FILE, MEMORY_STATE_FILE, NODE_FILE, OBJECTS_FILE, PODS_FILE

# commands that read a node directory, as a user types them (a pod name where one is needed)
NODE_COMMANDS: list[list[str]] = [
    ["get", "pods"],
    ["get", "pods", "-o", "wide"],
    ["get", "pods", "-o", "json"],
    ["get", "nodes", "-o", "yaml"],
    ["get", "namespaces"],
    ["get", "resourcequotas", "-A"],
    ["describe", "node"],
    ["describe", "pod", "tightly-coupled-database"],
    ["apply", "-f", str(SEED_POD)],
    ["delete", "pod", "tightly-coupled-database"],
    ["exec", "tightly-coupled-database", "--", "cat", "/proc/self/status"],
    ["node", "drain"],
    ["explain", "-f", str(SEED_POD)],
    ["map"],
    ["state", "inspect"],
]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TOPOLET_NODE", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def node(tmp_path: Path) -> Path:
    d = tmp_path / "node"
    init_node(d, "preset:2-numa", str(SEED_CONFIG))
    r = cli("apply", "-f", str(SEED_POD), "--node", str(d))
    assert r.exit_code == 0, r.output
    return d


def _pod_file(d: Path) -> Path:
    files = list((d / "pods").glob("*.json"))
    assert len(files) == 1
    return files[0]


def _assert_clear(r: Any, *needles: str) -> None:
    text = r.stdout + r.stderr
    assert r.exit_code == 1, (r.exit_code, text, r.exception)
    assert "Traceback" not in text and "internal error" not in text, text
    assert "TypeError" not in text and "AttributeError" not in text and "RecursionError" not in text, text
    for n in needles:
        assert n in text, (n, text)


# --------------------------------------------------------------------------- item 1: deep nesting


@pytest.mark.parametrize("target", [PODS_FILE, OBJECTS_FILE, NODE_FILE, "pod file"])
def test_deeply_nested_json_in_the_node_directory_is_a_clear_error(node: Path, target: str) -> None:
    p = _pod_file(node) if target == "pod file" else node / target
    p.write_text("[" * 3000 + "]" * 3000)
    for args in ([*NODE_COMMANDS[0]], ["describe", "node"], ["apply", "-f", str(SEED_POD)], ["get", "pods", "-A"]):
        r = cli("--node", str(node), *args)  # item 12: the global option first
        if target == "pod file" and args[:2] == ["apply", "-f"]:
            # re-applying the same pod reads that pod: the damage is reported
            _assert_clear(r, str(p), "nested too deeply")
        elif target == "pod file" and args == ["describe", "node"]:
            _assert_clear(r, str(p), "nested too deeply")
        else:
            _assert_clear(r, str(p), "nested too deeply")


# --------------------------------------------------------------------------- item 3: hand-damaged files


def _damage(node: Path, what: str) -> tuple[Path, str]:
    if what == "namespaces":
        p = node / OBJECTS_FILE
        doc = json.loads(p.read_text())
        doc["namespaces"] = 5
        p.write_text(json.dumps(doc))
        return p, "namespaces: must be a list"
    if what == "resourceQuotas":
        p = node / OBJECTS_FILE
        doc = json.loads(p.read_text())
        doc["resourceQuotas"] = [{"object": "x"}]
        p.write_text(json.dumps(doc))
        return p, "resourceQuotas[0]: object: must be a mapping"
    if what == "namespace-item":
        p = node / OBJECTS_FILE
        doc = json.loads(p.read_text())
        doc["namespaces"] = [{"name": 7}]
        p.write_text(json.dumps(doc))
        return p, "namespaces[0]: name must be a non-empty string"
    p = _pod_file(node)
    entry = json.loads(p.read_text())
    if what == "admission":
        entry["admission"] = "x"
        field = "admission must be a mapping"
    elif what == "status":
        entry["object"]["status"] = "x"
        field = "object.status must be a mapping"
    elif what == "metadata":
        entry["object"]["metadata"] = ["x"]
        field = "object.metadata must be a mapping"
    elif what == "cpu":
        entry["object"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = {"a": 1}
        field = "object.spec.containers[0].resources.limits.cpu"
    else:
        raise AssertionError(what)
    p.write_text(json.dumps(entry))
    return p, field


@pytest.mark.parametrize("what", ["namespaces", "resourceQuotas", "namespace-item"])
def test_damaged_objects_json_every_command(node: Path, what: str) -> None:
    p, field = _damage(node, what)
    for args in NODE_COMMANDS:
        r = cli("--node", str(node), *args)  # item 12: the global option first
        _assert_clear(r, str(p), field)


@pytest.mark.parametrize("what", ["admission", "status", "metadata", "cpu"])
def test_damaged_pod_entry_every_command_that_reads_it(node: Path, what: str) -> None:
    p, field = _damage(node, what)
    for args in NODE_COMMANDS:
        r = cli("--node", str(node), *args)  # item 12: the global option first
        if r.exit_code == 0:
            # only commands that do not need this pod succeed (e.g. `get namespaces`)
            assert args[0] in ("get", "state") and args[1] in ("namespaces", "resourcequotas", "nodes", "inspect"), (
                args,
                r.output,
            )
            continue
        _assert_clear(r, str(p), field)


@pytest.mark.parametrize("what", ["admission", "status"])
def test_damaged_entry_in_an_old_layout_pods_json(node: Path, what: str) -> None:
    pf = _pod_file(node)
    entry = json.loads(pf.read_text())
    if what == "admission":
        entry["admission"] = "x"
    else:
        entry["object"]["status"] = "x"
    (node / PODS_FILE).write_text(json.dumps({"format": "topolet.dev/node/v1", "items": [entry]}))
    for args in NODE_COMMANDS:
        r = cli("--node", str(node), *args)  # item 12: the global option first
        if r.exit_code == 0:
            assert args[1] in ("namespaces", "resourcequotas", "nodes", "inspect"), (args, r.output)
            continue
        _assert_clear(r, str(node / PODS_FILE), "items[0]")


def test_pods_json_index_damage(node: Path) -> None:
    p = node / PODS_FILE
    doc = json.loads(p.read_text())
    for bad, field in (
        ("x", "index must be a list"),
        ([[1, "default", "a"]], "index[0]: must be [sequence, namespace, name, uid, admitted]"),
        ([[1, "default", "a", "../../etc", True]], "metadata.uid must be a UID"),
        ([[1, "default", "a", "u1", "yes"]], "index[0]: admitted must be true or false"),
    ):
        p.write_text(json.dumps({**doc, "index": bad}))
        _assert_clear(cli("get", "pods", "--node", str(node)), str(p), field)


# --------------------------------------------------------------------------- item 4: interrupted node init


class _Killed(BaseException):
    """A SIGKILL at this point: nothing after it runs (no clean-up)."""


def _kill_at(monkeypatch: pytest.MonkeyPatch, n: int) -> list[int]:
    """Raise _Killed at the n-th write/rename/fsync/mkdir of the state layer."""
    count = [0]

    def tick() -> None:
        count[0] += 1
        if count[0] == n:
            raise _Killed

    real_write, real_replace, real_fsync_dir = statefile._write_synced, os.replace, statefile.fsync_dir

    def write(path: Path, data: bytes, mode: int = 0o644) -> None:
        tick()
        real_write(path, data, mode)
        tick()

    def replace(a: Any, b: Any) -> None:
        tick()
        real_replace(a, b)

    def fsync_dir(d: Any) -> None:
        tick()
        real_fsync_dir(d)

    monkeypatch.setattr(statefile, "_write_synced", write)
    monkeypatch.setattr(statefile.os, "replace", replace)
    monkeypatch.setattr(statefile, "fsync_dir", fsync_dir)
    return count


def test_node_init_killed_at_every_point_can_be_taken_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    n = 1
    while True:
        d = tmp_path / f"n{n}"
        with monkeypatch.context() as m:
            count = _kill_at(m, n)
            try:
                init_node(d, "preset:2-numa", str(SEED_CONFIG))
                finished = True
            except _Killed:
                finished = False
        if finished:
            assert count[0] < n
            break
        # without --force: either the node is complete (a committed journal is finished) or it is taken over
        try:
            init_node(d, "preset:2-numa", str(SEED_CONFIG))
        except NodeExistsError as e:
            assert "already exists" in e.message or "now exists" in e.message, e.message
            assert "not a topolet node directory" not in e.message
        # with --force: always
        res = init_node(d, "preset:2-numa", str(SEED_CONFIG), force=True)
        assert res.nd.path == d
        nd = load_node_dir_readonly(d)
        assert len(nd.pods) == 0 and nd.node is not None
        assert not list(d.glob(".journal*")) and not list(d.glob(".*.tmp.*"))
        n += 1
    assert n > 10  # every write point of node init was tried


def test_complete_node_with_a_pending_journal_is_not_foreign(node: Path) -> None:
    (node / ".journal.tmp").mkdir()
    r = cli("node", "init", str(node))
    assert r.exit_code == 1 and "already exists" in r.stderr and "not a topolet node directory" not in r.stderr
    r = cli("node", "init", str(node), "--force")
    assert r.exit_code == 0, r.output
    assert "node/topolet-node replaced" in r.stdout


def test_foreign_directory_still_refused(tmp_path: Path) -> None:
    d = tmp_path / "mine"
    d.mkdir()
    (d / "notes.txt").write_text("x")
    r = cli("node", "init", str(d), "--force")
    assert r.exit_code == 1 and "is not empty and is not a topolet node directory (it holds notes.txt)" in r.stderr


def test_concurrent_inits_loser_is_told(tmp_path: Path) -> None:
    import subprocess
    import sys

    d = tmp_path / "n"
    run = "import sys; from topolet.cli.main import main; sys.argv[0] = 'topolet'; main()"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", run, "node", "init", str(d)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 1, 1], outs
    for p, (_out, err) in zip(procs, outs, strict=True):
        if p.returncode:
            assert "exists in" in err and "not a topolet node directory" not in err, err
            assert "Traceback" not in err
    assert load_node_dir_readonly(d).node is not None


# --------------------------------------------------------------------------- item 5: errors after the commit point


def _eio_on(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    real_replace = os.replace

    def replace(a: Any, b: Any) -> None:
        if when == "commit-rename-after" and Path(b).name == ".journal":
            real_replace(a, b)  # the rename happened, then the call reports an error
            raise OSError(errno.EIO, "Input/output error")
        if when == "commit-rename-before" and Path(b).name == ".journal":
            raise OSError(errno.EIO, "Input/output error")
        if when == "move" and Path(a).parent.name == ".journal":
            raise OSError(errno.EIO, "Input/output error")
        real_replace(a, b)

    monkeypatch.setattr(statefile.os, "replace", replace)


@pytest.mark.parametrize("when", ["commit-rename-after", "move"])
def test_error_after_the_commit_point_is_success_with_a_warning(
    node: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    pod = tmp_path / "p.yaml"
    pod.write_text(Path(SEED_POD).read_text().replace("tightly-coupled-database", "second"))
    with monkeypatch.context() as m:
        _eio_on(m, when)
        r = cli("apply", "-f", str(pod), "--node", str(node))
    assert r.exit_code == 0, (r.stdout, r.stderr)
    assert "pod/second created" in r.stdout
    assert "failed" not in r.stdout
    if when == "move":  # the files could not be moved into place: said, and finished by the next command
        assert "Warning: the change is committed" in r.stderr
        assert (node / ".journal").is_dir()
    assert r.stderr.count("[Errno 5]") <= 1
    assert "error:" not in r.stderr  # a warning, not an error
    nd = load_node_dir_readonly(node)  # the next command finishes the write
    assert "default/second" in nd.pods and nd.pods["default/second"].admitted
    assert not list(node.glob(".journal*"))


def test_error_before_the_commit_point_changes_nothing(
    node: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {p.name: p.read_bytes() for p in node.iterdir() if p.is_file() and p.name != ".lock"}
    pod = tmp_path / "p.yaml"
    pod.write_text(Path(SEED_POD).read_text().replace("tightly-coupled-database", "second"))
    with monkeypatch.context() as m:
        _eio_on(m, "commit-rename-before")
        r = cli("apply", "-f", str(pod), "--node", str(node))
    assert r.exit_code == 1
    assert "nothing was changed" in r.stderr and r.stderr.count("[Errno 5]") == 1, r.stderr
    after = {p.name: p.read_bytes() for p in node.iterdir() if p.is_file() and p.name != ".lock"}
    assert after == before
    assert "default/second" not in load_node_dir_readonly(node).pods


# --------------------------------------------------------------------------- item 7: checkpoint refusals name the file


def test_checkpoint_refusal_names_the_file(node: Path) -> None:
    r = cli("delete", "pod", "tightly-coupled-database", "--node", str(node))
    assert r.exit_code == 0
    from topolet.io.checkpoint import dump_cpu_checkpoint

    # a valid checkpoint (checksum and all) whose shared pool lacks the reserved CPU 0
    p = node / CPU_STATE_FILE
    loaded = load_cpu_checkpoint(p.read_bytes())
    loaded.state.default_cpuset = 1 << 64
    p.write_bytes(dump_cpu_checkpoint(loaded.state, loaded.version))
    with pytest.raises(NodeStartError) as ei, open_node(node, write=False) as nd:
        nd.kubelet()
    assert ei.value.message.startswith(f"{p}: start cpu manager error: "), ei.value.message
    r = cli("apply", "-f", str(SEED_POD), "--node", str(node))
    assert r.exit_code == 2 and f"{p}: start cpu manager error" in r.stderr


# --------------------------------------------------------------------------- item 8: stale checkpoint entries


def test_stale_entry_is_removed_from_the_file_as_the_kubelet_does(node: Path) -> None:
    uid = next(iter(load_node_dir_readonly(node).pod_names_by_uid()))
    # the API side forgets the pod (its index row and file), the checkpoints still hold it
    (node / "pods" / f"{uid}.json").unlink()
    doc = json.loads((node / PODS_FILE).read_text())
    doc["index"] = []
    (node / PODS_FILE).write_text(json.dumps(doc))
    assert uid in (node / CPU_STATE_FILE).read_text()
    r = cli("describe", "node", "--node", str(node))  # a read-only command that starts the kubelet
    assert r.exit_code == 0, r.output
    assert f"({uid})" in r.stderr and "removed" in r.stderr and "rewritten" in r.stderr
    assert uid not in (node / CPU_STATE_FILE).read_text()
    assert uid not in (node / MEMORY_STATE_FILE).read_text()
    r = cli("describe", "node", "--node", str(node))
    assert "removeStaleState" not in r.stderr  # said once, done once


def test_stale_entry_on_a_read_only_directory_says_it_stays(node: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uid = next(iter(load_node_dir_readonly(node).pod_names_by_uid()))
    (node / "pods" / f"{uid}.json").unlink()
    doc = json.loads((node / PODS_FILE).read_text())
    doc["index"] = []
    (node / PODS_FILE).write_text(json.dumps(doc))

    def refuse(*_a: Any, **_k: Any) -> list[str]:
        raise statefile.StateFileError(errno.EROFS, f"{node}: cannot write state: [Errno 30] Read-only file system")

    monkeypatch.setattr("topolet.nodedir.store.commit_files", refuse)
    r = cli("describe", "node", "--node", str(node))
    assert r.exit_code == 0
    assert "could not be rewritten" in r.stderr and "Read-only file system" in r.stderr
    assert uid in (node / CPU_STATE_FILE).read_text()


# --------------------------------------------------------------------------- item 11: the per-pod layout


def test_one_pod_change_writes_one_pod(node: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        pod = tmp_path / f"p{i}.yaml"
        pod.write_text(Path(SEED_POD).read_text().replace("tightly-coupled-database", f"p{i}"))
        assert cli("apply", "-f", str(pod), "--node", str(node)).exit_code == 0
    written: list[list[str]] = []
    real = statefile.commit_files

    def spy(d: Any, files: Any) -> list[str]:
        written.append(sorted(files))
        return real(d, files)

    monkeypatch.setattr("topolet.nodedir.store.commit_files", spy)
    read: list[str] = []
    real_read = Path.read_bytes

    def read_spy(self: Path) -> bytes:
        read.append(self.name)
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_spy)
    pod = tmp_path / "new.yaml"
    pod.write_text(Path(SEED_POD).read_text().replace("tightly-coupled-database", "new"))
    r = cli("apply", "-f", str(pod), "--node", str(node))
    assert r.exit_code == 0, r.output
    # one commit: the index, the new pod's file, the checkpoints, node.json -- not the other pods
    assert len(written) == 1
    pod_files = [f for f in written[0] if f.startswith("pods/")]
    assert len(pod_files) == 1 and PODS_FILE in written[0] and CPU_STATE_FILE in written[0]
    written.clear()
    r = cli("delete", "pod", "p3", "--node", str(node))
    assert r.exit_code == 0
    assert len([f for f in written[0] if f.startswith("pods/")]) == 1  # the deleted pod's file
    # a command that does not start the kubelet reads only the pods it shows
    read.clear()
    r = cli("get", "pod", "p1", "--node", str(node))
    assert r.exit_code == 0 and "p1" in r.stdout
    assert [n for n in read if n.endswith(".json") and n not in (NODE_FILE, OBJECTS_FILE, PODS_FILE)] == [
        f"{load_node_dir_readonly(node).pods['default/p1'].pod.uid}.json"
    ]


def test_old_layout_loads_and_is_migrated(node: Path) -> None:
    pf = _pod_file(node)
    entry = json.loads(pf.read_text())
    pf.unlink()
    (node / "pods").rmdir()
    (node / PODS_FILE).write_text(json.dumps({"format": "topolet.dev/node/v1", "items": [entry]}, indent=1))
    r = cli("get", "pods", "--node", str(node))
    assert r.exit_code == 0 and "tightly-coupled-database" in r.stdout
    assert not (node / "pods").exists()  # reading does not rewrite
    r = cli("apply", "-f", str(SEED_POD), "--node", str(node))  # unchanged: nothing written
    assert r.exit_code == 0 and "unchanged" in r.stdout and not (node / "pods").exists()
    pod2 = node.parent / "p2.yaml"
    pod2.write_text(Path(SEED_POD).read_text().replace("tightly-coupled-database", "p2"))
    r = cli("apply", "-f", str(pod2), "--node", str(node))
    assert r.exit_code == 0, r.output
    doc = json.loads((node / PODS_FILE).read_text())
    assert doc["layout"] == "pod-files" and len(doc["index"]) == 2 and "items" not in doc
    assert len(list((node / "pods").glob("*.json"))) == 2
    nd = load_node_dir_readonly(node)
    assert [sp.pod.name for sp in nd.pods.values()] == ["tightly-coupled-database", "p2"]


def test_apply_killed_at_every_point_leaves_a_consistent_node(
    node: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pod = tmp_path / "p.yaml"
    pod.write_text(Path(SEED_POD).read_text().replace("tightly-coupled-database", "second"))
    n = 1
    while True:
        with monkeypatch.context() as m:
            _kill_at(m, n)
            try:
                with open_node(node, write=True) as nd:
                    from topolet.io.inputs import load_objects
                    from topolet.nodedir import api

                    api.apply(nd, api.plan_objects(load_objects([str(pod)]), None, nd.kubelet().gates))
                    nd.save()
                done = True
            except _Killed:
                done = False
        nd2 = load_node_dir_readonly(node)  # recovers the journal
        names = sorted(sp.pod.name for sp in nd2.pods.values())
        assert names in (["tightly-coupled-database"], ["second", "tightly-coupled-database"])
        files = sorted(p.stem for p in (node / "pods").glob("*.json"))
        assert files == sorted(r.uid for r in nd2.pods.rows())
        st = load_cpu_checkpoint((node / CPU_STATE_FILE).read_bytes()).state
        assert set(st.pod_assignments) == {r.uid for r in nd2.pods.rows() if r.admitted}
        if names == ["second", "tightly-coupled-database"]:
            assert cli("delete", "pod", "second", "--node", str(node)).exit_code == 0
        if done:
            break
        n += 1
    assert n > 5


def test_node_dir_errors_are_node_dir_errors(tmp_path: Path) -> None:
    d = tmp_path / "x"
    with pytest.raises(NodeDirError):
        load_node_dir_readonly(d)
