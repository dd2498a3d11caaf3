"""Peak-memory readings the benches share (Linux /proc, with getrusage where /proc is missing)."""

from __future__ import annotations

import resource


def reset_peak() -> bool:
    """Reset this process's peak RSS (VmHWM) where Linux allows it; False where it does not."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_mib() -> float:
    """This process's peak RSS in MiB since the last reset_peak (VmHWM), else since it started (ru_maxrss)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
