from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from topolet.model.quantity import Quantity, QuantityError, format_bytes, parse_bytes


@pytest.mark.parametrize(
    ("text", "milli", "string"),
    [
        ("1", 1000, "1"),
        ("100m", 100, "100m"),
        (0.1, 100, "100m"),  # a YAML float is read through its shortest repr
        ("0.1", 100, "100m"),
        (1.5, 1500, "1500m"),
        (2, 2000, "2"),
        ("1e3", 1_000_000, "1e3"),
        ("1E3", 1_000_000, "1e3"),
        ("1k", 1_000_000, "1k"),
        ("1500", 1_500_000, "1500"),
        ("100000", 100_000_000, "100k"),
        ("1Ki", 1_024_000, "1Ki"),
        ("1024Mi", 1_073_741_824_000, "1Gi"),
        ("1268Mi", 1268 * 1024 * 1024 * 1000, "1268Mi"),
        ("0.5Gi", 536_870_912_000, "512Mi"),
        ("1u", 1, "1u"),  # rounds up to a milli
        ("1n", 1, "1n"),
        (".5", 500, "500m"),
        ("+2", 2000, "2"),
        ("-1", -1000, "-1"),
        ("0", 0, "0"),
    ],
)
def test_parse_and_format(text: object, milli: int, string: str) -> None:
    q = Quantity.parse(text)
    assert q.milli_value() == milli
    assert str(q) == string


@pytest.mark.parametrize("bad", ["", "abc", "1.2.3", "1Kb", "Mi", "1 Gi", "1e", "--1", True, None, [1]])
def test_rejects_garbage(bad: object) -> None:
    with pytest.raises(QuantityError):
        Quantity.parse(bad)


def test_value_rounds_up() -> None:
    assert Quantity.parse("1001m").int_value() == 2
    assert Quantity.parse("0.0001").milli_value() == 1
    assert Quantity.parse("100m").as_int64() is None
    assert Quantity.parse("16Gi").as_int64() == 16 * 1024**3


def test_add_keeps_format_of_nonzero_receiver() -> None:
    zero = Quantity.parse("0")
    assert str(zero.add(Quantity.parse("1268Mi"))) == "1268Mi"
    assert str(Quantity.parse("1Gi").add(Quantity.parse("100Mi"))) == "1124Mi"
    assert str(Quantity.parse("1000").add(Quantity.parse("24Mi"))) == "25166824"


def test_bytes_helpers() -> None:
    assert parse_bytes("16Gi") == 17179869184
    assert parse_bytes(1024) == 1024
    assert format_bytes(17179869184) == "16Gi"
    assert format_bytes(6442450944) == "6Gi"
    assert format_bytes(1000) == "1k"


@given(st.integers(min_value=0, max_value=10**15))
def test_integer_milli_round_trip(n: int) -> None:
    q = Quantity.parse(f"{n}m")
    assert q.milli_value() == n
    assert Quantity.parse(str(q)).value == Fraction(n, 1000)


@given(st.integers(min_value=0, max_value=2**50))
def test_binary_format_round_trip(n: int) -> None:
    assert parse_bytes(format_bytes(n)) == n


@pytest.mark.parametrize(
    ("cpu", "integral"),
    [
        ("1", True),
        ("2", True),
        ("1000m", True),
        ("2000m", True),
        ("1.5", False),
        ("1500m", False),
        ("100m", False),
        ("0.0001", False),
        ("1001m", False),
        ("1e3", True),
        ("1k", True),
        ("0", True),
    ],
)
def test_integral_cpu_amount_as_the_kubelet(cpu: str, integral: bool) -> None:
    """``isIntegralCPUAmount``: Value()*1000 == MilliValue() (both rounded up)."""
    from topolet.engine.cpumanager.policy_static import is_integral_cpu_amount

    assert is_integral_cpu_amount(Quantity.parse(cpu)) is integral


def test_parsed_strings_are_kept_bounded_and_errors_are_not() -> None:
    from topolet.model import quantity as qmod

    a = Quantity.parse("2Gi")
    assert Quantity.parse("2Gi") is a
    assert Quantity.parse(" 2Gi ") == a  # the same value under another spelling
    for i in range(qmod._PARSED_MAX + 10):
        Quantity.parse(f"{i}m")
    assert len(qmod._PARSED) <= qmod._PARSED_MAX
    for _ in range(2):
        with pytest.raises(QuantityError):
            Quantity.parse("1x")
    assert "1x" not in qmod._PARSED
