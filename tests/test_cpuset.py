import pytest
from hypothesis import given
from hypothesis import strategies as st

from topolet.model.cpuset import CPUSet, CPUSetError, format_bits, parse_bits


@pytest.mark.parametrize(
    ("text", "ids", "canonical"),
    [
        ("", [], ""),
        ("0", [0], "0"),
        ("0-3", [0, 1, 2, 3], "0-3"),
        ("0-3,8-11", [0, 1, 2, 3, 8, 9, 10, 11], "0-3,8-11"),
        ("3,1,2", [1, 2, 3], "1-3"),
        ("5,0-1,3", [0, 1, 3, 5], "0-1,3,5"),
        (" 2 , 4-5 ", [2, 4, 5], "2,4-5"),
        ("0-0", [0], "0"),
    ],
)
def test_parse_and_print(text: str, ids: list[int], canonical: str) -> None:
    s = CPUSet.parse(text)
    assert s.list() == ids
    assert str(s) == canonical


@pytest.mark.parametrize("bad", ["0-", "3-1", "a", "1,,2", "-1", "1-2-3"])
def test_parse_errors(bad: str) -> None:
    with pytest.raises(CPUSetError):
        parse_bits(bad)


def test_invalid_range_message() -> None:
    with pytest.raises(CPUSetError, match=r'invalid range "3-1" \(3 > 1\)'):
        parse_bits("3-1")


def test_algebra() -> None:
    a, b = CPUSet.parse("0-7"), CPUSet.parse("4-11")
    assert str(a | b) == "0-11"
    assert str(a & b) == "4-7"
    assert str(a - b) == "0-3"
    assert (a & b).is_subset_of(a)
    assert 5 in a and 9 not in a
    assert a.size() == 8 == len(a)


@given(st.sets(st.integers(min_value=0, max_value=600)))
def test_round_trip(ids: set[int]) -> None:
    s = CPUSet(ids)
    assert CPUSet.parse(str(s)) == s
    assert s.list() == sorted(ids)
    assert format_bits(parse_bits(str(s))) == str(s)
