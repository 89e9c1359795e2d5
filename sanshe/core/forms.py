from __future__ import annotations

from typing import Any

from django import forms

BLANK = "---------"


class PlatformForm:
    """Mixin: empty choices read “请选择” instead of Django's dashes."""

    fields: dict[str, Any]

    def localise_blank_choices(self) -> None:
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField) and field.empty_label == BLANK:
                field.empty_label = "请选择"
            elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
                choices: list[Any] = list(field.choices)  # type: ignore[arg-type]
                if choices and choices[0][1] == BLANK:
                    field.choices = [("", "请选择"), *choices[1:]]
