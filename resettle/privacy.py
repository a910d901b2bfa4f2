"""Masking personal data for lists that must tell people apart without showing them in full."""

from __future__ import annotations


def mask_name(name: str | None) -> str:
    """A masked name (DOMAIN.md): 张三 → 张*, 王小明 → 王*明, 欧阳娜娜 → 欧**娜."""
    name = "".join((name or "").split())
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
