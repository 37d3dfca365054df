"""Helpers for the teamwork tests: teammates' clones, remotes, a local OpenSSH server, the experiment
queue, cache checks and pausing a stage half-way so a test can kill it there."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from configobj import ConfigObj

from tests.support.dvc_project import DvcProject, stages_run

REMOTE = "team"  # the default remote .dvc/config ships


def clone(project: DvcProject, dest: Path) -> DvcProject:
    """A teammate's `git clone` of `project` (its committed state: code, params, dvc.lock, metrics)."""
    project.run("git", "clone", "-q", str(project.root), str(dest))
    teammate = DvcProject(dest)
    teammate.run("git", "config", "user.email", "teammate@example.com")
    teammate.run("git", "config", "user.name", "teammate")
    return teammate


def configure_locally(project: DvcProject, section: str, **options: str) -> None:
    """Set options in .dvc/config.local (git-ignored), as `dvc config --local` / `dvc remote modify
    --local` would, without a DVC start-up per option."""
    config = ConfigObj(str(project.root / ".dvc" / "config.local"))
    config.setdefault(section, {}).update(options)
    config.write()


def set_remote(project: DvcProject, url: str, name: str = REMOTE, **options: str) -> None:
    """Point remote `name` (by default the one .dvc/config ships) at `url`, locally."""
    configure_locally(project, f'remote "{name}"', url=url, **options)


def metrics_files(project: DvcProject) -> dict[str, bytes]:
    """Every JSON file under metrics/, by path, with its bytes."""
    return {str(p.relative_to(project.root)): p.read_bytes() for p in sorted(project.root.glob("metrics/**/*.json"))}


def data_status(project: DvcProject) -> dict:
    """`dvc data status --json` less git-untracked files (the test's own hook folders and logs)."""
    out = project.dvc("data", "status", "--granular", "--json").stdout
    status = json.loads(out) if out.strip() else {}
    status.pop("untracked", None)
    status.pop("git", None)
    return status


def run_cache_entries(project: DvcProject) -> list[str]:
    """The run-cache records (.dvc/cache/runs/<key>/<entry>) of a project with the default cache."""
    runs = project.root / ".dvc" / "cache" / "runs"
    return sorted(str(f.relative_to(runs)) for f in runs.rglob("*") if f.is_file())


def corrupt_cache_objects(cache_dir: Path) -> list[str]:
    """Cache objects whose content does not hash to their name (files/md5/ab/cdef...[.dir])."""
    bad = []
    for path in sorted((cache_dir / "files" / "md5").glob("*/*")):
        if path.name.endswith(".unpacked"):
            continue
        expected = path.parent.name + path.name.removesuffix(".dir")
        if hashlib.md5(path.read_bytes()).hexdigest() != expected:
            bad.append(str(path))
    return bad


def wait_for(predicate, timeout_s: float, what: str, interval_s: float = 0.2):
    """Poll `predicate` until it returns something truthy; fail after `timeout_s` saying `what`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


# --- the experiment queue -------------------------------------------------------------------------


def queue_statuses(project: DvcProject) -> dict[str, str]:
    """Experiment name -> status (Queued, Running, Success, Failed) from `dvc queue status`."""
    rows = project.dvc("queue", "status").stdout.splitlines()
    return {row.split()[1]: row.split()[-1] for row in rows[1:] if row.strip() and not row.startswith("Worker status")}


def experiment_refs(project: DvcProject) -> list[str]:
    """Git refs of finished experiments (refs/exps/<..>/<baseline>/<name>), not the queue's own refs."""
    refs = project.run("git", "for-each-ref", "--format=%(refname)", "refs/exps").stdout.split()
    return [ref for ref in refs if not ref.startswith("refs/exps/celery/")]


def wait_for_queue(project: DvcProject, count: int, timeout_s: float) -> dict[str, str]:
    """Block until `count` queued experiments have finished (or one failed); return the statuses.

    It watches git refs once a second (cheap) and asks `dvc queue status` (a DVC start-up, about a
    second of CPU) only every 10 s and at the end, so polling does not slow the experiments down.
    """
    polls = iter(range(10**6))

    def finished():
        if len(experiment_refs(project)) >= count:
            return True
        return next(polls) % 10 == 9 and "Failed" in queue_statuses(project).values()

    wait_for(finished, timeout_s, f"{count} queued experiments to finish", interval_s=1.0)

    def settled():
        statuses = queue_statuses(project)
        return statuses if statuses and not {"Queued", "Running"} & set(statuses.values()) else None

    return wait_for(settled, 60, "the experiment queue to settle", interval_s=2.0)


def queued_run_stages(project: DvcProject, name: str) -> list[str]:
    """The stages a finished queued experiment actually ran (not restored or skipped), from its log."""
    return stages_run(project.dvc("queue", "logs", name).stdout)


# --- a real OpenSSH server on 127.0.0.1 -------------------------------------------------------------


def sshd_binary() -> str | None:
    for candidate in (shutil.which("sshd"), "/usr/sbin/sshd"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class SshServer:
    """Debian's sshd in the foreground as a child process, with its own config, keys and port.

    It listens on 127.0.0.1 only, accepts only the key this object generates, for the current user,
    and serves SFTP (what dvc-ssh speaks). `stop()` ends it.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.user = getpass.getuser()
        self.keyfile = workdir / "id_ed25519"
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.log = workdir / "sshd.log"

    def _keygen(self, path: Path) -> None:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30)

    def _write_config(self) -> Path:
        host_key = self.workdir / "ssh_host_ed25519_key"
        self._keygen(host_key)
        self._keygen(self.keyfile)
        authorized = self.workdir / "authorized_keys"
        authorized.write_text(Path(f"{self.keyfile}.pub").read_text())
        authorized.chmod(0o600)
        config = self.workdir / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    "ListenAddress 127.0.0.1",
                    f"Port {self.port}",
                    f"HostKey {host_key}",
                    f"PidFile {self.workdir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {authorized}",
                    f"AllowUsers {self.user}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "UsePAM no",
                    "StrictModes no",
                    "MaxStartups 30",
                    "MaxSessions 30",
                    "Subsystem sftp internal-sftp",
                    "LogLevel VERBOSE",
                    "",
                ]
            )
        )
        return config

    def start(self, timeout_s: float = 20.0) -> SshServer:
        sshd = sshd_binary()
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
        self.port = free_port()
        config = self._write_config()
        subprocess.run([sshd, "-t", "-f", str(config)], check=True, capture_output=True, timeout=30)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(
                lambda: self.process.poll() is not None or port_open(self.port), timeout_s, f"sshd on port {self.port}"
            )
            if self.process.poll() is not None:
                raise AssertionError(f"sshd exited with {self.process.returncode}:\n{self.log.read_text()}")
        except BaseException:
            self.stop()
            raise
        return self

    def url(self, path: Path) -> str:
        return f"ssh://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


# --- killing a stage half-way ----------------------------------------------------------------------

# Imported by every Python process of the test's `dvc repro` (through PYTHONPATH); it acts only in the
# stage named by FMNIST_PAUSE_STAGE: once the stage has written all its outputs under temporary
# names and is about to rename them into place, it records its pid and sleeps, so the test can kill
# it at exactly that point.
PAUSE_HOOK = """
import os
import sys

if os.environ.get("FMNIST_PAUSE_STAGE") in sys.orig_argv:
    import time
    from pathlib import Path

    from fmnist import atomic

    _commit = atomic.StagedOutputs.commit

    def _paused_commit(self):
        Path(os.environ["FMNIST_PAUSE_MARKER"]).write_text(str(os.getpid()))
        time.sleep(float(os.environ.get("FMNIST_PAUSE_SECONDS", "120")))
        _commit(self)

    atomic.StagedOutputs.commit = _paused_commit
"""


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def kill_stage_half_way(
    project: DvcProject,
    stage: str,
    module: str,
    sig: signal.Signals,
    timeout_s: float = 120.0,
    dvc_only: bool = False,
    shell: str | None = None,
) -> int:
    """Run `dvc repro -f -s stage`, pause the stage before it renames its outputs into place, and send
    `sig` to the whole process group (dvc, the shell, the stage), as a scheduler or OOM killer would, or to
    DVC alone (`dvc_only`: `kill <pid of dvc>`). `shell` is the $SHELL DVC runs the command with.
    Returns the stage's pid, once it has exited."""
    hook_dir = project.root.parent / f"{project.root.name}-hook"
    hook_dir.mkdir(exist_ok=True)
    (hook_dir / "sitecustomize.py").write_text(PAUSE_HOOK)
    marker = hook_dir / "paused.pid"
    marker.unlink(missing_ok=True)
    env = {
        **project.env,
        "PYTHONPATH": f"{hook_dir}{os.pathsep}{project.env['PYTHONPATH']}",
        "FMNIST_PAUSE_STAGE": module,
        "FMNIST_PAUSE_MARKER": str(marker),
        **({"SHELL": shell} if shell else {}),
    }
    with open(hook_dir / "repro.log", "wb") as log:  # the child writes through its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "dvc", "repro", "-f", "-s", stage],
            cwd=project.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(
            lambda: marker.exists() and marker.read_text() or proc.poll() is not None,
            timeout_s,
            f"{stage} to reach its output commit",
        )
        if not marker.exists():
            raise AssertionError(
                f"{stage} ended before committing its staged outputs:\n{(hook_dir / 'repro.log').read_text()}"
            )
        stage_pid = int(marker.read_text())
        if dvc_only:
            os.kill(proc.pid, sig)
        else:
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)
        wait_for(lambda: not pid_alive(stage_pid), 30, f"stage process {stage_pid} to exit")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    return stage_pid
