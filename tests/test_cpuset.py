from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paths import CORPUS
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


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("9223372036854775808", 'parsing "9223372036854775808": value out of range'),
        ("0-9223372036854775807", "beyond any machine's CPU IDs"),
        ("70000", "beyond any machine's CPU IDs"),
    ],
)
def test_huge_cpu_ids_are_errors_not_a_set_beyond_memory(bad: str, message: str) -> None:
    with pytest.raises(CPUSetError, match=message.replace("(", r"\(")):
        parse_bits(bad)
    assert parse_bits("0-65535").bit_count() == 65536


def test_scenario_expecting_a_huge_cpu_id_is_an_error_naming_the_file(tmp_path: Path) -> None:
    """Found by the fuzz campaign: a MemoryError (an internal error) in `topolet test`."""
    import yaml
    from typer.testing import CliRunner

    from topolet.cli.main import app

    src = next(p for p in sorted((CORPUS / "pod-level").glob("*.yaml")))
    docs = [d for d in yaml.safe_load_all(src.read_text()) if isinstance(d, dict)]
    sc = docs[0]
    for step in sc["spec"]["steps"]:
        for c in (step.get("expect") or {}).get("containers", {}).values():
            if isinstance(c, dict) and "cpus" in c:
                c["cpus"] = "9223372036854775808"
    f = tmp_path / "scenario.yaml"
    f.write_text(yaml.safe_dump(sc))
    r = CliRunner().invoke(app, ["test", str(f)])
    assert r.exit_code in (1, 3), r.output
    assert "internal error" not in r.output and "value out of range" in r.output, r.output


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
