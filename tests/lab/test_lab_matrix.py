"""The whole matrix, once: every scenario of the document in every topology passes with the
plan's forwards, and each omitted forward is named (needs root, ip, nft, smcrouted).

The cells run concurrently in one fixture; each cell is then its own test, so a
disagreement names its cell and says why.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from tests.support.tools import require_netns, require_tools

from truenprobe.lab.matrix import MatrixRow, matrix_cells, run_matrix

pytestmark = [pytest.mark.netns, pytest.mark.slow]

CELLS = matrix_cells(stage_s=3.0)
JOBS = max(4, 2 * (os.cpu_count() or 1))

# Cells that disagree for a reason outside the lab, each with what would fix it. Strict:
# when the fix lands the cell agrees, this test fails, and the entry must go.
_PINHOLE = (
    "the prober proves the client-to-camera UDP flow after PLAY, when the camera has already "
    "sent from that port to the client: the camera-side IP sharer then lets the client's "
    "packets in as replies (conntrack), with or without the forward. Proving it after SETUP "
    "and before PLAY would show the missing forward (prober, issue 4)"
)
_NO_HAIRPIN_CALLS = (
    "the prober does not call truenprobe.probe.hairpin yet: detect_nat_loopback() in probe() "
    "and explain_nat_loopback() at the end of compare() (prober, issue 4)"
)
KNOWN: dict[str, str] = {
    "decoder/rtsp/udp cam=private cli=private -#2": _PINHOLE,
    "vlc/rtsp/udp cam=private cli=public -#2": _PINHOLE,
    "web/-/tcp cam=private cli=private client in camera LAN": _NO_HAIRPIN_CALLS,
    "decoder/rtsp/udp cam=private cli=private client in camera LAN": _NO_HAIRPIN_CALLS,
}


@pytest.fixture(scope="module")
def rows() -> dict[str, MatrixRow]:
    require_netns()
    require_tools("smcrouted")
    done = asyncio.run(run_matrix(CELLS, JOBS))
    return {row.cell.name: row for row in done}


@pytest.mark.timeout(1200)
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(c.name, marks=pytest.mark.xfail(reason=KNOWN[c.name], strict=True))
        if c.name in KNOWN
        else c.name
        for c in CELLS
    ],
)
def test_cell(rows, name):
    row = rows[name]
    if not row.judgement.agree:
        pytest.fail(row.judgement.why, pytrace=False)


def test_every_known_disagreement_is_a_cell():
    assert set(KNOWN) <= {c.name for c in CELLS}
