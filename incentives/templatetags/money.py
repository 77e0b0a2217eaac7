"""Money on a page, in the active language's format: ``{% load money %}`` then
``{{ statement.amount|money:statement.currency }}`` gives ``1,700.00 CNY``."""

from decimal import Decimal

from django import template
from django.utils import formats
from django.utils.translation import gettext as _

from incentives.money import minor_unit, round_money

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """The amount rounded half-up to the currency's minor unit (the payout's own rule), its digits
    grouped with the active language's separators whatever ``USE_THOUSAND_SEPARATOR`` says (ids and
    years elsewhere on the page must stay ungrouped), then the currency. Empty for no amount; a float
    is refused by ``round_money``, as everywhere money is handled."""
    if amount is None or amount == "":
        return ""
    number = formats.number_format(
        round_money(amount, currency), minor_unit(currency), use_l10n=True, force_grouping=True
    )
    # Translators: an amount of money and its ISO currency code; reorder if the language puts the
    # currency first.
    return _("%(amount)s %(currency)s") % {"amount": number, "currency": currency}
