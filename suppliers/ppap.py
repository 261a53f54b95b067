"""The 18 PPAP elements of the AIAG PPAP manual (4th edition) and which each submission level requires.

Pure data and functions, no ORM. Table 4.2 of the manual: S = submit to the customer and retain,
R = retain and make available on request, * = retain and submit on request (level 4: as the customer
defines). Here "required" means the customer (we) must review the element before the PSW is approved:
S elements for levels 1-3, the level-3 set for level 4 (customer-defined, adjustable), and every
element for level 5 (all reviewed at the supplier's manufacturing location).
"""

from django.utils.translation import gettext_lazy as _

ELEMENTS: dict[int, object] = {
    1: _("Design records"),
    2: _("Authorised engineering change documents"),
    3: _("Customer engineering approval"),
    4: _("Design FMEA"),
    5: _("Process flow diagram"),
    6: _("Process FMEA"),
    7: _("Control plan"),
    8: _("Measurement system analysis studies"),
    9: _("Dimensional results"),
    10: _("Records of material / performance test results"),
    11: _("Initial process studies"),
    12: _("Qualified laboratory documentation"),
    13: _("Appearance approval report (AAR)"),
    14: _("Sample production parts"),
    15: _("Master sample"),
    16: _("Checking aids"),
    17: _("Customer-specific requirements"),
    18: _("Part submission warrant (PSW)"),
}
PSW = 18
# Physical elements: kept at the supplier or shipped as parts, so no file is needed to submit them.
PHYSICAL = {14, 15, 16}

# AIAG table: per level, the elements to submit (S). Everything else is retained (R).
_SUBMIT = {
    1: {13, 18},
    2: {1, 2, 9, 10, 12, 13, 14, 18},
    3: {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 17, 18},
    4: {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 17, 18},
    5: set(ELEMENTS),
}


def element_name(number: int) -> str:
    return str(ELEMENTS.get(number, number))


def required_elements(level: int) -> set[int]:
    if level not in _SUBMIT:
        raise ValueError(f"PPAP level must be 1 to 5, not {level}")
    return set(_SUBMIT[level])
