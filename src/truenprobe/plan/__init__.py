"""The site's plan: scenario model, the document's rules as data, resolve(), renderers."""

from truenprobe.plan.model import (
    Client,
    Flow,
    Forward,
    Host,
    Media,
    Plan,
    PortRange,
    Protocol,
    Role,
    Scenario,
    Side,
    Stream,
    Transport,
)
from truenprobe.plan.resolve import resolve
from truenprobe.plan.scenario import build_scenario

__all__ = [
    "Client",
    "Flow",
    "Forward",
    "Host",
    "Media",
    "Plan",
    "PortRange",
    "Protocol",
    "Role",
    "Scenario",
    "Side",
    "Stream",
    "Transport",
    "build_scenario",
    "resolve",
]
