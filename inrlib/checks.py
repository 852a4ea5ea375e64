"""Argument checks shared by the core: each returns the value, or raises an error that names the
argument, the value it got and what it takes. Nothing is rounded, clamped or converted from text."""
import math
import numbers


def whole(name: str, value, low: int = 1) -> int:
    """An integer >= low (bools, floats such as 8.0 and strings are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number >= {low}, got {value!r} "
                        f"({type(value).__name__}){_as_int_hint(value)}")
    if value < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    return int(value)


def _as_int_hint(value) -> str:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return ""
    return f": pass {int(f)}" if math.isfinite(f) and f == int(f) and not isinstance(value, bool) else ""


def real(name: str, value, low: float | None = None, strict: bool = True) -> float:
    """A finite real number; with `low`, > low (`strict`) or >= low."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if low is not None and (v <= low if strict else v < low):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {low:g}, got {value!r}")
    return v


def flag(name: str, value) -> bool:
    """True or False (no truthy strings: "no" is not False)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return value


def one_of(name: str, value, choices) -> object:
    """One of `choices` (a collection of names)."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def span(name: str, value) -> tuple:
    """A (low, high) pair of finite numbers with low < high."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a (low, high) pair of numbers, got {value!r}")
    lo, hi = (real(f"{name}[{i}]", v) for i, v in enumerate(value))
    if not hi > lo:
        raise ValueError(f"{name} must be (low, high) with low < high, got {tuple(value)}")
    return lo, hi
