#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")
    from django.core.management import execute_from_command_line
    from django_scopes import scopes_disabled

    # Commands act for the system across sites (= qms.core.scoping.system_scope, which cannot be
    # imported before settings load). Web requests served by runserver open their own scope.
    with scopes_disabled():
        execute_from_command_line(sys.argv)
