import signal
import sys


def _interrupted_early(signum, frame) -> None:
    # Ctrl-C while the command line is still being imported: nothing has started yet.
    sys.stderr.write("\nInterrupted: nothing was done\n")
    raise SystemExit(130)


signal.signal(signal.SIGINT, _interrupted_early)

from toolkit.cli import main  # noqa: E402  (main installs the handler for the commands themselves)

main()
