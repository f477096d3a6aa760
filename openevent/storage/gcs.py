"""The gcs storage: Google Cloud Storage. Not built yet: the stand-in below starts, and any use
says so."""


class NotBuiltStorage:
    """Stands in for a backend not built yet: the app starts, and any use says so."""

    def __init__(self, name: str, issue: str):
        self._message = f"{name} storage arrives with {issue}"

    def _refuse(self, *args, **kwargs):
        raise NotImplementedError(self._message)

    put = open = stat = delete = exists = url = verify_signed = list = _refuse


def from_settings(settings) -> NotBuiltStorage:
    return NotBuiltStorage("gcs", "issue 11")
