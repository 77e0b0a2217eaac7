"""Simplified Chinese number formats that override Django's (``FORMAT_MODULE_PATH``); every other
format (dates: 2026年10月5日) is Django's own.

Django groups Chinese digits by four with no separator (万 grouping, 1700000.00). Payroll slips, bank
statements and spreadsheets in mainland China group amounts by three with a comma (1,700,000.00), as
the Unicode CLDR data for zh does; HR compares the page with those, so the page groups the same way.
"""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
