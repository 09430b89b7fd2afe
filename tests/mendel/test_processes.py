"""The processes the project starts may hold as many sockets as the system allows."""

from __future__ import annotations

import resource
import subprocess
import sys

from mendel import processes


def test_a_started_process_may_open_as_many_files_as_the_hard_limit_allows():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowered = min(256, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowered, hard))  # as a fresh login shell might
    try:
        proc = processes.start([sys.executable, "-c", "import resource; "
                                "print(*resource.getrlimit(resource.RLIMIT_NOFILE))"], log=subprocess.PIPE)
        out, _ = proc.communicate(timeout=30)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert out.split() == [str(hard), str(hard)]
