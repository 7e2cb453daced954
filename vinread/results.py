"""Result records of vinread and their JSON form (the documented schema)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Alternative:
    """A candidate character with its probability."""

    char: str
    p: float


@dataclass
class CharResult:
    """One VIN position: the chosen character, its probability, the runner-up candidates."""

    position: int
    char: str
    confidence: float
    alternatives: list[Alternative]


@dataclass
class VinResult:
    """What vinread says about one photo. ``status`` is one of
    ``valid``, ``invalid``, ``not_found`` or ``error``."""

    file: str | None
    vin: str | None = None
    status: str = "not_found"
    valid: bool = False
    check_digit: dict | None = None
    confidence: float = 0.0
    characters: list[CharResult] = field(default_factory=list)
    low_confidence_positions: list[int] = field(default_factory=list)
    corrections: list[dict] = field(default_factory=list)
    boxes: list[list[int]] = field(default_factory=list)
    angle: float = 0.0
    barcode: dict | None = None
    decoded: dict | None = None
    warnings: list[str] = field(default_factory=list)
    error: dict | None = None

    def to_dict(self) -> dict:
        """The JSON object of this result."""
        return asdict(self)


@dataclass
class GlyphResult:
    """What ``--single`` says about one character image."""

    file: str | None
    char: str | None = None
    ascii: int | None = None
    confidence: float = 0.0
    glyph_score: float = 0.0
    alternatives: list[Alternative] = field(default_factory=list)
    error: dict | None = None

    def to_dict(self) -> dict:
        """The JSON object of this result."""
        return asdict(self)


def error_dict(code: str, message: str) -> dict:
    """The ``error`` object: a machine-readable code and a one-line message."""
    return {"code": code, "message": message}
