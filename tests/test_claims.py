"""The table of claims: every claim of the paper quoted verbatim, and the capacity claims gated."""

import os
import re
from pathlib import Path

import pytest

from ckatools.analysis.claims import CAPACITY, CLAIMS
from ckatools.analysis.verdicts import UNVERDICTED

ROOT = Path(__file__).resolve().parents[1]
PAPER = Path(os.environ.get("CKATOOLS_PAPER", ROOT.parent / "shared/paper/iclr2021-full-paper.txt"))


def _words(text: str) -> str:
    return " ".join(text.split())


def _unbroken(text: str) -> str:
    """The paper's text with words hyphenated across a line joined ("ac- curacy": accuracy)."""
    return re.sub(r"(\w)- (\w)", r"\1\2", _words(text))


def test_every_paper_claim_is_quoted_with_its_section_and_test():
    paper = [c for c in CLAIMS.values() if re.match(r"(Fig\.|Table) ", c.figure)]
    assert len(paper) == 20 and not set(CLAIMS) & set(UNVERDICTED)
    for claim in CLAIMS.values():
        assert claim.brief and claim.test and claim.unit, claim.figure
        assert claim.quote == _words(claim.quote), claim.figure  # one line of plain words
    for claim in paper:
        assert claim.quote and re.match(r"(Section|Appendix) [A-Z0-9]", claim.section), claim
    assert all(not c.quote for c in CLAIMS.values() if c not in paper)  # later work: unquoted


def test_capacity_claims_are_the_block_structure_claims():
    assert {"Fig. 1", "Fig. 2", "Fig. 3", "Fig. 5", "Fig. D.1", "Fig. E.1"} <= CAPACITY
    assert not {"Fig. 7", "Fig. F.1", "Table B.1", "Davari 2023, translation"} & CAPACITY


def test_fig_7_is_tested_for_equivalence_not_for_a_failed_difference():
    assert "two one-sided" in CLAIMS["Fig. 7"].test and "p >=" not in CLAIMS["Fig. 7"].test


@pytest.mark.skipif(not PAPER.exists(), reason=f"the paper's text is not at {PAPER}")
def test_quotes_are_verbatim_in_the_paper():
    text = _unbroken(PAPER.read_text())
    for claim in CLAIMS.values():
        if claim.quote:
            assert _unbroken(claim.quote) in text, claim.figure
