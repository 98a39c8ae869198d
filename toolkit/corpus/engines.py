"""The engines that schedule a corpus's documents on workers: ``local`` and ``ray``.

Both take the tasks largest first, keep one document in flight per worker,
and call ``on_done(record)`` as each document ends. A document whose worker
dies is given to a worker again (up to MAX_ATTEMPTS times); a document that
fails in the application comes back as an error record and is not retried.

- ``local``: a pool of processes on this machine, each building its models once.
- ``ray``: Ray Core actors: a pool of embedder actors (CPU) that read and
  align, and, when the run translates, a separate pool of translator actors
  (CPU, or GPU with ``mt_gpus``) that machine-translate, score and write.
  Ray restarts a dead actor and retries its call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from toolkit.core.errors import ToolkitError
from toolkit.corpus.worker import DocRecord, Task, Worker, WorkerSetup

ENGINES = ("local", "ray")
MAX_ATTEMPTS = 3  # a document whose worker dies this many times is an error record


def default_workers() -> int:
    """Worker processes by default: one per CPU core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class EngineSettings:
    """How to run: the engine, the workers, and for Ray the cluster and the translators' resources."""

    engine: str = "local"
    workers: int | None = None      # default: one per core (local), the cluster's CPUs (ray)
    address: str | None = None      # ray: a running cluster's address (default: start a local one)
    mt_workers: int | None = None   # ray: translator actors (default: half the workers, at least 1)
    mt_gpus: float = 0.0            # ray: GPUs per translator actor

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
        if self.mt_workers is not None and self.mt_workers < 1:
            raise ValueError(f"mt_workers must be at least 1, got {self.mt_workers}")
        if self.mt_gpus < 0:
            raise ValueError(f"mt_gpus must not be negative, got {self.mt_gpus}")
        if self.engine != "ray" and (self.address or self.mt_gpus or self.mt_workers):
            raise ValueError("address, mt_workers and mt_gpus are options of the ray engine")


OnDone = Callable[[DocRecord], None]


def run_tasks(tasks: Sequence[Task], setup: WorkerSetup, settings: EngineSettings, on_done: OnDone) -> None:
    """Run every task on the engine ``settings`` names, largest first; ``on_done`` gets each record."""
    ordered = sorted(tasks, key=lambda t: (-t.size, t.doc_id))
    if not ordered:
        return
    if settings.engine == "ray":
        _run_ray(ordered, setup, settings, on_done)
    else:
        _run_local(ordered, setup, settings, on_done)


# ---------------------------------------------------------------------------
# local: a process pool

_WORKER: Worker | None = None


# Each worker computes with one thread, as Ray's one-CPU actors do: the workers share the cores,
# and sums taken in the same order give the same bits on both engines.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
                    "TF_NUM_INTEROP_THREADS")


def _init_process(setup: WorkerSetup) -> None:
    global _WORKER
    for variable in THREAD_VARIABLES:
        os.environ[variable] = "1"
    _WORKER = Worker(setup)


def _process(task: Task) -> DocRecord:
    return _WORKER.process(task)


def _died(task: Task, attempts: int) -> DocRecord:
    return DocRecord(doc_id=task.doc_id, status="error", key=task.key, size=task.size,
                     message=f"its worker died {attempts} times while processing it",
                     hint="the document may need more memory than a worker has; run it alone with bitext align")


def _run_local(tasks: list[Task], setup: WorkerSetup, settings: EngineSettings, on_done: OnDone) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    workers = min(settings.workers or default_workers(), len(tasks))
    # spawn: a fresh interpreter per worker (forking a process with threads, e.g. a progress bar's, can hang).
    context = multiprocessing.get_context("spawn")
    pending = list(tasks)
    attempts: dict[str, int] = {}
    while pending:
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_process,
                                   initargs=(setup,))
        in_flight: dict = {}
        broken = False
        try:
            while pending or in_flight:
                while pending and len(in_flight) < workers and not broken:
                    task = pending.pop(0)
                    attempts[task.doc_id] = attempts.get(task.doc_id, 0) + 1
                    in_flight[pool.submit(_process, task)] = task
                if not in_flight:
                    break
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in finished:
                    task = in_flight.pop(future)
                    try:
                        on_done(future.result())
                    except BrokenProcessPool:
                        broken = True
                        _retry_or_fail(task, attempts, pending, on_done)
                if broken:  # the other documents in flight died with the pool: they go again too
                    for future, task in in_flight.items():
                        _retry_or_fail(task, attempts, pending, on_done)
                    in_flight.clear()
                    break
        finally:
            pool.shutdown(wait=not broken, cancel_futures=True)


def _retry_or_fail(task: Task, attempts: dict, pending: list, on_done: OnDone) -> None:
    if attempts[task.doc_id] >= MAX_ATTEMPTS:
        on_done(_died(task, attempts[task.doc_id]))
    else:
        pending.insert(0, task)


# ---------------------------------------------------------------------------
# ray: actor pools


def _ray():
    try:
        import ray
    except ImportError as exc:
        raise ToolkitError(f"the ray engine needs Ray ({exc})",
                           "pip install 'bitext-toolkit[ray]', or use --engine local") from None
    return ray


def _actor_class(ray):
    class CorpusActor:
        """A worker as a Ray actor: one document in flight, models built once (and again after a restart)."""

        def __init__(self, setup: WorkerSetup, embed: bool, translate: bool):
            # One thread, as the local engine's workers (Ray gives a one-CPU actor OMP_NUM_THREADS=1 too);
            # set here rather than as a runtime_env, which would cost every actor a fresh worker process.
            for variable in THREAD_VARIABLES:
                os.environ[variable] = "1"
            self.worker = Worker(setup, embed=embed, translate=translate)

        def pid(self) -> int:
            return os.getpid()

        def process(self, task: Task) -> DocRecord:
            return self.worker.process(task)

        def align(self, task: Task):
            return self.worker.align(task)

        def finish(self, task: Task, aligned) -> DocRecord:
            return self.worker.finish(task, aligned)

    # A dead actor is started again (models and all) and its call retried, MAX_ATTEMPTS - 1 times.
    return ray.remote(max_restarts=-1, max_task_retries=MAX_ATTEMPTS - 1)(CorpusActor)


def _start_ray(ray, settings: EngineSettings) -> bool:
    """Connect to the cluster (or start a local one); True when this call started it."""
    if ray.is_initialized():
        return False
    kwargs = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if settings.address:
        ray.init(address=settings.address, **kwargs)
    else:
        ray.init(address="local", num_cpus=settings.workers or default_workers(), **kwargs)
    return True


def _run_ray(tasks: list[Task], setup: WorkerSetup, settings: EngineSettings, on_done: OnDone) -> None:
    ray = _ray()
    started = _start_ray(ray, settings)
    try:
        actor = _actor_class(ray)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        workers = max(1, min(settings.workers or cpus, len(tasks)))
        if setup.mt:
            mt_workers = settings.mt_workers or max(1, workers // 2)
            align_workers = max(1, workers - (0 if settings.mt_gpus else mt_workers))
            embedders = [actor.options(num_cpus=1).remote(setup, True, False) for _ in range(align_workers)]
            translator_options = {"num_gpus": settings.mt_gpus, "num_cpus": 0} if settings.mt_gpus else {"num_cpus": 1}
            translators = [actor.options(**translator_options).remote(setup, False, True) for _ in range(mt_workers)]
        else:
            embedders = [actor.options(num_cpus=1).remote(setup, True, True) for _ in range(workers)]
            translators = []
        _dispatch(ray, tasks, embedders, translators, on_done)
    finally:
        if started:
            ray.shutdown()


def _dispatch(ray, tasks: list[Task], embedders: list, translators: list, on_done: OnDone) -> None:
    """Feed idle actors one document each; with translators, aligned documents go on to them."""
    from ray.exceptions import RayActorError, RayTaskError

    pending, to_finish = list(tasks), []
    idle_embedders, idle_translators = list(embedders), list(translators)
    in_flight: dict = {}  # ref -> (stage, actor, task)
    while pending or to_finish or in_flight:
        while pending and idle_embedders:
            task, worker = pending.pop(0), idle_embedders.pop(0)
            ref = worker.align.remote(task) if translators else worker.process.remote(task)
            in_flight[ref] = ("align" if translators else "process", worker, task)
        while to_finish and idle_translators:
            (task, aligned_ref), worker = to_finish.pop(0), idle_translators.pop(0)
            in_flight[worker.finish.remote(task, aligned_ref)] = ("finish", worker, task)
        ready, _ = ray.wait(list(in_flight), num_returns=1)
        stage, worker, task = in_flight.pop(ready[0])
        (idle_translators if stage == "finish" else idle_embedders).append(worker)
        try:
            value = ray.get(ready[0])
        except (RayActorError, RayTaskError) as exc:  # the actor died more often than it may be retried
            on_done(DocRecord(doc_id=task.doc_id, status="error", key=task.key, size=task.size,
                              message=f"its worker died {MAX_ATTEMPTS} times while processing it ({type(exc).__name__})",
                              hint="the document may need more memory than a worker has; run it alone with bitext align"))
            continue
        if stage == "align" and not isinstance(value, DocRecord):
            to_finish.append((task, ready[0]))  # the aligned document stays in the object store
        else:
            on_done(value)
