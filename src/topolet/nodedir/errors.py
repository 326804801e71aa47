"""The node directory's errors (imported by the CLI without loading the engine)."""

from __future__ import annotations


class NodeDirError(Exception):
    """A node directory that cannot be used; ``message`` is what the CLI prints after ``error:``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NoNodeError(NodeDirError):
    """No node in the directory: the message says how to create one."""


class NodeExistsError(NodeDirError):
    """``node init``: a node already exists in the directory (or another ``node init`` just created one)."""


class NodeStartError(NodeDirError):
    """The kubelet refuses to start on this node (its own message, file paths of this node directory)."""
