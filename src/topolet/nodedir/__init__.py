"""The node directory: a persistent simulated node (topology, kubelet configuration, pods, checkpoints).

Public API:

* :func:`resolve_node_dir` -- the directory a command works on (``--node``,
  ``$TOPOLET_NODE``, or the user-level default);
* :func:`load_node_readonly` -- the node's kubelet (:class:`~topolet.engine.node.Node`)
  restored from its directory, for read-only tools;
* :func:`load_node_dir_readonly` / :func:`open_node` -- the whole directory (pods,
  quotas, metadata), read-only or locked for a change;
* :func:`init_node` -- create a node directory.
"""

from topolet.nodedir.store import (
    ENV_NODE,
    NodeDir,
    NodeDirError,
    NodeStartError,
    NoNodeError,
    default_node_dir,
    init_node,
    load_node_dir_readonly,
    load_node_readonly,
    open_node,
    resolve_node_dir,
)

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
