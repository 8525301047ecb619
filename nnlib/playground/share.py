"""A playground's settings as one short line of text, to copy, paste and send.

The TensorFlow Playground keeps its settings in the page's URL, so a link shows someone
else the same network on the same data. Here the same idea is a plain string a learner
can read and edit:

    dataset=spiral&hidden=8,8,8&activation=relu&learning_rate=0.01&epoch=200

Only the settings that differ from ``DEFAULTS`` are written, in ``DEFAULTS``' order.
Training is deterministic for given seeds, so ``epoch=N`` (optional) lets the receiver
train to the very same weights. Pasting ignores anything before a ``#`` or ``?`` (so a
copied link-like text works too) and refuses an unknown or malformed setting by name.
"""
from __future__ import annotations

from urllib.parse import quote, unquote

from .choices import DEFAULTS

__all__ = ["to_share", "parse_share"]

_LISTS = ("features", "hidden")
_SAFE = ",^*()._-"          # characters left as they are: feature names stay readable


def _format(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)


def to_share(settings, epoch=None):
    """The line for a dictionary of settings (and, if given, the epoch to train to)."""
    parts = [f"{key}={quote(_format(settings[key]), safe=_SAFE)}"
             for key in DEFAULTS if settings[key] != DEFAULTS[key]]
    if epoch:
        parts.append(f"epoch={int(epoch)}")
    return "&".join(parts)


def _parse_value(key, text):
    default = DEFAULTS[key]
    where = f"Playground share string: {key}={text!r}"
    if key in _LISTS:
        items = [t for t in text.split(",") if t != ""]
        if key == "hidden":
            try:
                return [int(t) for t in items]
            except ValueError:
                raise ValueError(f"{where}: expected layer widths separated by commas, e.g. hidden=4,2") from None
        return items
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"{where}: expected true or false")
        return text.lower() in ("true", "1")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{where}: expected a whole number") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{where}: expected a number") from None
    return text


def parse_share(text):
    """(settings changes, epoch) from a line made by ``to_share``; ValueError naming what is wrong."""
    if not isinstance(text, str):
        raise TypeError(f"Playground share string: expected a str, got {type(text).__name__}")
    text = text.strip()
    for mark in ("#", "?"):
        if mark in text:
            text = text.rsplit(mark, 1)[1]
    changes, epoch = {}, 0
    for part in (p for p in text.split("&") if p.strip()):
        if "=" not in part:
            raise ValueError(f"Playground share string: {part!r} is not key=value")
        key, value = (s.strip() for s in part.split("=", 1))
        value = unquote(value)
        if key == "epoch":
            if not value.isdigit():
                raise ValueError(f"Playground share string: epoch={value!r}: expected a whole number >= 0")
            epoch = int(value)
        elif key in DEFAULTS:
            changes[key] = _parse_value(key, value)
        else:
            raise ValueError(f"Playground share string: unknown setting {key!r}; "
                             f"the settings are {', '.join(DEFAULTS)} and epoch")
    return changes, epoch
