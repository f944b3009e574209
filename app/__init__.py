"""wsmeasure: open firmware for Mini Energy Web Server 10/32 class boxes."""

__version__ = "0.1.0"
