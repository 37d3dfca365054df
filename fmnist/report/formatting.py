"""How the report writes numbers and settings in its tables and sentences."""

from __future__ import annotations


def fmt(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def fmt_diff(value: float) -> str:
    return f"{value:+.4f}"


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def fmt_params(params: dict | None) -> str:
    if not params:
        return ""
    return ", ".join(f"{k.split('__')[-1]}={v}" for k, v in sorted(params.items()))
