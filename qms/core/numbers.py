"""One parser for decimals people type (inspection values, quantities, import cells, form fields).

`Decimal(text)` accepts "NaN", "Infinity", "1e999" and 40-digit numbers; the database refuses them
later with a traceback. `parse_decimal` refuses them up front with a message the user can act on,
bounded by the digits and decimal places of the model field the value is stored in.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .errors import DomainError

MAX_INPUT_LENGTH = 60


class NumberError(DomainError):
    pass


def parse_decimal(
    raw,
    *,
    label=None,
    max_digits: int = 14,
    decimal_places: int = 3,
    minimum=None,
    positive: bool = False,
    comma_decimal: bool = True,
) -> Decimal:
    """The finite Decimal that `raw` writes, rounded to nothing: more decimal places than the field
    keeps is refused, not silently rounded (a measurement must be stored as entered).

    Accepts "12.5", "-0.003", "1e-3", and with `comma_decimal` "12,5" (tablets set to Chinese or
    German keyboards). Raises NumberError with a readable message otherwise."""
    label = label or _("value")
    if isinstance(raw, Decimal):
        value = raw
        text = str(raw)
    else:
        text = "" if raw is None else str(raw).strip()
        if not text:
            raise NumberError(_("Enter the %(label)s.") % {"label": label})
        if len(text) > MAX_INPUT_LENGTH:
            raise NumberError(_("The %(label)s is not a number.") % {"label": label})
        if comma_decimal and "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            value = Decimal(text)
        except (InvalidOperation, ValueError):
            raise NumberError(
                _("The %(label)s “%(value)s” is not a number. Write digits with a dot for decimals, e.g. 12.5.")
                % {"label": label, "value": text[:MAX_INPUT_LENGTH]}
            ) from None
    if not value.is_finite():
        raise NumberError(
            _("The %(label)s “%(value)s” is not a finite number. Write digits with a dot for decimals, e.g. 12.5.")
            % {"label": label, "value": text[:MAX_INPUT_LENGTH]}
        )
    sign, digits, exponent = value.as_tuple()
    places = max(0, -exponent)
    if places > decimal_places:
        # Trailing zeros (12.5000000) are harmless: drop them before judging the precision.
        value = value.normalize()
        sign, digits, exponent = value.as_tuple()
        places = max(0, -exponent)
        if places > decimal_places:
            raise NumberError(
                _("The %(label)s %(value)s has more than %(n)s decimal places.")
                % {"label": label, "value": text[:MAX_INPUT_LENGTH], "n": decimal_places}
            )
    whole_digits = max(0, len(digits) + exponent)
    if value != 0 and whole_digits > max_digits - decimal_places:
        limit = Decimal(10) ** (max_digits - decimal_places)
        raise NumberError(
            _("The %(label)s %(value)s is too large; it must be smaller than %(limit)s.")
            % {"label": label, "value": text[:MAX_INPUT_LENGTH], "limit": f"{limit:,.0f}"}
        )
    if positive and value <= 0:
        raise NumberError(_("The %(label)s must be greater than zero.") % {"label": label})
    if minimum is not None and value < minimum:
        raise NumberError(_("The %(label)s must be at least %(min)s.") % {"label": label, "min": minimum})
    if value == 0:
        value = Decimal(0)  # 0E+3 and -0 are stored and shown as 0
    elif exponent > 0:
        value = value.quantize(Decimal(1))  # 1E+3 is shown as 1000
    return value


def parse_int_key(text, *, parts: int, prefix: str) -> tuple[int, ...] | None:
    """Field names such as "v-12-3" (prefix "v", two integers). None when the name has another shape,
    so a tampered or mistyped form field name is a refusal, not a ValueError."""
    pieces = str(text).split("-")
    if len(pieces) != parts + 1 or pieces[0] != prefix:
        return None
    numbers = []
    for p in pieces[1:]:
        if not p.isascii() or not p.isdigit() or len(p) > 9:
            return None
        numbers.append(int(p))
    return tuple(numbers)
