"""A plan for people: a rich table for the terminal and a markdown checklist for an installer."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from truenprobe.plan.model import Host, Plan
from truenprobe.plan.words import (
    ROUTER_NAME,
    camera_ports_line,
    flow_path,
    forward_index,
    forward_text,
    host_name,
    ports_text,
    scenario_title,
    sentence_case,
)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def plan_table(plan: Plan) -> Group:
    s = plan.scenario
    flows = Table(title="Flows", title_justify="left", expand=False)
    for col in ("flow", "proto", "path", "ports", "required", "purpose"):
        flows.add_column(col, overflow="fold")
    for f in plan.flows:
        required = _yes(f.required) if f.supported else "not supported"
        flows.add_row(
            f.name, f.protocol.upper(), flow_path(f, s), ports_text(f.ports), required, f.purpose
        )

    forwards = Table(title="Forwards on the IP sharers", title_justify="left")
    for col in ("#", "IP sharer", "proto", "ports", "to", "required", "carries"):
        forwards.add_column(col, overflow="fold")
    for fw in plan.forwards:
        forwards.add_row(
            str(forward_index(plan, fw)),
            ROUTER_NAME[fw.router],
            fw.protocol.upper(),
            ports_text(fw.ports),
            f"{host_name(fw.to, s)}:{ports_text(fw.to_ports)}",
            _yes(fw.required),
            ", ".join(fw.serves),
        )

    parts: list[Text | Table] = [
        Text(scenario_title(s), style="bold"),
        Text(camera_ports_line(s)),
        flows,
    ]
    parts.append(forwards if plan.forwards else Text("No port forwarding needed."))
    parts.extend(Text(f"note: {n}", style="yellow") for n in plan.notes)
    return Group(*parts)


def plan_markdown(plan: Plan) -> str:
    """An installer's work order: one checklist per IP sharer, then the flows to verify."""
    s = plan.scenario
    lines = [f"# Port plan: {scenario_title(s)}", "", f"{sentence_case(camera_ports_line(s))}.", ""]
    for router in (Host.CAMERA, Host.CLIENT):
        if not s.is_private(router):
            continue
        lines.append(
            f"## {sentence_case(ROUTER_NAME[router])} (in front of the {host_name(router, s)})"
        )
        lines.append("")
        mine = [fw for fw in plan.forwards if fw.router is router]
        if not mine:
            lines.append("- Nothing to forward on this IP sharer.")
        for fw in mine:
            carries = ", ".join(fw.serves)
            lines.append(f"- [ ] #{forward_index(plan, fw)} {forward_text(fw, s)} — for {carries}")
        lines.append("")
    if not plan.routers():
        lines += ["## IP sharers", "", "- None: both ends have public addresses.", ""]
    lines += [
        "## Flows to verify",
        "",
        "| flow | protocol | path | ports | required | purpose |",
        "|---|---|---|---|---|---|",
    ]
    for f in plan.flows:
        required = _yes(f.required) if f.supported else "not supported"
        lines.append(
            f"| {f.name} | {f.protocol.upper()} | {flow_path(f, s)} | {ports_text(f.ports)} "
            f"| {required} | {f.purpose} |"
        )
    if plan.notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {n}" for n in plan.notes]
    return "\n".join(lines) + "\n"
