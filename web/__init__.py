"""The HTTPS pages: bottle on cheroot threads inside the daemon (see docs/web.md)."""
