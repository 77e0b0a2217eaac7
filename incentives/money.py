"""Money rounding: the one rule, applied once, at the end."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from calls.numbers import rounded
from calls.rational import Rational

# Minor units per ISO 4217; a currency not listed here has cents.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "TWD": 2, "CNY": 2, "HKD": 2, "USD": 2, "EUR": 2}


def minor_unit(currency: str) -> int:
    """Decimal places of the currency's minor unit (CNY: 2, fen; JPY: 0)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def round_money(amount, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit (CNY: 0.01, fen).

    Half-up, not banker's rounding, because that is what payroll and the agents' own arithmetic do:
    a computed 1,020.005 pays 1,020.01. Called once per amount, after gates and caps, never on
    intermediate values. ``amount`` is a Decimal, or the exact rational scoring computes (a bonus ×
    a score of thirds is no finite decimal: a ``Fraction`` or scoring's ``Rational``); a float is
    refused.
    """
    places = minor_unit(currency)
    if isinstance(amount, Fraction | Rational):
        return rounded(amount, places)
    if not isinstance(amount, Decimal):
        raise TypeError(f"Money must be Decimal, got {type(amount).__name__}")
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
