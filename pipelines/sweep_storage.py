"""Where a sweep's study lives and who runs its trials: opening the storage (sqlite in the work dir by default, an
optuna journal file or a database URL; the heartbeat with a database), each trial's owner process, and failing and
re-queuing the trials a killed process left RUNNING. See "Storage" and "Resuming" in ``pipelines/sweep.py``."""
from __future__ import annotations

import os
import socket
import time
import warnings
from pathlib import Path
from typing import Dict, List, Optional

from common.errors import InputError

HEARTBEAT_S, GRACE_S = 30, 120
OWNER_ATTR = "owner"          # user attribute of a trial: owner_id() of the process running it
MAX_RETRY = 1                 # a trial whose process died is run again once with the same parameters


def open_storage(spec: Optional[str], work_dir: Path):
    """(storage object, the URL or path to show, e.g. to ``optuna-dashboard``) for ``sweep.storage``."""
    import optuna

    if spec is not None and spec.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        from common.paths import repo_path

        path = repo_path(spec[len("journal:"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return JournalStorage(JournalFileBackend(str(path))), str(path)
        except Exception as e:
            raise InputError(f"sweep.storage: cannot open journal {path} ({type(e).__name__}: {e})") from None
    url = spec or f"sqlite:///{(Path(work_dir) / 'study.db').resolve()}"
    kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    for attempt in range(4):  # processes starting together race to create the tables: try again
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                storage = optuna.storages.RDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=HEARTBEAT_S,
                                                     grace_period=GRACE_S, heartbeat_stale_trial_callback=retry_trial)
            return storage, url
        except Exception as e:
            if attempt < 3 and type(e).__name__ == "OperationalError" and "already exists" in str(e):
                time.sleep(1.0 + attempt)
                continue
            msg = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
            raise InputError(f"sweep.storage: cannot open {url} ({type(e).__name__}: {msg})") from None


# ---------------------------------------------------------------------------------------------- owners
def _start_ticks(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart; "" elsewhere."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def owner_id(pid: Optional[int] = None) -> str:
    """``host:pid:start-time`` of the process ``pid`` (default: this one)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def owner_alive(owner: str) -> Optional[bool]:
    """Whether the process ``owner`` names still runs; None when it ran on another machine (unknown)."""
    try:
        host, pid, ticks = str(owner).rsplit(":", 2)
        pid = int(pid)
    except ValueError:
        return None
    if host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    return not ticks or _start_ticks(pid) in ("", ticks)


# ---------------------------------------------------------------------------------------------- trials
def retry_trial(study, trial) -> None:
    """Queue a trial whose process died again with the same parameters (at most ``MAX_RETRY`` times); the
    copy records the original in ``system_attrs`` like optuna's ``RetryHeartbeatStaleTrialCallback``."""
    import optuna

    history = list(trial.system_attrs.get("retry_history", [])) + [trial.number]
    if len(history) > MAX_RETRY:
        return
    study.add_trial(optuna.trial.create_trial(
        state=optuna.trial.TrialState.WAITING, params=trial.params, distributions=trial.distributions,
        user_attrs={k: v for k, v in trial.user_attrs.items() if k != OWNER_ATTR},
        system_attrs={"failed_trial": history[0], "retry_history": history}))


def fail_dead_trials(study) -> List[int]:
    """Mark FAIL (and re-queue) the RUNNING trials whose owner process on this machine is gone; their numbers."""
    from optuna.trial import TrialState

    failed = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = t.user_attrs.get(OWNER_ATTR)
        if owner is None or owner_alive(owner) is not False:
            continue
        try:
            study.tell(t.number, state=TrialState.FAIL)
        except (ValueError, RuntimeError):  # another process got there first
            continue
        failed.append(t.number)
        retry_trial(study, t)
    return failed


def count_trials(study) -> Dict[str, int]:
    """Trials per state: complete, pruned, failed, running, and running_here (by a live process on this machine)."""
    from optuna.trial import TrialState

    out = {s: 0 for s in ("complete", "pruned", "failed", "running", "running_here")}
    for t in study.get_trials(deepcopy=False):
        if t.state == TrialState.COMPLETE:
            out["complete"] += 1
        elif t.state == TrialState.PRUNED:
            out["pruned"] += 1
        elif t.state == TrialState.FAIL:
            out["failed"] += 1
        elif t.state == TrialState.RUNNING:
            out["running"] += 1
            if owner_alive(t.user_attrs.get(OWNER_ATTR, "")):
                out["running_here"] += 1
    return out
