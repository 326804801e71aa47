"""The node directory: a persistent simulated node (topology, kubelet configuration, pods, checkpoints).

Public API:

* :func:`resolve_node_dir` -- the directory a command works on (``--node``,
  ``$TOPOLET_NODE``, or the user-level default);
* :func:`load_node_readonly` -- the node's kubelet (:class:`~topolet.engine.node.Node`)
  restored from its directory, for read-only tools;
* :func:`load_node_dir_readonly` / :func:`open_node` -- the whole directory (pods,
  quotas, metadata), read-only or locked for a change;
* :func:`init_node` -- create a node directory.

The names are imported from :mod:`topolet.nodedir.store` on first use (importing
``topolet.nodedir.errors`` stays cheap).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ENV_NODE",
    "NoNodeError",
    "NodeDir",
    "NodeDirError",
    "NodeStartError",
    "default_node_dir",
    "init_node",
    "load_node_dir_readonly",
    "load_node_readonly",
    "open_node",
    "resolve_node_dir",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'topolet.nodedir' has no attribute {name!r}")
    from topolet.nodedir import store

    value = getattr(store, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
