"""The transaction around each public function of the configuration rules (installation.py,
groupings.py): a write is all or nothing, a read sees one consistent state of config.db."""

from __future__ import annotations

import functools

from .models import bound


def writes(func):
    """One IMMEDIATE transaction per call, the models bound to the db given."""
    @functools.wraps(func)
    def wrapper(db, *args, **kwargs):
        with bound(db), db.atomic():
            return func(db, *args, **kwargs)
    return wrapper


def reads(func):
    """One consistent snapshot per call, without taking the write lock."""
    @functools.wraps(func)
    def wrapper(db, *args, **kwargs):
        with bound(db), db.atomic("DEFERRED"):
            return func(db, *args, **kwargs)
    return wrapper
