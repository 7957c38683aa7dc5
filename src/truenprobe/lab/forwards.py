"""Which forwards the lab's IP sharers get: the plan's or a site's own, minus omitted ones.

Forwards are numbered from 1 in the order they are given (the plan's JSON order, or the
file's), the numbers ``--omit-forward`` takes. A forwards file may give a rule's real
target with ``"to_ip"``, so a site's rule that points at the wrong LAN address is
rehearsed as it is. The lab may add test aids the plan does not need (the RTSP port the
prober drives as a traffic generator); they are marked, never numbered, and never stand
in for a forward under test.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from truenprobe.errors import InputFileError, ScenarioError
from truenprobe.files import load_structured
from truenprobe.lab.topology import Topology
from truenprobe.plan.model import Forward, Host, Plan, PortRange, Protocol, Transport
from truenprobe.plan.render_rules import is_multicast_forward
from truenprobe.plan.serialize import forwards_from_json
from truenprobe.plan.words import ROUTER_NAME, forward_text


@dataclass(frozen=True)
class SiteForward:
    """A forward as a site has it: the rule, and where it really points (None: the host)."""

    forward: Forward
    to_ip: str | None = None


@dataclass(frozen=True)
class LabRule:
    forward: Forward
    number: int | None  # 1-based among the forwards in use; None for a test aid
    to_ip: str  # the LAN address the IP sharer forwards to
    multicast: bool  # lets routed multicast in instead of a DNAT
    test_aid: str | None = None  # why the lab added it

    @property
    def label(self) -> str:
        if self.number is None:
            return "lab test aid"
        return f"#{self.number} {','.join(self.forward.serves) or 'site rule'}"


@dataclass(frozen=True)
class LabForwards:
    applied: tuple[LabRule, ...]
    omitted: tuple[LabRule, ...]
    source: str  # "plan" or "file <path>"
    notes: tuple[str, ...] = ()  # e.g. rules for an IP sharer this topology does not have

    def for_router(self, router: Host) -> tuple[LabRule, ...]:
        return tuple(r for r in self.applied if r.forward.router is router)

    @property
    def test_aids(self) -> tuple[LabRule, ...]:
        return tuple(r for r in self.applied if r.test_aid)


def load_site_forwards(path: Path) -> tuple[SiteForward, ...]:
    """A forwards file (plan JSON forward format, as JSON, YAML or TOML) with optional to_ip."""
    return parse_site_forwards(load_structured(path, "forwards file"), str(path))


def parse_site_forwards(data: object, where: str = "forwards") -> tuple[SiteForward, ...]:
    """A list of forwards, or a whole plan (its "forwards"), each with an optional to_ip."""
    if isinstance(data, Mapping) and "forwards" in data:
        data = data["forwards"]
    if not isinstance(data, list):
        raise InputFileError(f"{where}: expected a list of forwards or a plan")
    try:
        forwards = forwards_from_json(data)
    except InputFileError as exc:
        raise InputFileError(f"{where}: {exc.message}") from None
    out = []
    for i, (item, forward) in enumerate(zip(data, forwards, strict=True)):
        at = f"{where}: forwards[{i}]"
        if forward.to is not forward.router:
            raise InputFileError(
                f"{at}: the {ROUTER_NAME[forward.router]} can only forward into its own "
                f"LAN, to the {forward.router.value}"
            )
        to_ip = item.get("to_ip")
        if to_ip is not None:
            try:
                to_ip = str(ipaddress.IPv4Address(str(to_ip)))
            except ValueError:
                raise InputFileError(f"{at}.to_ip: {to_ip!r} is not an IPv4 address") from None
        out.append(SiteForward(forward, to_ip))
    return tuple(out)


def _check_omit(omit: Sequence[int], count: int, source: str) -> set[int]:
    for n in omit:
        if count == 0:
            raise ScenarioError(
                f"--omit-forward {n}: the {source} has no forwards (both ends public, or the "
                "transport needs none)"
            )
        if not 1 <= n <= count:
            raise ScenarioError(
                f"--omit-forward {n}: the {source} has {count} forward(s), numbered 1-{count}"
            )
    return set(omit)


def _in_lan(to_ip: str, host_ip: str) -> bool:
    net = ipaddress.ip_network(f"{host_ip}/24", strict=False)
    return ipaddress.IPv4Address(to_ip) in net


def select_forwards(
    plan: Plan,
    topology: Topology,
    *,
    site: Sequence[SiteForward] | None = None,
    site_source: str = "forwards file",
    omit: Sequence[int] = (),
) -> LabForwards:
    given = tuple(SiteForward(fw) for fw in plan.forwards) if site is None else tuple(site)
    source = "plan" if site is None else site_source
    omitted_numbers = _check_omit(omit, len(given), source)

    applied: list[LabRule] = []
    omitted: list[LabRule] = []
    notes: list[str] = []
    for number, item in enumerate(given, start=1):
        fw = item.forward
        host_ip = topology.camera.ip if fw.to is Host.CAMERA else topology.client.ip
        to_ip = item.to_ip or host_ip
        sharer = topology.sharer(fw.router)
        if sharer is not None and not _in_lan(to_ip, host_ip):
            raise InputFileError(
                f"{source}: forward #{number} points at {to_ip}, outside the "
                f"{fw.router.value}'s LAN {host_ip}/24 (give the lab that LAN with "
                f"--{fw.router.value}-ip)"
            )
        rule = LabRule(fw, number, to_ip, is_multicast_forward(fw, plan))
        if number in omitted_numbers:
            omitted.append(rule)
        elif sharer is None:
            notes.append(
                f"forward #{number} ({forward_text(fw, plan.scenario)}) was not applied: "
                f"the {fw.router.value} has no IP sharer in this lab"
            )
        else:
            applied.append(rule)
    applied += _test_aids(plan, topology, applied)
    return LabForwards(tuple(applied), tuple(omitted), source, tuple(notes))


def traffic_generator_forward(plan: Plan) -> Forward | None:
    """The camera's RTSP port, which the prober drives to make the camera send VSNM-range
    UDP or the VSNM multicast group (it cannot speak the proprietary protocol itself)."""
    s = plan.scenario
    if s.protocol is not Protocol.VSNM or s.transport is Transport.TCP:
        return None
    rtsp = PortRange.single(s.rtsp_port)
    return Forward(Host.CAMERA, "tcp", rtsp, Host.CAMERA, rtsp, required=False)


def _test_aids(plan: Plan, topology: Topology, applied: Sequence[LabRule]) -> list[LabRule]:
    aid = traffic_generator_forward(plan)
    if aid is None or topology.sharer(Host.CAMERA) is None:
        return []
    rtsp = aid.ports.first
    if any(
        r.forward.router is Host.CAMERA and r.forward.protocol == "tcp" and rtsp in r.forward.ports
        for r in applied
    ):
        return []
    why = (
        f"the camera-side IP sharer also forwards TCP {rtsp} to the camera so the prober can "
        f"use the camera's RTSP as a traffic generator for the {plan.scenario.transport.value} "
        "flows; the plan does not need this forward"
    )
    return [LabRule(aid, None, topology.camera.ip, False, test_aid=why)]
