"""topolet: the Kubernetes 1.36 kubelet's topology, CPU and memory managers, and the tools around them."""

import os as _os
import sys as _sys

# Run as the console script: a Ctrl-C that comes while the package is still being imported ends
# quietly with 130, as everywhere else in the CLI (topolet.cli.main installs its own handling
# before a command runs). Installed here, the first topolet code to run, so that no import can
# come before it. Importing topolet as a library never touches the signal handlers.
if _sys.argv and _os.path.basename(_sys.argv[0]) in ("topolet", "kubectl-topolet"):
    import signal as _signal

    _signal.signal(_signal.SIGINT, lambda *_: _os._exit(130))
