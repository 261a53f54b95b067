from dataclasses import dataclass, field


@dataclass(frozen=True)
class Verdict:
    """The answer to a gate question (may this lot ship? may this supplier supply?): yes/no with reasons
    a user can read."""

    ok: bool
    reasons: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok

    @classmethod
    def from_reasons(cls, reasons) -> "Verdict":
        reasons = [str(r) for r in reasons if r]
        return cls(ok=not reasons, reasons=reasons)
