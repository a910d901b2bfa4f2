"""Masking personal data for lists that must tell people apart without showing them in full."""

from __future__ import annotations

#: Separators inside names (买买提·艾力, 玛丽·居里): kept as they are, never counted or masked.
NAME_SEPARATORS = "·•‧・.．"


def mask_name(name: str | None) -> str:
    """A masked name (DOMAIN.md): 张三 → 张*, 王小明 → 王*明, 欧阳娜娜 → 欧**娜,
    买买提·艾力 → 买**·*力: the first and last characters stay, separators stay, the rest is *."""
    name = "".join((name or "").split())
    letters = [i for i, ch in enumerate(name) if ch not in NAME_SEPARATORS]
    if len(letters) <= 1:
        return "".join(ch if ch in NAME_SEPARATORS else "*" for ch in name)
    keep = {letters[0]} if len(letters) == 2 else {letters[0], letters[-1]}
    return "".join(ch if (i in keep or ch in NAME_SEPARATORS) else "*" for i, ch in enumerate(name))
