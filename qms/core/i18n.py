class LazyFormat:
    """A lazy translation with its %-parameters, rendered later in the reader's language
    (notifications are rendered per recipient, reports per requested language)."""

    def __init__(self, template, **params):
        self.template, self.params = template, params

    def __str__(self):
        return str(self.template) % self.params
