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

from truenprobe.lab.matrix import Expect, MatrixRow, matrix_cells, run_matrix

pytestmark = [pytest.mark.netns, pytest.mark.slow]

CELLS = matrix_cells(stage_s=3.0)
JOBS = max(4, 2 * (os.cpu_count() or 1))

# Cells that disagree for a reason outside the lab, each with what would fix it. Strict:
# when the fix lands the cell agrees, this test fails, and the entry must go. None now:
# the client-to-camera UDP flows are proven from a fresh port (no conntrack entry to ride
# on), and the prober explains NAT loopback.
KNOWN: dict[str, str] = {}


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


def test_an_omitted_optional_forward_fails_its_flow_by_name_and_the_verdict_passes(rows):
    """The matrix says it in so many words: 'pass; optional <flow> fails naming #N'."""
    optional = [r for r in rows.values() if r.cell.expect is Expect.OPTIONAL_FAIL]
    assert optional
    for row in optional:
        assert row.judgement.agree, (row.cell.name, row.judgement.why)
        report = row.result.report
        assert report is not None
        assert report["verdict"] == "pass"
        named = [r for r in report["results"] if r["status"] == "fail" and r["forward"]]
        assert named
        assert all(not r["required"] and not r["forward"]["required"] for r in named)
        assert row.judgement.why.startswith("pass; optional ")


def test_client_to_camera_udp_is_proven_from_a_fresh_port(rows):
    """With the camera-side UDP forward omitted, the return flow fails: its evidence says
    it was sent from a port the camera never sent to, so no conntrack entry let it in."""
    for name in (
        "decoder/rtsp/udp cam=private cli=private -#2",
        "vlc/rtsp/udp cam=private cli=public -#2",
    ):
        row = rows[name]
        assert row.judgement.agree, row.judgement.why
        report = row.result.report
        assert report is not None
        back = next(r for r in report["results"] if r["flow"] in ("rtcp-return", "video-return"))
        assert back["status"] == "fail"
        assert "a port the camera never sent to" in back["evidence"]["method"]
