"""Why these CPUs, why rejected: the explanation of an admission, built from the engine (pure data)."""

from topolet.explain.core import Outcome, explain_outcome, explain_pod, explain_pods
from topolet.explain.model import Explanation, Suggestion

__all__ = ["Explanation", "Outcome", "Suggestion", "explain_outcome", "explain_pod", "explain_pods"]
