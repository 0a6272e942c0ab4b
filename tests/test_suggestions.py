""""Did you mean" suggestions: the closest known name, within a budget of comparisons per spec."""
from __future__ import annotations

from convlint.suggestions import Suggestions


def test_a_repeated_question_is_charged_to_the_budget_each_time():
    known = ["kernel_size", "stride", "padding"]
    suggestions = Suggestions()
    affordable = Suggestions.MAX_COMPARISONS // len(known)
    answers = [suggestions.closest("kernl_size", known) for _ in range(affordable + 1)]
    assert answers == ["kernel_size"] * affordable + [None]


def test_the_same_name_among_other_names_gets_its_own_answer():
    suggestions = Suggestions()
    assert suggestions.closest("strid", ["stride", "padding"]) == "stride"
    assert suggestions.closest("strid", ["padding", "dilation"]) is None
    assert suggestions.closest("strid", ["strides", "stride"]) == "stride"
