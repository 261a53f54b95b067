class DomainError(Exception):
    """A rule of the domain refused the request. The message is shown to the user as is: say what is
    wrong and what to do."""

    def __init__(self, message, *, code: str = "", field: str | None = None):
        super().__init__(message)
        self.message = str(message)
        self.code = code
        self.field = field

    def __str__(self):
        return self.message


class PermissionRefused(DomainError):
    pass
