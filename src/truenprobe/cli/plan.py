"""`truenprobe plan`: the site's flows and forwards, for people and for routers."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from truenprobe.cli.options import scenario_options
from truenprobe.cli.output import emit
from truenprobe.plan.model import Scenario
from truenprobe.plan.render_rules import RouterAddresses, render_iptables, render_nft
from truenprobe.plan.resolve import resolve
from truenprobe.plan.serialize import plan_to_dict


class PlanFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    NFT = "nft"
    IPTABLES = "iptables"
    HTML = "html"


@scenario_options
def plan_command(
    fmt: Annotated[
        PlanFormat | None,
        typer.Option(
            "--format",
            "-f",
            help=(
                "Output format (html: a printable work order with the site drawn). "
                "Default: table in a terminal, json otherwise."
            ),
            case_sensitive=False,
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
    camera_ip: Annotated[
        str | None, typer.Option("--camera-ip", help="nft/iptables: the camera's LAN address.")
    ] = None,
    client_ip: Annotated[
        str | None, typer.Option("--client-ip", help="nft/iptables: the client's LAN address.")
    ] = None,
    wan_if: Annotated[
        str | None, typer.Option("--wan-if", help="nft/iptables: the IP sharer's WAN interface.")
    ] = None,
    *,
    scenario: Scenario,
) -> None:
    """Show the flows a site needs and the forwards each IP sharer must have."""
    plan = resolve(scenario)
    if fmt is None:
        fmt = PlanFormat.TABLE if output is None and sys.stdout.isatty() else PlanFormat.JSON
    addresses = RouterAddresses(camera_ip=camera_ip, client_ip=client_ip, wan_if=wan_if)
    if fmt is PlanFormat.TABLE:
        from truenprobe.plan.render_text import plan_table  # rich: only when drawing

        emit(plan_table(plan), output)
    elif fmt is PlanFormat.JSON:
        emit(json.dumps(plan_to_dict(plan), indent=2) + "\n", output)
    elif fmt is PlanFormat.MARKDOWN:
        from truenprobe.plan.render_text import plan_markdown

        emit(plan_markdown(plan), output)
    elif fmt is PlanFormat.HTML:
        from truenprobe.report.html import render_plan_html  # only when drawing

        emit(render_plan_html(plan, prepared_at=datetime.now().astimezone()), output)
    elif fmt is PlanFormat.NFT:
        emit(render_nft(plan, addresses), output)
    else:
        emit(render_iptables(plan, addresses), output)
