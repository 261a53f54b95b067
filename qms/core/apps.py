from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "qms.core"
    label = "core"
    verbose_name = _("Kernel")

    def ready(self):
        from django.urls import register_converter

        from .codes import CodeConverter

        # <code:...> in URL patterns: codes typed by people, percent-encoded into one path segment.
        register_converter(CodeConverter, "code")

        from axes.signals import user_locked_out

        from . import importers, jobs_registration  # noqa: F401  (registers import kinds and jobs)
        from .security import on_axes_lockout

        user_locked_out.connect(on_axes_lockout, dispatch_uid="qms.core.axes_lockout")
