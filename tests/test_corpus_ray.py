"""The Ray engine on a real local cluster: every document once, the same bytes as the local engine,
and a worker killed mid-run has its document retried.

Skipped where Ray is not installed (``pip install 'bitext-toolkit[ray]'``); .ci/run installs it.
"""

from __future__ import annotations

import json
import os
import signal
import threading

import pytest

from test_corpus import corpus_job, data_files, make_corpus
from toolkit.corpus.engines import EngineSettings
from toolkit.corpus.runner import CorpusProgress, run_corpus

ray = pytest.importorskip("ray", reason="the ray engine needs Ray: pip install 'bitext-toolkit[ray]'")


@pytest.fixture(scope="module")
def cluster():
    """A two-node cluster on this machine (one CPU each), as ray.cluster_utils builds for tests."""
    from ray.cluster_utils import Cluster

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    ray.init(address=nodes.address, include_dashboard=False, log_to_driver=False)
    yield nodes
    ray.shutdown()
    nodes.shutdown()


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory):
    """The corpus run by the local engine: what the Ray engine must write byte for byte."""
    folder = tmp_path_factory.mktemp("reference")
    manifest = make_corpus(folder / "in", documents=6, repeat=4)
    out = folder / "out"
    result = run_corpus(corpus_job(manifest, out))
    assert [r.status for r in result.records] == ["done"] * 6
    return manifest, out


def test_ray_writes_what_the_local_engine_writes(cluster, local_reference, tmp_path):
    manifest, reference = local_reference
    out = tmp_path / "out"
    result = run_corpus(corpus_job(manifest, out, engine=EngineSettings("ray")))
    assert [r.status for r in result.records] == ["done"] * 6
    nodes = {r.details["worker"]["align"].rsplit("-", 2)[1] for r in result.records}  # the actors' pids
    assert len(nodes) == 2  # both actors (one per node) took documents
    assert data_files(out) == data_files(reference)


def test_a_worker_killed_mid_run_has_its_document_retried(cluster, local_reference, tmp_path):
    manifest, reference = local_reference
    out = tmp_path / "out"
    killed: list[int] = []
    alive: set[int] = set()

    def kill_a_busy_worker(record) -> None:
        # After the first document, the other actor is still working on one: kill it a moment later.
        if killed:
            return
        mine = record.details["worker"]["align_pid"]
        alive.update(_actor_pids())
        busy = [pid for pid in alive if pid != mine]
        if busy:
            killed.append(busy[0])
            threading.Timer(0.3, os.kill, (busy[0], signal.SIGKILL)).start()

    result = run_corpus(corpus_job(manifest, out, engine=EngineSettings("ray")), CorpusProgress(done=kill_a_busy_worker))
    assert killed, "no busy worker was found to kill"
    assert [r.status for r in result.records] == ["done"] * 6
    log = (out / "run.log").read_text(encoding="utf-8").splitlines()
    assert sorted(line.split("\t")[1] for line in log) == [f"d{i}" for i in range(6)]  # each finished exactly once
    finishers = {r.details["worker"]["align_pid"] for r in result.records}
    assert finishers - alive, "no restarted actor did any work"  # the killed actor came back and took its document
    assert data_files(out) == data_files(reference)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["complete"] and run["counts"]["done"] == 6


def _actor_pids() -> list[int]:
    """The pids of the cluster's live corpus actors (their processes are named ray::CorpusActor)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().decode(errors="replace")
        except OSError:
            continue
        if command.startswith("ray::CorpusActor"):
            pids.append(int(entry))
    return pids
